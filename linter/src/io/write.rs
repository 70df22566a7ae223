//! Writing the user's files: fixed templates (many at a time), reports and the baseline.
//!
//! Each file goes to a temporary file in its own folder and is renamed over the original only
//! once it is on disk, so neither Ctrl-C nor a crash can leave a half-written template (a crash
//! at worst loses a rename: the old template stays whole). Flushing every file on its own is
//! what makes writing thousands of fixes slow on a journaled file system, one journal commit
//! each, so a batch is flushed with one `syncfs` per file system (Linux) before any rename.
//!
//! Three promises beyond atomicity:
//! - a fix never overwrites a change it did not see: the template is compared with the bytes
//!   the fix was made from just before the rename, under an exclusive `flock` that every
//!   tap-lint run takes, so two runs on one tree serialize their check-and-rename;
//! - temporary files never outlive the run: SIGINT and SIGTERM remove the ones in flight
//!   ([`install_signal_cleanup`]), and the files a `kill -9` leaves behind are removed by the
//!   next run that writes in that folder ([`Sweeper`]);
//! - new files get the permissions the user's umask gives, as every other tool's do; a fixed
//!   template keeps its own.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// Every temporary file tap-lint writes is named `.tap-lint-<pid>-<n>.tmp`: the pid tells a later
/// run whether the writer is still alive, and the shape tells which files are ours to remove.
const TEMP_PREFIX: &str = ".tap-lint-";
const TEMP_SUFFIX: &str = ".tmp";

/// Temporary files not yet renamed or removed, for the signal handler. Renames happen under the
/// same lock, so the handler never removes a file that has just become a template.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static NEXT: AtomicU64 = AtomicU64::new(0);

fn live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // A panic while holding the lock leaves a list that is still right: recover it.
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A temporary file of ours: removed when dropped unless [`TempFile::persist`] renamed it.
pub struct TempFile {
    path: PathBuf,
    file: File,
    persisted: bool,
}

impl TempFile {
    /// Creates an empty temporary file in `dir`, with the permissions the umask gives new files.
    pub fn create_in(dir: &Path) -> io::Result<TempFile> {
        let pid = std::process::id();
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o666);
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("{TEMP_PREFIX}{pid}-{n}{TEMP_SUFFIX}"));
            // Created and registered under the lock the signal handler holds until the process
            // exits: a file is either on the list it cleans or not created at all.
            let mut list = live();
            match options.open(&path) {
                Ok(file) => {
                    list.push(path.clone());
                    return Ok(TempFile {
                        path,
                        file,
                        persisted: false,
                    });
                }
                // A leftover of a dead run with our pid and number: take the next number.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    /// Renames the file over `target`.
    pub fn persist(mut self, target: &Path) -> io::Result<()> {
        let mut list = live();
        std::fs::rename(&self.path, target)?;
        list.retain(|p| *p != self.path);
        self.persisted = true;
        Ok(())
    }
}

impl Write for TempFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = std::fs::remove_file(&self.path);
            forget(&self.path);
        }
    }
}

fn forget(path: &Path) {
    live().retain(|p| p != path);
}

/// The folder a file is in, `.` for a bare file name: where its temporary file goes.
pub fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// On SIGINT and SIGTERM, removes the temporary files in flight and exits with 128 + the
/// signal's number, as the default action would. Templates are never half-written either way:
/// this only keeps the folders clean.
#[cfg(unix)]
pub fn install_signal_cleanup() -> io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Held to the exit, so no rename can start after the files are gone.
                let mut list = live();
                for path in list.drain(..) {
                    let _ = std::fs::remove_file(path);
                }
                std::process::exit(128 + signal);
            }
        })?;
    Ok(())
}

/// Signals keep their default action where there is no handler to install.
#[cfg(not(unix))]
pub fn install_signal_cleanup() -> io::Result<()> {
    Ok(())
}

/// Removes the temporary files that killed runs left behind, once per folder in a run.
pub struct Sweeper {
    started: SystemTime,
    seen: HashSet<PathBuf>,
}

impl Default for Sweeper {
    fn default() -> Self {
        Sweeper {
            started: SystemTime::now(),
            seen: HashSet::new(),
        }
    }
}

impl Sweeper {
    /// Removes our stale temporary files in `dir` (the first time it is asked about `dir`) and
    /// says how many. A file is stale when it is older than this run and the run that wrote it
    /// is gone (its pid is not alive); a file of a run still in progress is left alone.
    pub fn sweep(&mut self, dir: &Path) -> usize {
        if !self.seen.insert(dir.to_path_buf()) {
            return 0;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(stem) = name
                .strip_prefix(TEMP_PREFIX)
                .and_then(|n| n.strip_suffix(TEMP_SUFFIX))
            else {
                continue;
            };
            // `entry.metadata` does not follow symlinks: a link is never ours.
            let Ok(meta) = entry.metadata() else { continue };
            let older = meta.modified().is_ok_and(|m| m < self.started);
            if meta.is_file()
                && older
                && !writer_alive(stem)
                && std::fs::remove_file(entry.path()).is_ok()
            {
                removed += 1;
            }
        }
        removed
    }
}

