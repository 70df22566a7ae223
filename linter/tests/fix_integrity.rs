//! No fix lost, no failure hidden: concurrent `--fix` runs never overwrite each other, a file
//! that cannot be written is an error in every report, a missing path is too, interrupted runs
//! leave no temporary files, and reports are created with the umask's permissions.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{root, run_in, stderr, stdout};

fn noncompliant() -> String {
    std::fs::read_to_string(root().join("fixtures/noncompliant/template.yaml")).expect("fixture")
}

fn tap_lint(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tap-lint"));
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("SOURCE_DATE_EPOCH", common::TODAY_EPOCH);
    c
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// `n` copies of the non-compliant template in `dir/tree/NNN/t.yaml`.
fn tree(dir: &Path, n: usize) -> Vec<PathBuf> {
    let text = noncompliant();
    (0..n)
        .map(|i| {
            let sub = dir
                .join(format!("tree/{:03}", i / 100))
                .join(format!("t{i}.yaml"));
            std::fs::create_dir_all(sub.parent().expect("parent")).expect("mkdir");
            std::fs::write(&sub, &text).expect("write");
            sub
        })
        .collect()
}

fn temp_files(dir: &Path) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".tap-lint-"))
        })
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("list").flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The rules whose fixes the two concurrent runs split between them.
const FIRST_HALF: [&str; 6] = ["TAP201", "TAP202", "TAP203", "TAP204", "TAP205", "TAP206"];

fn select_args(flag: &str) -> Vec<&str> {
    FIRST_HALF.iter().flat_map(|c| [flag, *c]).collect()
}

#[test]
fn two_concurrent_fix_runs_lose_no_fix() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // Expected: one run's fixes after the other's, on one file.
    std::fs::write(d.join("control.yaml"), noncompliant()).expect("write");
    for flag in ["--select", "--ignore"] {
        let mut args = vec!["--fix", "--fail-on", "never"];
        args.extend(select_args(flag));
        args.push("control.yaml");
        assert_eq!(
            tap_lint(d, &args).output().expect("run").status.code(),
            Some(0)
        );
    }
    let expected = std::fs::read_to_string(d.join("control.yaml")).expect("control");
    assert_ne!(expected, noncompliant());

    let files = tree(d, 1_500);
    let run = |flag: &str| {
        let mut args = vec!["--fix", "--fail-on", "never", "--format", "json"];
        args.extend(select_args(flag));
        args.push("tree");
        tap_lint(d, &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (a, b) = (run("--select"), run("--ignore"));
    let (a, b) = (
        a.wait_with_output().expect("a"),
        b.wait_with_output().expect("b"),
    );
    for out in [&a, &b] {
        let doc = json(out);
        // A file may only end as an error if it kept changing under the run; it then says so.
        for e in doc["errors"].as_array().expect("errors") {
            assert!(
                e["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("while it was being fixed"),
                "{e}"
            );
        }
    }
    let lost: Vec<&PathBuf> = files
        .iter()
        .filter(|f| std::fs::read_to_string(f).expect("read") != expected)
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} files lost a fix, e.g. {}",
        lost.len(),
        files.len(),
        lost[0].display()
    );
    assert_eq!(temp_files(d), Vec::<PathBuf>::new());
}

/// A run that cannot write in a read-only folder: as root (CI), permissions do not stop writes,
/// so the run drops to `nobody`, with a copy of the binary `nobody` can execute.
fn unprivileged(dir: &Path, args: &[&str]) -> Output {
    if effective_uid() != 0 {
        return tap_lint(dir, args).output().expect("run");
    }
    let bin = dir.join("tap-lint");
    if !bin.exists() {
        std::fs::copy(env!("CARGO_BIN_EXE_tap-lint"), &bin).expect("copy the binary");
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&bin)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("setpriv runs (util-linux)")
}

fn effective_uid() -> u32 {
    use std::os::unix::fs::MetadataExt as _;
    // The owner of a file this process creates is its effective user.
    let probe = tempfile::NamedTempFile::new().expect("probe");
    std::fs::metadata(probe.path()).expect("stat").uid()
}

#[test]
fn a_fixed_file_that_cannot_be_written_is_an_error_in_every_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let ro = d.join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    std::fs::write(ro.join("t.yaml"), noncompliant()).expect("write");
    for p in [d, ro.as_path()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    std::fs::set_permissions(ro.join("t.yaml"), std::fs::Permissions::from_mode(0o644))
        .expect("chmod");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    // The reports go to stdout: the folder for `--output` files would be read-only too.
    let out = unprivileged(
        d,
        &["--fix", "--fail-on", "never", "--format", "json", "ro"],
    );
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(2), "{doc}");
    let errors = doc["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{doc}");
    assert_eq!(errors[0]["file"], "ro/t.yaml");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("cannot write the fixed file: "),
        "{doc}"
    );
    assert_eq!(doc["summary"]["errors"], 1);
    assert!(
        doc["summary"]["findings"].as_u64().unwrap_or(0) > 0,
        "reported as it is on disk"
    );
    assert_eq!(
        std::fs::read_to_string(ro.join("t.yaml")).expect("read"),
        noncompliant()
    );
    assert!(
        !stderr(&out).contains("fixed "),
        "nothing claims to be fixed: {}",
        stderr(&out)
    );

    for (format, needle) in [
        ("sarif", "\"toolExecutionNotifications\""),
        ("junit", "<error"),
        ("human", "cannot write the fixed file"),
    ] {
        let out = unprivileged(d, &["--fix", "--format", format, "ro"]);
        assert_eq!(out.status.code(), Some(2), "{format}");
        let text = stdout(&out);
        assert!(
            text.contains(needle) && text.contains("cannot write the fixed file"),
            "{format}: {text}"
        );
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).expect("chmod back");
}

