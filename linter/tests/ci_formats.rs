//! Every output format on the rule pack's failing S3 example, snapshotted; SARIF checked against
//! the official 2.1.0 schema.

use tap_lint::finding::FileReport;
use tap_lint::report::Summary;
use tap_lint::report::github::GithubWriter;
use tap_lint::report::human::Style;
use tap_lint::report::json::JsonWriter;
use tap_lint::report::junit::{JunitWriter, escape};
use tap_lint::report::sarif::SarifWriter;
use tap_lint::report::statistics::Statistics;
use tap_lint::rules::{RuleSet, Settings};
use tap_lint::run::lint::{LintOptions, lint_bytes};

const FILE: &str = "rules/s3/bucket-without-encryption.fail.yaml";

fn report(human: bool) -> (RuleSet, FileReport, Summary) {
    let rules = RuleSet::builtin(&Settings::default()).expect("built-in rules load");
    let bytes = std::fs::read(format!("../{FILE}")).expect("example exists");
    let opts = LintOptions {
        keep_source: human,
        fix_edits: true,
    };
    let report = lint_bytes(FILE, &bytes, &rules, opts);
    assert!(!report.findings.is_empty(), "the failing example must fail");
    let mut summary = Summary::default();
    summary.add(&report);
    (rules, report, summary)
}

fn sarif_text() -> String {
    let (rules, report, summary) = report(false);
    let mut w = SarifWriter::new(Vec::new(), &rules).expect("write");
    w.file(&report).expect("write");
    String::from_utf8(w.finish(&summary).expect("write")).expect("utf-8")
}

#[test]
fn human_snapshot() {
    let (_, report, _) = report(true);
    let source = report
        .source
        .as_deref()
        .expect("human output keeps the source");
    insta::assert_snapshot!(tap_lint::report::human::render(
        &report,
        source,
        Style { color: false }
    ));
}

#[test]
fn json_snapshot() {
    let (_, report, summary) = report(false);
    let mut w = JsonWriter::new(Vec::new()).expect("write");
    w.file(&report).expect("write");
    let text = String::from_utf8(w.finish(&summary).expect("write")).expect("utf-8");
    let _: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    insta::assert_snapshot!(text);
}

#[test]
fn github_snapshot() {
    let (_, report, _) = report(false);
    let mut w = GithubWriter::new(Vec::new());
    w.file(&report).expect("write");
    let text = String::from_utf8(w.finish()).expect("utf-8");
    assert_eq!(text.lines().count(), report.findings.len());
    insta::assert_snapshot!(text);
}

#[test]
fn junit_snapshot() {
    let (rules, report, _) = report(false);
    let mut w = JunitWriter::new(Vec::new(), &rules).expect("write");
    w.file(&report).expect("write");
    let text = String::from_utf8(w.finish().expect("write")).expect("utf-8");
    insta::assert_snapshot!(text);
}

#[test]
fn statistics_snapshot() {
    let (_, report, _) = report(false);
    let mut s = Statistics::default();
    s.add(&report);
    let mut out = Vec::new();
    s.write(&mut out).expect("write");
    insta::assert_snapshot!(String::from_utf8(out).expect("utf-8"));
}

#[test]
fn sarif_snapshot() {
    // The driver lists every rule; the snapshot keeps the results, where regressions show.
    let log: serde_json::Value = serde_json::from_str(&sarif_text()).expect("valid JSON");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert!(
        rules
            .iter()
            .any(|r| r["id"] == "TAP303" && r["helpUri"].is_string())
    );
    assert!(rules.iter().any(|r| r["id"] == "TAP001"));
    insta::assert_json_snapshot!(serde_json::json!({
        "version": log["version"],
        "columnKind": run["columnKind"],
        "first_rule": rules[0],
        "results": run["results"],
        "invocations": run["invocations"],
    }));
}

#[test]
fn sarif_matches_the_official_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("../fixtures/schemas/sarif-schema-2.1.0.json").expect("schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::draft4::new(&schema).expect("schema compiles");
    let log: serde_json::Value = serde_json::from_str(&sarif_text()).expect("valid JSON");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // GitHub rejects 0 or negative positions.
    for r in log["runs"][0]["results"].as_array().expect("results") {
        let region = &r["locations"][0]["physicalLocation"]["region"];
        for k in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(region[k].as_u64().is_some_and(|v| v >= 1), "{k} in {r}");
        }
    }
}

#[test]
fn workflow_command_escaping() {
    use tap_lint::report::github::{data, property};
    assert_eq!(data("50% done\r\nnext"), "50%25 done%0D%0Anext");
    assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
}

#[test]
fn xml_escaping() {
    assert_eq!(
        escape("<a href=\"x\">&'\n\u{1}"),
        "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&#10;\u{FFFD}"
    );
}