/// Whether the run that named a temporary file `<pid>-<n>` may still be writing it. Names of
/// another shape (tap-lint before 2026-12 used random ones) have no live writer.
fn writer_alive(stem: &str) -> bool {
    let Some(pid) = stem
        .split_once('-')
        .and_then(|(pid, n)| n.parse::<u64>().ok().and(pid.parse::<u32>().ok()))
    else {
        return false;
    };
    pid == std::process::id() || process_exists(pid)
}

#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    // EPERM: it exists but is someone else's.
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

#[cfg(not(unix))]
fn process_exists(_pid: u32) -> bool {
    true
}

/// One file to write.
#[derive(Clone, Copy, Debug)]
pub struct Job<'a> {
    /// Where (a regular file: callers resolve symlinks first).
    pub path: &'a Path,
    pub bytes: &'a [u8],
    /// The content `path` must still have for the write to happen (what a fix was made from);
    /// `None` writes whatever is there.
    pub expected: Option<&'a [u8]>,
}

/// Why a file was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file no longer has the content the new bytes were made from.
    #[error("the file changed while it was being fixed")]
    Changed,
    /// The file system refused.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Writes each job atomically, flushing the whole batch to disk once; results come back in the
/// same order.
pub fn write_batch(jobs: &[Job<'_>]) -> Vec<Result<(), WriteError>> {
    let mut staged: Vec<io::Result<TempFile>> =
        jobs.iter().map(|j| stage(j.path, j.bytes)).collect();
    flush(&mut staged);
    staged
        .into_iter()
        .zip(jobs)
        .map(|(tmp, job)| replace(tmp?, job.path, job.expected))
        .collect()
}

/// Writes one file atomically (a batch of one), whatever it holds now.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let job = Job {
        path,
        bytes,
        expected: None,
    };
    match write_batch(&[job]).pop() {
        Some(Ok(())) => Ok(()),
        Some(Err(WriteError::Io(e))) => Err(e),
        Some(Err(e @ WriteError::Changed)) => Err(io::Error::other(e)),
        None => Err(io::Error::other("nothing was written")),
    }
}

/// Renames `tmp` over `path` if `path` still holds `expected`. The comparison and the rename
/// happen under an exclusive lock on the file that is at `path`: another tap-lint run waiting
/// for the same lock then finds the new content and redoes its fix instead of overwriting it.
fn replace(tmp: TempFile, path: &Path, expected: Option<&[u8]>) -> Result<(), WriteError> {
    let Some(expected) = expected else {
        return Ok(tmp.persist(path)?);
    };
    let mut current = match lock_current(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(WriteError::Changed),
        Err(e) => return Err(e.into()),
    };
    let mut now = Vec::with_capacity(expected.len());
    // One byte more than expected is enough to know it grew.
    (&mut current)
        .take(expected.len() as u64 + 1)
        .read_to_end(&mut now)?;
    if now != expected {
        return Err(WriteError::Changed);
    }
    tmp.persist(path)?;
    drop(current);
    Ok(())
}

/// Opens the file at `path` and locks it exclusively; retries when the file was replaced while
/// waiting for the lock, so the lock held is always on the file that is there now.
fn lock_current(path: &Path) -> io::Result<File> {
    loop {
        let file = File::open(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)?;
            let (held, there) = (file.metadata()?, std::fs::metadata(path)?);
            if (held.dev(), held.ino()) != (there.dev(), there.ino()) {
                continue;
            }
        }
        return Ok(file);
    }
}

/// The new content in a temporary file beside `path`, with the original's permissions when
/// there is an original.
fn stage(path: &Path, bytes: &[u8]) -> io::Result<TempFile> {
    let mut tmp = TempFile::create_in(folder_of(path))?;
    tmp.write_all(bytes)?;
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.file().set_permissions(meta.permissions())?;
    }
    Ok(tmp)
}