#[test]
fn a_path_that_does_not_exist_is_in_the_report_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("t.yaml"), noncompliant()).expect("write");
    let out = run_in(
        dir.path(),
        &[
            "--format",
            "json",
            "--fail-on",
            "never",
            "t.yaml",
            "missing.yaml",
        ],
    );
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(2), "{doc}");
    assert_eq!(doc["summary"]["errors"], 1, "{doc}");
    let errors = doc["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{doc}");
    assert_eq!(errors[0]["file"], "missing.yaml");
    assert_eq!(errors[0]["message"], "no such file or folder");
    let sarif = stdout(&run_in(dir.path(), &["--format", "sarif", "missing.yaml"]));
    assert!(
        sarif.contains("missing.yaml") && sarif.contains("no such file or folder"),
        "{sarif}"
    );
}

#[test]
fn sigint_and_sigterm_leave_no_temporary_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let caught = (0..3).any(|_| interrupt_while_writing(d, signal, code));
        assert!(
            caught,
            "no run was caught writing for SIG{signal}: nothing was tested"
        );
    }
}

/// Sends `signal` to a `--fix` run while fixed files are being written (their temporary files
/// are on disk: the moment a run without cleanup leaves them behind) and checks that none is
/// left; false if the run finished before it could be caught.
fn interrupt_while_writing(d: &Path, signal: &str, code: i32) -> bool {
    tree(d, 2_000);
    let mut child = tap_lint(
        d,
        &["--fix", "--unsafe-fixes", "--fail-on", "never", "tree"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn");
    let mut caught = false;
    while child.try_wait().expect("wait").is_none() {
        if !temp_files(d).is_empty() {
            Command::new("kill")
                .args([format!("-{signal}"), child.id().to_string()])
                .status()
                .expect("kill");
            caught = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let status = child.wait().expect("wait");
    if !caught {
        return false;
    }
    let left = temp_files(d);
    assert!(
        left.is_empty(),
        "after SIG{signal} ({status}): {} left, e.g. {}",
        left.len(),
        left[0].display()
    );
    // 128 + the signal, as the default action reports it; 0 if the run ended just before.
    assert!(
        matches!(status.code(), Some(0)) || status.code() == Some(code),
        "SIG{signal}: {status}"
    );
    for f in walk(&d.join("tree")) {
        let text = std::fs::read_to_string(&f).expect("read");
        assert!(text.contains("Resources:"), "{} is whole", f.display());
    }
    true
}

#[test]
fn the_next_run_removes_what_a_killed_run_left_and_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let files = tree(d, 3_000);
    // A real kill -9 in the middle of writing...
    let child = tap_lint(
        d,
        &["--fix", "--unsafe-fixes", "--fail-on", "never", "tree"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn");
    std::thread::sleep(Duration::from_millis(800));
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .expect("kill");
    let _ = child.wait_with_output();
    // ...and, so the test does not depend on when the kill landed, files of its naming left by
    // a dead run (pid 0 is never a live process; a random name is an older tap-lint's), next to
    // ones that are not ours or belong to a live writer.
    let folder = files[0].parent().expect("folder");
    for name in [".tap-lint-0-1.tmp", ".tap-lint-Xy12Ab.tmp"] {
        std::fs::write(folder.join(name), "half a template").expect("write");
    }
    let live = format!(".tap-lint-{}-1.tmp", std::process::id());
    for name in [live.as_str(), "notes.tmp"] {
        std::fs::write(folder.join(name), "keep").expect("write");
    }
    std::thread::sleep(Duration::from_millis(50));
    let out = tap_lint(
        d,
        &["--fix", "--unsafe-fixes", "--fail-on", "never", "tree"],
    )
    .output()
    .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "temporary file(s) left in {} by an interrupted tap-lint run",
            folder.strip_prefix(d).expect("relative").display()
        )),
        "{}",
        stderr(&out)
    );
    let left: Vec<PathBuf> = temp_files(d);
    assert_eq!(
        left,
        [folder.join(&live)],
        "only the live writer's file stays"
    );
    assert!(folder.join("notes.tmp").exists());
}

#[test]
fn reports_and_baselines_are_created_with_the_umask() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("t.yaml"), noncompliant()).expect("write");
    let bin = env!("CARGO_BIN_EXE_tap-lint");
    for (umask, mode) in [("022", 0o644), ("027", 0o640)] {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask} && exec '{bin}' --format json --output r.json --format sarif --output r.sarif --write-baseline b.json t.yaml"
            ))
            .current_dir(d)
            .output()
            .expect("sh");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        for name in ["r.json", "r.sarif", "b.json"] {
            let got = std::fs::metadata(d.join(name))
                .expect("stat")
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(got, mode, "{name} with umask {umask}");
            std::fs::remove_file(d.join(name)).expect("rm");
        }
    }
}
