//! tap-lint reads and writes only what it was given: cloud assembly manifests cannot point
//! outside their assembly, nested assemblies cannot make the walk loop, symbolic links are
//! fixed through only inside the linted tree, and the size limit holds before a byte is read.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{root, run_in, stdout};

/// Text no output may ever show: it stands for a secret outside the assembly.
const SECRET: &str = "SECRET-0f3b9e-DO-NOT-PRINT";

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create folder");
    }
    std::fs::write(path, text).expect("write");
}

fn noncompliant() -> String {
    std::fs::read_to_string(root().join("fixtures/noncompliant/template.yaml")).expect("fixture")
}

/// A cloud assembly folder (`manifest.json` + `tree.json`) with these artifacts.
fn assembly(dir: &Path, artifacts: &serde_json::Value) {
    let manifest = serde_json::json!({"version": "36.0.0", "artifacts": artifacts});
    write(&dir.join("manifest.json"), &manifest.to_string());
    write(&dir.join("tree.json"), "{}");
}

fn stack(template_file: &str) -> serde_json::Value {
    serde_json::json!({"type": "aws:cloudformation:stack", "properties": {"templateFile": template_file}})
}

fn nested(directory: &str) -> serde_json::Value {
    serde_json::json!({"type": "cdk:cloud-assembly", "properties": {"directoryName": directory}})
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).expect("valid JSON report")
}

fn error_messages(doc: &serde_json::Value) -> Vec<String> {
    doc["errors"]
        .as_array()
        .expect("errors array")
        .iter()
        .map(|e| format!("{}: {}", e["file"].as_str().unwrap_or(""), e["message"]))
        .collect()
}

/// Runs tap-lint in `dir`, killing it if it has not finished after a minute: a run that hangs
/// is the failure these tests guard against, so it must fail, not stall the suite.
fn run_bounded(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tap-lint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tap-lint starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tap-lint {args:?} did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn manifest_entries_outside_the_assembly_are_refused_without_showing_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let victim = d.join("outside/victim.yaml");
    let original = format!("# {SECRET}\n{}", noncompliant());
    write(&victim, &original);
    let absolute = d.join("outside/secret.txt");
    write(&absolute, &format!("{SECRET}: not a template\n"));
    assembly(
        &d.join("cdk.out"),
        &serde_json::json!({
            "Relative": stack("../outside/victim.yaml"),
            "Absolute": stack(absolute.to_str().expect("utf-8 path")),
        }),
    );
    for args in [
        &["--format", "json", "cdk.out"][..],
        &["--fix", "--unsafe-fixes", "--format", "json", "cdk.out"],
        &["cdk.out"],
        &["--diff", "cdk.out"],
    ] {
        let out = run_in(d, args);
        let all = format!("{}{}", stdout(&out), common::stderr(&out));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {all}");
        assert!(
            !all.contains(SECRET),
            "{args:?} showed the target's content: {all}"
        );
        assert!(
            all.contains("artifact `Relative`: templateFile `../outside/victim.yaml` resolves outside the cloud assembly"),
            "{args:?}: {all}"
        );
        assert!(all.contains("artifact `Absolute`: templateFile"), "{all}");
        if args[0] == "--format" {
            let doc = json(&out);
            assert_eq!(doc["summary"]["errors"], 2, "{doc}");
            assert_eq!(
                doc["summary"]["findings"], 0,
                "nothing outside was linted: {doc}"
            );
            assert!(
                error_messages(&doc)
                    .iter()
                    .all(|e| e.starts_with("cdk.out/manifest.json: ")),
                "{doc}"
            );
        }
    }
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        original,
        "--fix wrote outside the assembly"
    );
}