/// Puts every staged file on disk: one `syncfs` per file system on Linux, falling back to a
/// flush per file where that fails; a flush per file elsewhere. A file that cannot be flushed
/// becomes an error (and is never renamed).
fn flush(staged: &mut [io::Result<TempFile>]) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt as _;
        // Devices already flushed, and whether that worked.
        let mut devices: Vec<(u64, bool)> = Vec::new();
        for entry in staged.iter_mut() {
            let Ok(tmp) = entry else { continue };
            let synced = match tmp.file().metadata() {
                Err(_) => false,
                Ok(meta) => match devices.iter().find(|(dev, _)| *dev == meta.dev()) {
                    Some(&(_, ok)) => ok,
                    None => {
                        let ok = rustix::fs::syncfs(tmp.file()).is_ok();
                        devices.push((meta.dev(), ok));
                        ok
                    }
                },
            };
            if !synced && let Err(e) = tmp.file().sync_all() {
                *entry = Err(e);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    for entry in staged.iter_mut() {
        if let Ok(tmp) = entry
            && let Err(e) = tmp.file().sync_all()
        {
            *entry = Err(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn job<'a>(path: &'a Path, bytes: &'a [u8]) -> Job<'a> {
        Job {
            path,
            bytes,
            expected: None,
        }
    }

    #[test]
    fn a_batch_replaces_every_file_and_keeps_its_permissions() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = dir.path().join("a.yaml");
        let b = dir.path().join("b.json");
        std::fs::write(&a, "old a").expect("write a");
        std::fs::write(&b, "old b").expect("write b");
        std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let results = write_batch(&[job(&a, b"new a"), job(&b, b"new b")]);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert_eq!(std::fs::read_to_string(&a).expect("read a"), "new a");
        assert_eq!(std::fs::read_to_string(&b).expect("read b"), "new b");
        let mode = std::fs::metadata(&a).expect("stat a").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        assert_eq!(names(dir.path()), ["a.yaml", "b.json"]);
    }

    #[test]
    fn a_file_that_cannot_be_written_fails_alone_and_is_left_as_it_was() {
        let dir = tempfile::tempdir().expect("temp dir");
        let good = dir.path().join("good.yaml");
        let missing = dir.path().join("no-such-folder").join("t.yaml");
        std::fs::write(&good, "old").expect("write");
        let results = write_batch(&[job(&missing, b"x"), job(&good, b"new")]);
        assert!(results[0].is_err());
        assert!(!missing.exists());
        assert!(results[1].is_ok());
        assert_eq!(std::fs::read_to_string(&good).expect("read"), "new");
    }

    #[test]
    fn a_file_that_changed_since_it_was_read_is_not_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.yaml");
        std::fs::write(&path, "edited by someone else").expect("write");
        let results = write_batch(&[Job {
            path: &path,
            bytes: b"fixed",
            expected: Some(b"original"),
        }]);
        assert!(
            matches!(results[..], [Err(WriteError::Changed)]),
            "{results:?}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "edited by someone else"
        );
        assert_eq!(names(dir.path()), ["t.yaml"]);
        let same = write_batch(&[Job {
            path: &path,
            bytes: b"fixed",
            expected: Some(b"edited by someone else"),
        }]);
        assert!(same.iter().all(Result::is_ok), "{same:?}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "fixed");
    }

    #[test]
    fn a_dropped_temporary_file_is_removed_and_forgotten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let tmp = TempFile::create_in(dir.path()).expect("create");
        let path = tmp.path.clone();
        assert!(live().contains(&path));
        drop(tmp);
        assert!(!path.exists());
        assert!(!live().contains(&path));
    }

    #[test]
    fn the_sweeper_removes_only_stale_files_of_our_naming() {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        // pid 0 is never a process a run could have; a random name is an older tap-lint's.
        for name in [".tap-lint-0-7.tmp", ".tap-lint-AbC123.tmp"] {
            std::fs::write(d.join(name), "left by a killed run").expect("write");
        }
        let alive = format!(".tap-lint-{}-999999.tmp", std::process::id());
        for name in [alive.as_str(), ".tap-lint-report", "t.tmp", "t.yaml"] {
            std::fs::write(d.join(name), "keep").expect("write");
        }
        std::os::unix::fs::symlink(d.join("t.yaml"), d.join(".tap-lint-0-8.tmp")).expect("link");
        // Files must be older than the run: start it a moment later.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut sweeper = Sweeper::default();
        assert_eq!(sweeper.sweep(d), 2);
        assert_eq!(sweeper.sweep(d), 0, "each folder is swept once per run");
        assert_eq!(
            names(d),
            [
                ".tap-lint-0-8.tmp",
                alive.as_str(),
                ".tap-lint-report",
                "t.tmp",
                "t.yaml"
            ]
        );
    }

    #[test]
    fn new_files_get_the_umask_permissions() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("report.json");
        write_atomic(&path, b"{}").expect("write");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        // The test process's umask decides; read it back the only portable way: from a file
        // std creates with its default 0o666.
        let probe = dir.path().join("probe");
        std::fs::write(&probe, "").expect("probe");
        let expected = std::fs::metadata(&probe)
            .expect("stat")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, expected);
    }
}
