//! Config files and baselines: what they do, and that every mistake names the exact place.
#![allow(clippy::result_large_err)] // SourceError carries the file text; tests build one per case.

use std::path::Path;

use miette::Diagnostic;
use tap_lint::report::baseline::{Baseline, BaselineWriter};
use tap_lint::report::outputs::{Format, pair};
use tap_lint::rules::{RuleSet, Settings, Severity};
use tap_lint::run::config::{Config, DEFAULT_CONFIG, SourceError};
use tap_lint::run::lint::{LintOptions, lint_bytes};

/// The 1-based line of the error's label.
fn line_of(err: &SourceError, text: &str) -> usize {
    let label = err.labels().and_then(|mut l| l.next()).expect("a label");
    text[..label.offset()].matches('\n').count() + 1
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

fn rules() -> RuleSet {
    RuleSet::builtin(&Settings::default()).expect("rules load")
}

fn config_error(text: &str) -> (SourceError, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), ".tap-lint.yaml", text);
    let err = match Config::load(&path) {
        Err(e) => e,
        Ok(c) => {
            let mut set = rules();
            match c
                .check_settings(&set)
                .and_then(|()| c.apply(&mut set))
                .and_then(|()| c.file_filter().map(drop))
            {
                Err(e) => e,
                Ok(()) => panic!("config accepted:\n{text}"),
            }
        }
    };
    (err, text.to_string())
}

#[test]
fn config_mistakes_point_at_their_line() {
    let cases = [
        ("select: []\nfail_on: error\n", 2, "unknown field `fail_on`"),
        ("fail-on: sometimes\n", 1, "unknown variant `sometimes`"),
        ("severity:\n  TAP101: loud\n", 2, "unknown variant `loud`"),
        (
            "ignore:\n  - TAP101\n  - no-such-rule\n",
            3,
            "`no-such-rule` is not a rule",
        ),
        (
            "settings:\n  log_retention_day: 30\n",
            2,
            "unknown setting `log_retention_day`",
        ),
        (
            "settings:\n  log_retention_days: thirty\n",
            2,
            "must be a whole number",
        ),
        ("exclude:\n  - \"a/**\"\n  - \"[z-a]\"\n", 3, "bad glob"),
        ("select: [TAP101\n", 2, "invalid YAML"),
    ];
    for (text, line, message) in cases {
        let (err, text) = config_error(text);
        assert!(err.message.contains(message), "{text}: {}", err.message);
        assert!(err.message.contains(".tap-lint.yaml"), "{}", err.message);
        assert_eq!(line_of(&err, &text), line, "{text}: {}", err.message);
    }
}

#[test]
fn config_selects_overrides_and_forbids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        ".tap-lint.yaml",
        "severity: {TAP703: info, suppression: error}\nunsuppressable: [security]\nsettings: {log_retention_days: 90}\nfail-on: error\ninclude: [\"cdk.out/**\"]\nexclude: [\"*.assets.json\"]\n",
    );
    let config = Config::load(&path).expect("loads");
    let mut set = rules();
    config.check_settings(&set).expect("settings are known");
    config.apply(&mut set).expect("applies");
    assert_eq!(set.find("TAP703").map(|r| r.severity), Some(Severity::Info));
    assert_eq!(set.severity("TAP001"), Some(Severity::Error));
    assert!(
        set.unsuppressable.contains("TAP303"),
        "category `security` covers TAP303"
    );
    assert_eq!(config.fail_on(), Some(tap_lint::run::config::FailOn::Error));
    let filter = config.file_filter().expect("globs compile");
    assert!(filter.accepts(&dir.path().join("cdk.out/Stack.template.json")));
    assert!(!filter.accepts(&dir.path().join("cdk.out/Stack.assets.json")));
    assert!(!filter.accepts(&dir.path().join("other/Stack.template.json")));
}

#[test]
fn the_default_config_is_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), ".tap-lint.yaml", DEFAULT_CONFIG);
    let config = Config::load(&path).expect("the init config loads");
    let mut set = rules();
    config.check_settings(&set).expect("settings are known");
    config.apply(&mut set).expect("applies");
    assert_eq!(
        config.fail_on(),
        Some(tap_lint::run::config::FailOn::Warning)
    );
}

