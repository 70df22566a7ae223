//! Template suppressions and the meta rules that judge them, in YAML and JSON.

use tap_lint::finding::Finding;
use tap_lint::rules::{RuleSet, Settings};
use tap_lint::run::lint::{LintOptions, lint_bytes};

fn lint(file: &str, set: &RuleSet) -> Vec<Finding> {
    let bytes = std::fs::read(format!("../{file}")).expect("fixture exists");
    let report = lint_bytes(file, &bytes, set, LintOptions::default());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report.findings
}

fn rules() -> RuleSet {
    RuleSet::builtin(&Settings::default()).expect("rules load")
}

fn codes(findings: &[Finding], resource: &str) -> Vec<(String, usize)> {
    findings
        .iter()
        .filter(|f| f.resource == resource)
        .map(|f| (f.code.clone(), f.line))
        .collect()
}

#[test]
fn yaml_suppressions_are_honoured_and_judged() {
    let findings = lint("fixtures/suppressions/template.yaml", &rules());
    let plain = codes(&findings, "PlainBucket");
    // TAP303 suppressed with a reason; TAP703 suppressed template-wide.
    assert!(
        !plain.iter().any(|(c, _)| c == "TAP303" || c == "TAP703"),
        "{plain:?}"
    );
    // TAP101 matched nothing: unused, at its entry (line 14).
    assert!(plain.contains(&("TAP002".into(), 14)), "{plain:?}");
    // No reason: reported at line 16 and not honoured (TAP702 still there).
    assert!(plain.contains(&("TAP001".into(), 16)), "{plain:?}");
    assert!(plain.iter().any(|(c, _)| c == "TAP702"), "{plain:?}");
    // Unknown rule at line 17.
    assert!(plain.contains(&("TAP003".into(), 17)), "{plain:?}");
    // `ignore` not a list: malformed at its key (line 23), and OddBucket keeps its TAP303.
    let odd = codes(&findings, "OddBucket");
    assert!(odd.contains(&("TAP005".into(), 23)), "{odd:?}");
    assert!(odd.iter().any(|(c, _)| c == "TAP303"), "{odd:?}");
    let meta = findings
        .iter()
        .find(|f| f.code == "TAP001")
        .expect("TAP001");
    assert_eq!(
        meta.pointer,
        "/Resources/PlainBucket/Metadata/tap-lint/ignore/2"
    );
    assert_eq!(meta.name, "suppression-without-reason");
}

#[test]
fn json_suppressions_work_the_same() {
    let findings = lint("fixtures/suppressions/template.json", &rules());
    let plain = codes(&findings, "PlainBucket");
    assert!(!plain.iter().any(|(c, _)| c == "TAP303"), "{plain:?}");
    // An empty reason is no reason.
    assert!(plain.contains(&("TAP001".into(), 9)), "{plain:?}");
    assert!(plain.iter().any(|(c, _)| c == "TAP702"), "{plain:?}");
}

#[test]
fn unsuppressable_rules_stay_reported() {
    let mut set = rules();
    set.unsuppressable.insert("TAP303".into());
    let findings = lint("fixtures/suppressions/template.json", &set);
    let plain = codes(&findings, "PlainBucket");
    assert!(plain.contains(&("TAP004".into(), 8)), "{plain:?}");
    assert!(plain.iter().any(|(c, _)| c == "TAP303"), "{plain:?}");
}

#[test]
fn disabled_meta_rules_are_silent() {
    let mut set = rules();
    set.select(|r| r.code != "TAP001");
    let findings = lint("fixtures/suppressions/template.json", &set);
    assert!(!findings.iter().any(|f| f.code == "TAP001"));
    assert!(
        findings.iter().any(|f| f.code == "TAP702"),
        "the suppression stays unhonoured"
    );
}
