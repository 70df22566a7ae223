//! Reading the user's files with a size limit that holds before a byte is read, on every path
//! that reads a template, manifest, configuration, baseline or rule file.

use std::io::{self, Read as _};
use std::path::Path;

/// Largest file read: CloudFormation itself accepts 1 MB, so 64 MiB leaves room without risking memory.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Larger than [`MAX_FILE_BYTES`].
    #[error(
        "file is {} MiB, larger than the {} MiB tap-lint reads",
        .bytes / (1024 * 1024),
        MAX_FILE_BYTES / (1024 * 1024)
    )]
    TooLarge {
        /// Its size (at least), in bytes.
        bytes: u64,
    },
    /// A device, pipe or socket: reading it could block forever or never end.
    #[error("not a regular file")]
    NotAFile,
    /// The file system refused.
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl ReadError {
    /// The error as a template's report states it (other callers prefix the `Display` form with
    /// what they were reading).
    pub fn message(&self) -> String {
        match self {
            ReadError::Io(e) => format!("cannot read the file: {e}"),
            other => other.to_string(),
        }
    }

    /// How to fix it, when there is something to say.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            ReadError::TooLarge { .. } => {
                Some("CloudFormation accepts templates of at most 1 MB; split the stack")
            }
            ReadError::NotAFile => Some("pass template files or folders"),
            ReadError::Io(_) => None,
        }
    }
}

/// Reads a whole file of at most [`MAX_FILE_BYTES`]. The size is checked on the open file
/// before reading, and the read itself stops one byte past the limit, so a file that grows in
/// between cannot take more memory either.
pub fn read_limited(path: &Path) -> Result<Vec<u8>, ReadError> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(ReadError::NotAFile);
    }
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let limit = MAX_FILE_BYTES as u64;
    if size > limit {
        return Err(ReadError::TooLarge { bytes: size });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            bytes: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// [`read_limited`] for text files (configuration, baselines, rule files).
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    String::from_utf8(read_limited(path)?)
        .map_err(|e| ReadError::Io(io::Error::new(io::ErrorKind::InvalidData, e)))
}
