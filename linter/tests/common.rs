//! Shared helpers: run the real `tap-lint` binary from the workspace root.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root, so paths in outputs read `fixtures/...`.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs tap-lint with arguments from the workspace root, without colour.
pub fn run(args: &[&str]) -> Output {
    run_in(&root(), args)
}

/// 2026-12-01T00:00:00Z: the "today" of every run, so rules dated against `today`
/// (deprecated runtimes) give the same findings and messages on any day.
pub const TODAY_EPOCH: &str = "1796083200";

/// Runs tap-lint in a folder.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tap-lint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("SOURCE_DATE_EPOCH", TODAY_EPOCH)
        .output()
        .expect("tap-lint runs")
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The (code, resource, pointer) triples of a JSON report, sorted.
pub fn triples(json: &str) -> Vec<(String, String, String)> {
    let doc: serde_json::Value = serde_json::from_str(json).expect("valid JSON output");
    let mut out: Vec<(String, String, String)> = doc["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("code"), s("resource"), s("pointer"))
        })
        .collect();
    out.sort();
    out
}
