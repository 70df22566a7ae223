//! The file system boundary: finding templates ([`discover`], never outside the paths given),
//! reading them under a size limit ([`read`]), and writing fixes and reports without losing
//! anyone's change ([`write`](mod@write)). Nothing else in the library opens a file, so the
//! containment promises (no read or write outside what the user gave) are kept here alone.

pub mod discover;
pub mod read;
pub mod write;

use std::path::{Path, PathBuf};

/// A path made absolute against the working directory, with `.` and `..` resolved lexically.
pub fn absolute(path: &Path) -> PathBuf {
    let joined = std::env::current_dir().map_or_else(|_| path.to_path_buf(), |cwd| cwd.join(path));
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}
