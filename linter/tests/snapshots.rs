//! The human and JSON output on the bundled fixtures, pinned as reviewed snapshots.

mod common;

use common::{run, stdout, triples};

#[test]
fn noncompliant_json_human_output() {
    let out = run(&["--color", "never", "fixtures/noncompliant/template.json"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn noncompliant_yaml_human_output() {
    let out = run(&["--color", "never", "fixtures/noncompliant/template.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn noncompliant_json_report() {
    let out = run(&["--format", "json", "fixtures/noncompliant/template.json"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn json_and_yaml_variants_find_the_same_violations() {
    let json = run(&["--format", "json", "fixtures/noncompliant/template.json"]);
    let yaml = run(&["--format", "json", "fixtures/noncompliant/template.yaml"]);
    let (a, b) = (triples(&stdout(&json)), triples(&stdout(&yaml)));
    assert!(a.len() >= 28, "{a:?}");
    assert_eq!(a, b);
}

#[test]
fn noncompliant_fixture_exercises_every_rule() {
    let rules = run(&["rules"]);
    // Opt-in rules are planted too, and named so they run.
    let mut args = vec!["--format", "json"];
    let listing = stdout(&rules);
    for line in listing.lines().filter(|l| l.contains("(opt-in)")) {
        args.extend([
            "--extend-select",
            line.split_whitespace().next().unwrap_or_default(),
        ]);
    }
    args.push("fixtures/noncompliant/template.json");
    let out = run(&args);
    let found: std::collections::BTreeSet<String> =
        triples(&stdout(&out)).into_iter().map(|t| t.0).collect();
    let all: std::collections::BTreeSet<String> = stdout(&rules)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        // The suppression meta rules (TAP0xx) judge Metadata, not resources; the resource-schema
        // rules (TAP8xx) have their own fixture (tests/schema.rs), since the noncompliant fixture
        // must stay deployable to show the other rules' findings.
        .filter(|code| !code.starts_with("TAP0") && !code.starts_with("TAP8"))
        .map(str::to_string)
        .collect();
    let missing: Vec<&String> = all.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "rules the fixture never triggers: {missing:?}"
    );
}

#[test]
fn compliant_fixture_is_clean() {
    let out = run(&["--format", "json", "fixtures/compliant/template.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(triples(&stdout(&out)).is_empty());
}

#[test]
fn reference_stack_template_is_clean() {
    let out = run(&[
        "--fail-on",
        "info",
        "fixtures/reference-stack/TapStack.template.json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn cdk_assembly_findings_with_files_and_construct_paths() {
    let out = run(&["--format", "json", "fixtures/cdk.out"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let rows: Vec<String> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{} {} {} {}",
                f["file"].as_str().unwrap_or_default(),
                f["line"],
                f["column"],
                f["code"].as_str().unwrap_or_default(),
                f["resource"].as_str().unwrap_or_default(),
                f["cdk_path"].as_str().unwrap_or("-")
            )
        })
        .collect();
    insta::assert_snapshot!(rows.join("\n"));
    assert_eq!(
        doc["summary"]["files"], 3,
        "root, nested and Stage templates; never manifest, tree, assets or asset folders"
    );
}
