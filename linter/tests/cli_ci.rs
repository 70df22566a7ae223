//! The command line end to end: report pairs, atomic outputs, init, explain, config, baseline.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tap_lint(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tap-lint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        // The same fixed "today" as common::TODAY_EPOCH (this file does not share it).
        .env("SOURCE_DATE_EPOCH", "1796083200")
        .output()
        .expect("tap-lint runs")
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/s3/bucket-without-encryption.fail.yaml")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn several_reports_in_one_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ex = example();
    let ex = ex.to_str().expect("utf-8 path");
    let out = tap_lint(
        dir.path(),
        &[
            "--no-config",
            "--format",
            "json",
            "--format",
            "sarif",
            "--output",
            "r.sarif",
            "--format",
            "junit",
            "-o",
            "r.xml",
            ex,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is the JSON report");
    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("r.sarif")).expect("sarif written"),
    )
    .expect("SARIF is JSON");
    assert_eq!(
        json["findings"].as_array().map(Vec::len),
        sarif["runs"][0]["results"].as_array().map(Vec::len)
    );
    assert!(
        std::fs::read_to_string(dir.path().join("r.xml"))
            .expect("junit written")
            .ends_with("</testsuites>\n")
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tap-lint"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    let bad = tap_lint(dir.path(), &["--format", "json", "--format", "sarif", ex]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("more than one --format writes to stdout"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn statistics_replace_the_listing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tap_lint(
        dir.path(),
        &[
            "--no-config",
            "--statistics",
            example().to_str().expect("utf-8"),
        ],
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("TAP303  bucket-without-encryption"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("┌─"),
        "no snippets with --statistics: {stdout}"
    );
}

#[test]
fn init_writes_once_and_the_config_applies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = tap_lint(dir.path(), &["init"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let second = tap_lint(dir.path(), &["init"]);
    assert_eq!(second.status.code(), Some(2));
    assert!(text(&second.stderr).contains("already exists"));

    // A config in a parent folder is found from a subfolder, and its `ignore` applies.
    std::fs::write(
        dir.path().join(".tap-lint.yaml"),
        "ignore: [TAP702, TAP703, TAP303, TAP324]\nfail-on: error\n",
    )
    .expect("write");
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    let out = tap_lint(
        &sub,
        &["--format", "json", example().to_str().expect("utf-8")],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let codes: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, ["TAP101"], "{}", text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "TAP101 is an error");

    std::fs::write(
        dir.path().join(".tap-lint.yaml"),
        "ignore: [TAP702]\nfail_on: error\n",
    )
    .expect("write");
    let out = tap_lint(&sub, &[example().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(".tap-lint.yaml")
            && err.contains("unknown field `fail_on`")
            && err.contains(".tap-lint.yaml:2:1]"),
        "{err}"
    );
}

#[test]
fn explain_knows_the_meta_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tap_lint(dir.path(), &["explain", "unused-suppression"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).starts_with("TAP002 unused-suppression (warning"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn baseline_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(example(), dir.path().join("t.yaml")).expect("copy");
    let out = tap_lint(
        dir.path(),
        &["--no-config", "--write-baseline", "b.json", "t.yaml"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = tap_lint(
        dir.path(),
        &["--no-config", "--baseline", "b.json", "t.yaml"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout)
            .contains("15 finding(s) hidden by the baseline; 0 baselined finding(s) fixed"),
        "{}",
        text(&out.stdout)
    );
    // The human listing shows what the summary counts: no baselined finding (they were all
    // listed when the snippets were rendered before the baseline filtered the findings).
    assert!(
        !text(&out.stdout).contains("┌─"),
        "baselined findings are listed:\n{}",
        text(&out.stdout)
    );
}