#[test]
fn baseline_hides_known_findings_and_counts_fixed_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let set = rules();
    let file = dir.path().join("t.yaml");
    let bad = "Resources:\n  A:\n    Type: AWS::S3::Bucket\n  B:\n    Type: AWS::S3::Bucket\n";
    let name = file.display().to_string();
    let report = lint_bytes(&name, bad.as_bytes(), &set, LintOptions::default());
    let total = report.findings.len();
    let b_findings = report.findings.iter().filter(|f| f.resource == "B").count();
    assert!(b_findings > 0);
    let baseline_path = dir.path().join("baseline.json");
    let mut w = BaselineWriter::new(&baseline_path);
    w.add(&report);
    assert_eq!(w.write().expect("writes"), total);
    let text = std::fs::read_to_string(&baseline_path).expect("written");
    assert!(
        text.contains("\"file\": \"t.yaml\""),
        "relative to the baseline: {text}"
    );
    assert!(!text.contains("line"), "never lines: {text}");

    // Same findings after an unrelated edit that shifts every line: all hidden.
    let shifted = format!("# a comment\n\n{bad}");
    let mut again = lint_bytes(&name, shifted.as_bytes(), &set, LintOptions::default());
    let mut baseline = Baseline::load(&baseline_path).expect("loads");
    baseline.filter(&mut again);
    assert!(again.findings.is_empty(), "{:?}", again.findings);
    assert_eq!((baseline.baselined, baseline.fixed()), (total, 0));

    // B removed, C added: C's findings are new, B's are fixed.
    let changed = "Resources:\n  A:\n    Type: AWS::S3::Bucket\n  C:\n    Type: AWS::S3::Bucket\n";
    let mut next = lint_bytes(&name, changed.as_bytes(), &set, LintOptions::default());
    let mut baseline = Baseline::load(&baseline_path).expect("loads");
    baseline.filter(&mut next);
    assert!(!next.findings.is_empty() && next.findings.iter().all(|f| f.resource == "C"));
    assert_eq!(baseline.fixed(), b_findings);
}

#[test]
fn bad_baselines_point_at_the_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "{\"version\": 1, \"findings\": [\n  {\"file\": \"a\", \"resource\": \"R\", \"rule\": \"TAP101\", \"pointer\": \"/x\"},\n  {\"file\": \"a\", \"rule\": \"TAP101\", \"pointer\": \"/x\"}\n]}\n",
            3,
            "missing field `resource`",
        ),
        ("{\"version\": 7, \"findings\": []}\n", 1, "version 7"),
        ("{\"version\": 1,\n \"findings\": [,]}\n", 2, ""),
    ];
    for (text, line, message) in cases {
        let path = write(dir.path(), "baseline.json", text);
        let err = Baseline::load(&path).expect_err("rejected");
        assert!(err.message.contains(message), "{}", err.message);
        assert_eq!(line_of(&err, text), line, "{text}: {}", err.message);
    }
}

#[test]
fn formats_pair_with_outputs_by_position() {
    let out = |s: &str| std::path::PathBuf::from(s);
    assert_eq!(
        pair(
            &[(1, Format::Human), (3, Format::Sarif)],
            &[(5, out("r.sarif"))]
        ),
        Ok(vec![
            (Format::Human, None),
            (Format::Sarif, Some(out("r.sarif")))
        ])
    );
    assert_eq!(
        pair(&[], &[(1, out("r.txt"))]),
        Ok(vec![(Format::Human, Some(out("r.txt")))])
    );
    assert_eq!(pair(&[], &[]), Ok(vec![(Format::Human, None)]));
    assert!(
        pair(&[(1, Format::Json), (3, Format::Sarif)], &[]).is_err(),
        "two to stdout"
    );
    assert!(
        pair(&[(3, Format::Json)], &[(1, out("x"))]).is_err(),
        "output before format"
    );
    assert!(pair(&[(1, Format::Json)], &[(3, out("x")), (5, out("y"))]).is_err());
}