#[test]
fn a_template_symlinked_out_of_the_assembly_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let victim = d.join("outside/victim.yaml");
    write(&victim, &noncompliant());
    assembly(
        &d.join("cdk.out"),
        &serde_json::json!({"S": stack("S.template.json")}),
    );
    std::os::unix::fs::symlink(&victim, d.join("cdk.out/S.template.json")).expect("link");
    std::os::unix::fs::symlink(&victim, d.join("cdk.out/X.nested.template.json")).expect("link");
    let out = run_in(d, &["--fix", "--format", "json", "cdk.out"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(2), "{doc}");
    let errors = error_messages(&doc);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("artifact `S`: templateFile `S.template.json` resolves outside")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e
                .contains("the nested stack template `X.nested.template.json` resolves outside")),
        "{errors:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        noncompliant()
    );
}

#[test]
fn nested_assemblies_pointing_at_themselves_end_at_once_with_the_cycle_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // Four entries to "." made the old walk take 4^16 steps.
    assembly(
        &d.join("cdk.out"),
        &serde_json::json!({
            "A": nested("."), "B": nested("."), "C": nested("."), "D": nested("."),
            "Stack": stack("Stack.template.yaml"),
        }),
    );
    write(&d.join("cdk.out/Stack.template.yaml"), &noncompliant());
    let out = run_bounded(d, &["--format", "json", "cdk.out"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(2), "{doc}");
    let errors = error_messages(&doc);
    assert_eq!(errors.len(), 4, "{errors:?}");
    for name in ["A", "B", "C", "D"] {
        assert!(
            errors.iter().any(|e| e.contains(&format!(
                "nested assemblies form a cycle: {name} leads back to"
            ))),
            "{errors:?}"
        );
    }
    // The stack is linted once, not once per path to it.
    let files: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["file"].as_str())
        .collect();
    assert!(!files.is_empty());
    assert!(
        files.iter().all(|f| *f == "cdk.out/Stack.template.yaml"),
        "{files:?}"
    );
    assert_eq!(
        doc["summary"]["files"], 2,
        "the stack and the manifest: {doc}"
    );
}

#[test]
fn a_longer_cycle_is_named_entry_by_entry_and_a_shared_stage_is_read_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let top = d.join("cdk.out");
    assembly(
        &top,
        &serde_json::json!({"Outer": nested("assembly-Outer"), "Again": nested("assembly-Outer")}),
    );
    assembly(
        &top.join("assembly-Outer"),
        &serde_json::json!({"Inner": nested("assembly-Inner")}),
    );
    assembly(
        &top.join("assembly-Outer/assembly-Inner"),
        &serde_json::json!({"Back": nested(".."), "S": stack("S.template.yaml")}),
    );
    write(
        &top.join("assembly-Outer/assembly-Inner/S.template.yaml"),
        &noncompliant(),
    );
    let out = run_bounded(d, &["--format", "json", "cdk.out"]);
    let doc = json(&out);
    let errors = error_messages(&doc);
    assert_eq!(errors.len(), 1, "the shared stage is no cycle: {errors:?}");
    assert!(
        errors[0].contains("nested assemblies form a cycle: Inner -> Back leads back to"),
        "{errors:?}"
    );
    let findings = doc["findings"].as_array().expect("findings").len();
    let alone = json(&run_in(
        d,
        &[
            "--format",
            "json",
            "cdk.out/assembly-Outer/assembly-Inner/S.template.yaml",
        ],
    ));
    assert_eq!(
        findings,
        alone["findings"].as_array().expect("findings").len(),
        "linted once"
    );
}

#[test]
fn nesting_deeper_than_the_limit_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut here = dir.path().join("cdk.out");
    for level in 0..20 {
        assembly(
            &here,
            &serde_json::json!({format!("L{level}"): nested("sub")}),
        );
        here = here.join("sub");
    }
    let out = run_bounded(dir.path(), &["--format", "json", "cdk.out"]);
    let errors = error_messages(&json(&out));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("nested assemblies deeper than 16 levels"),
        "{errors:?}"
    );
}

