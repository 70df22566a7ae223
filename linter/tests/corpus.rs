//! Every template of the shared corpus loads or is rejected with a clear, placed message.

use std::path::PathBuf;

use tap_lint::io::discover::discover;
use tap_lint::rules::{RuleSet, Settings};
use tap_lint::run::lint::{self, LintOptions};

fn corpus() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    assert!(
        dir.is_dir(),
        "the shared corpus is expected beside the repository at {}",
        dir.display()
    );
    dir
}

#[test]
fn every_corpus_template_loads_or_is_rejected_clearly() {
    let rules = RuleSet::builtin(&Settings::default()).expect("the embedded pack loads");
    let (targets, errors) = discover(&[corpus()]);
    assert!(errors.is_empty(), "discovery errors: {errors:?}");
    assert_eq!(targets.len(), 690, "the corpus has 690 templates");
    let mut loaded = 0;
    let mut rejected = Vec::new();
    lint::lint_stream(&targets, &rules, LintOptions::default(), |report| {
        if report.errors.is_empty() {
            loaded += 1;
            return;
        }
        for e in &report.errors {
            assert!(
                e.message.len() > 10,
                "{}: unclear message {:?}",
                e.file,
                e.message
            );
            let whole_file = e.message.starts_with("not a CloudFormation template")
                || e.message.contains("Resources");
            assert!(
                e.line.is_some() || whole_file,
                "{}: error without a place: {}",
                e.file,
                e.message
            );
        }
        rejected.push(format!("{}: {}", report.file, report.errors[0].message));
    });
    // The corpus has a few deliberately broken files (invalid JSON/YAML, duplicate keys, not
    // CloudFormation); everything else must load.
    assert!(
        loaded >= 660,
        "only {loaded} of 690 loaded; rejected:\n{}",
        rejected.join("\n")
    );
    assert!(
        rejected.len() <= 30,
        "too many rejected:\n{}",
        rejected.join("\n")
    );
}
