//! Hostile input ends with a clear error or a correct result, in bounded time and memory, and
//! never a panic.

use tap_lint::finding::FileReport;
use tap_lint::rules::{RuleSet, Settings};
use tap_lint::run::lint::{self, LintOptions};

fn lint(name: &str, bytes: &[u8]) -> FileReport {
    let rules = RuleSet::builtin(&Settings::default()).expect("the embedded pack loads");
    lint::lint_bytes(name, bytes, &rules, LintOptions::default())
}

fn only_error(report: &FileReport) -> &str {
    assert_eq!(
        report.errors.len(),
        1,
        "expected one error, got {:?}",
        report.errors
    );
    &report.errors[0].message
}

#[test]
fn yaml_alias_bomb_is_rejected() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for level in 1..=9 {
        let refs = vec![format!("*a{}", level - 1); 9].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
    }
    text.push_str("Resources: {B: {Type: AWS::S3::Bucket, Properties: {Tags: *a9}}}\n");
    let report = lint("bomb.yaml", text.as_bytes());
    assert!(
        only_error(&report).contains("aliases expand to more than"),
        "{:?}",
        report.errors
    );
}

#[test]
fn deep_json_nesting_is_rejected() {
    let text = format!(
        "{{\"Resources\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let report = lint("deep.json", text.as_bytes());
    assert!(
        only_error(&report).contains("nesting deeper than"),
        "{:?}",
        report.errors
    );
}

#[test]
fn deep_yaml_flow_nesting_is_rejected() {
    let text = format!(
        "Resources: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let report = lint("deep.yaml", text.as_bytes());
    let message = only_error(&report);
    assert!(
        message.contains("nesting deeper than") || message.contains("invalid YAML"),
        "{message}"
    );
}

#[test]
fn deep_yaml_block_nesting_is_rejected() {
    let mut text = String::from("Resources:\n");
    for depth in 0..5_000 {
        text.push_str(&" ".repeat(depth + 1));
        text.push_str("k:\n");
    }
    let report = lint("deep-block.yaml", text.as_bytes());
    assert!(
        only_error(&report).contains("nesting deeper than"),
        "{:?}",
        report.errors
    );
}

#[test]
fn oversized_file_is_rejected_without_reading_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("huge.json");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(100 * 1024 * 1024).expect("sparse 100 MB file");
    let rules = RuleSet::builtin(&Settings::default()).expect("the embedded pack loads");
    let report = lint::lint_file(&path, &rules, LintOptions::default());
    assert!(
        only_error(&report).contains("larger than the 64 MiB"),
        "{:?}",
        report.errors
    );
}

#[test]
fn invalid_utf8_is_rejected_at_its_place() {
    let report = lint(
        "bad.yaml",
        b"Resources:\n  B:\n    Type: AWS::S3::Bucket\xff\n",
    );
    assert!(only_error(&report).contains("not valid UTF-8"));
    assert_eq!(
        (report.errors[0].line, report.errors[0].column),
        (Some(3), Some(26))
    );
}

#[test]
fn resources_as_a_list_is_rejected() {
    let report = lint("list.yaml", b"Resources:\n  - Type: AWS::S3::Bucket\n");
    assert!(only_error(&report).contains("`Resources` must be a mapping"));
}

#[test]
fn integer_mapping_keys_load() {
    let text = "Mappings:\n  Ports:\n    1: {port: 80}\n    2: {port: 443}\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n";
    let report = lint("int.yaml", text.as_bytes());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.name == "retain-deletion-policy" && f.line == 8)
    );
}

#[test]
fn duplicate_keys_are_rejected_with_both_places() {
    let text = "{\n \"Resources\": {\n  \"A\": {\"Type\": \"AWS::SQS::Queue\"},\n  \"A\": {\"Type\": \"AWS::SQS::Queue\"}\n }\n}\n";
    let report = lint("dup.json", text.as_bytes());
    assert_eq!(
        only_error(&report),
        "duplicate key `A` (first written at 3:3)"
    );
    assert_eq!(report.errors[0].line, Some(4));
    let yaml = lint(
        "dup.yaml",
        b"Resources:\n  A: {Type: AWS::SQS::Queue}\n  A: {Type: AWS::SQS::Queue}\n",
    );
    assert_eq!(
        only_error(&yaml),
        "duplicate key `A` (first written at 2:3)"
    );
}

#[test]
fn bom_is_skipped_and_positions_stay_right() {
    let text = "\u{feff}{\n \"Resources\": {\n  \"B\": {\"Type\": \"AWS::S3::Bucket\", \"DeletionPolicy\": \"Retain\"}\n }\n}\n";
    let report = lint("bom.json", text.as_bytes());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let f = report
        .findings
        .iter()
        .find(|f| f.name == "retain-deletion-policy")
        .expect("finding");
    assert_eq!((f.line, f.column), (3, 54));
}

#[test]
fn crlf_line_endings_load_with_right_lines() {
    let text = "Resources:\r\n  B:\r\n    Type: AWS::S3::Bucket\r\n    DeletionPolicy: Retain\r\n";
    let report = lint("crlf.yaml", text.as_bytes());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let f = report
        .findings
        .iter()
        .find(|f| f.name == "retain-deletion-policy")
        .expect("finding");
    assert_eq!((f.line, f.column, f.end_column), (4, 21, 27));
}

#[test]
fn non_ascii_text_keeps_character_columns() {
    let text = "Description: \"Überwachung – Lager\"\nResources:\n  B: {Type: AWS::S3::Bucket, DeletionPolicy: Retain} # ünïcödé\n";
    let report = lint("utf8.yaml", text.as_bytes());
    let f = report
        .findings
        .iter()
        .find(|f| f.name == "retain-deletion-policy")
        .expect("finding");
    assert_eq!((f.line, f.column), (3, 46));
}

#[test]
fn a_second_yaml_document_is_rejected() {
    let report = lint("two.yaml", b"Resources: {}\n---\nResources: {}\n");
    assert!(only_error(&report).contains("second YAML document"));
}

#[test]
fn unknown_short_form_tag_is_rejected_with_help() {
    let report = lint(
        "tag.yaml",
        b"Resources:\n  B:\n    Type: !Bogus AWS::S3::Bucket\n",
    );
    assert!(only_error(&report).contains("unknown tag `!Bogus`"));
    assert!(
        report.errors[0]
            .help
            .as_deref()
            .is_some_and(|h| h.contains("!Sub"))
    );
}