#[test]
fn fix_writes_through_a_symlink_inside_the_tree_and_keeps_the_link() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    write(&d.join("tree/real/t.yaml"), &noncompliant());
    std::os::unix::fs::symlink("real/t.yaml", d.join("tree/link.yaml")).expect("link");
    // Expected: the same template fixed as a plain file.
    write(&d.join("plain/t.yaml"), &noncompliant());
    run_in(d, &["--fix", "plain/t.yaml"]);
    let expected = std::fs::read_to_string(d.join("plain/t.yaml")).expect("fixed");
    assert_ne!(expected, noncompliant());

    // Found by walking: linted once (under its own path), fixed once.
    let out = run_in(d, &["--fix", "--format", "json", "tree"]);
    let doc = json(&out);
    assert_eq!(doc["summary"]["files"], 1, "{doc}");
    assert_eq!(error_messages(&doc), Vec::<String>::new());
    assert!(
        std::fs::symlink_metadata(d.join("tree/link.yaml"))
            .expect("stat")
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(d.join("tree/real/t.yaml")).expect("target"),
        expected
    );

    // Named on the command line: fixed through the link.
    write(&d.join("tree/real/t.yaml"), &noncompliant());
    let out = run_in(d, &["--fix", "tree/link.yaml"]);
    assert!(
        std::fs::symlink_metadata(d.join("tree/link.yaml"))
            .expect("stat")
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(d.join("tree/real/t.yaml")).expect("target"),
        expected,
        "{}",
        common::stderr(&out)
    );
}

#[test]
fn fix_refuses_a_symlink_to_a_file_outside_the_tree() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    write(&d.join("outside/t.yaml"), &noncompliant());
    write(&d.join("tree/own.yaml"), &noncompliant());
    std::os::unix::fs::symlink("../outside/t.yaml", d.join("tree/out.yaml")).expect("link");

    // Walking the folder: the link is not followed, and says so.
    let out = run_in(d, &["--fix", "--format", "json", "tree"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(2), "{doc}");
    assert_eq!(
        error_messages(&doc),
        [
            "tree/out.yaml: \"a symbolic link to a file outside tree; tap-lint reads only inside the folders it is given\""
        ]
    );
    assert_ne!(
        std::fs::read_to_string(d.join("tree/own.yaml")).expect("own"),
        noncompliant(),
        "the rest is fixed"
    );

    // Named on the command line: linted (it was asked for), never written through.
    let out = run_in(d, &["--fix", "--format", "json", "tree/out.yaml"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(2), "{doc}");
    let errors = error_messages(&doc);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("cannot write the fixed file: it is a symbolic link to a file outside the folders being linted"), "{errors:?}");
    assert!(
        !doc["findings"].as_array().expect("findings").is_empty(),
        "reported from disk: {doc}"
    );
    assert!(
        std::fs::symlink_metadata(d.join("tree/out.yaml"))
            .expect("stat")
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(d.join("outside/t.yaml")).expect("outside"),
        noncompliant()
    );
}

/// Runs tap-lint with at most `mib` MiB of address space: a run that reads what it should refuse
/// runs out of memory instead of answering.
fn run_with_memory_limit(dir: &Path, mib: u64, args: &str) -> Output {
    let bin = env!("CARGO_BIN_EXE_tap-lint");
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {} && exec '{bin}' {args}", mib * 1024))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("sh runs")
}

#[test]
fn fix_refuses_an_oversized_file_before_reading_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let big = dir.path().join("big.yaml");
    // Sparse: 3 GiB on paper, nothing on disk.
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(3 << 30))
        .expect("sparse file");
    for args in [
        "--fix --format json big.yaml",
        "--diff big.yaml",
        "--format json big.yaml",
    ] {
        let out = run_with_memory_limit(dir.path(), 1024, args);
        let all = format!("{}{}", stdout(&out), common::stderr(&out));
        assert_eq!(out.status.code(), Some(2), "{args}: {all}");
        assert!(
            all.contains("file is 3072 MiB, larger than the 64 MiB tap-lint reads"),
            "{args}: {all}"
        );
    }
}
