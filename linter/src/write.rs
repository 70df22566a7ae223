//! Atomic writes: fixed templates (many at a time) and the baseline.
//!
//! Each file goes to a temporary file in its own folder and is renamed over the original only
//! once it is on disk, so neither Ctrl-C nor a crash can leave a half-written template (a crash
//! at worst loses a rename: the old template stays whole). Flushing every file on its own is
//! what makes writing thousands of fixes slow on a journaled file system, one journal commit
//! each, so a batch is flushed with one `syncfs` per file system (Linux) before any rename.

use std::io::{self, Write as _};
use std::path::Path;

use tempfile::NamedTempFile;

/// Writes each `(path, bytes)` atomically, flushing the whole batch to disk once; results come
/// back in the same order.
pub fn write_batch(files: &[(&Path, &[u8])]) -> Vec<io::Result<()>> {
    let mut staged: Vec<io::Result<NamedTempFile>> = files
        .iter()
        .map(|(path, bytes)| stage(path, bytes))
        .collect();
    flush(&mut staged);
    staged
        .into_iter()
        .zip(files)
        .map(|(tmp, (path, _))| tmp?.persist(path).map(drop).map_err(|e| e.error))
        .collect()
}

/// Writes one file atomically (a batch of one).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_batch(&[(path, bytes)])
        .pop()
        .unwrap_or_else(|| Err(io::Error::other("nothing was written")))
}

/// The new content in a temporary file beside `path`, with the original's permissions; named
/// so that a file left behind by a killed run says where it came from.
fn stage(path: &Path, bytes: &[u8]) -> io::Result<NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tap-lint-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    Ok(tmp)
}

/// Puts every staged file on disk: one `syncfs` per file system on Linux, falling back to a
/// flush per file where that fails; a flush per file elsewhere. A file that cannot be flushed
/// becomes an error (and is never renamed).
fn flush(staged: &mut [io::Result<NamedTempFile>]) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt as _;
        // Devices already flushed, and whether that worked.
        let mut devices: Vec<(u64, bool)> = Vec::new();
        for entry in staged.iter_mut() {
            let Ok(tmp) = entry else { continue };
            let synced = match tmp.as_file().metadata() {
                Err(_) => false,
                Ok(meta) => match devices.iter().find(|(dev, _)| *dev == meta.dev()) {
                    Some(&(_, ok)) => ok,
                    None => {
                        let ok = rustix::fs::syncfs(tmp.as_file()).is_ok();
                        devices.push((meta.dev(), ok));
                        ok
                    }
                },
            };
            if !synced && let Err(e) = tmp.as_file().sync_all() {
                *entry = Err(e);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    for entry in staged.iter_mut() {
        if let Ok(tmp) = entry
            && let Err(e) = tmp.as_file().sync_all()
        {
            *entry = Err(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_replaces_every_file_and_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let a = dir.path().join("a.yaml");
        let b = dir.path().join("b.json");
        std::fs::write(&a, "old a").expect("write a");
        std::fs::write(&b, "old b").expect("write b");
        std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let results = write_batch(&[(a.as_path(), b"new a"), (b.as_path(), b"new b")]);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert_eq!(std::fs::read_to_string(&a).expect("read a"), "new a");
        assert_eq!(std::fs::read_to_string(&b).expect("read b"), "new b");
        let mode = std::fs::metadata(&a).expect("stat a").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left.len(), 2, "temporary files left behind: {left:?}");
    }

    #[test]
    fn a_file_that_cannot_be_written_fails_alone_and_is_left_as_it_was() {
        let dir = tempfile::tempdir().expect("temp dir");
        let good = dir.path().join("good.yaml");
        let missing = dir.path().join("no-such-folder").join("t.yaml");
        std::fs::write(&good, "old").expect("write");
        let results = write_batch(&[(missing.as_path(), b"x"), (good.as_path(), b"new")]);
        assert!(results[0].is_err());
        assert!(!missing.exists());
        assert!(results[1].is_ok());
        assert_eq!(std::fs::read_to_string(&good).expect("read"), "new");
    }
}
