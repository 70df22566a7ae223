//! The whole rule pack against its own passing and failing examples (what `tap-lint test-rules`
//! runs), and the embedded pack against the folder it was built from.

use std::path::PathBuf;

use tap_lint::rules::{RuleSet, Settings};
use tap_lint::run::testing;

fn rules_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rules")
}

#[test]
fn every_rule_passes_its_own_examples() {
    let rules = RuleSet::load_dir(&rules_dir(), &Settings::default()).expect("the rule pack loads");
    assert!(
        rules.len() >= 27,
        "the pack covers every documented failure class, found {} rules",
        rules.len()
    );
    let results = testing::test_rules(rules);
    let failures: Vec<String> = results
        .iter()
        .filter(|r| !r.problems.is_empty())
        .map(|r| format!("{}:\n  {}", r.rule, r.problems.join("\n  ")))
        .collect();
    assert!(
        failures.is_empty(),
        "rules failing their examples:\n{}",
        failures.join("\n")
    );
}

#[test]
fn embedded_pack_matches_the_rules_folder() {
    let on_disk =
        RuleSet::load_dir(&rules_dir(), &Settings::default()).expect("the rule pack loads");
    let embedded = RuleSet::builtin(&Settings::default()).expect("the embedded pack loads");
    let mut disk_codes: Vec<&str> = on_disk.iter().map(|r| r.code.as_str()).collect();
    disk_codes.sort_unstable();
    let embedded_codes: Vec<&str> = embedded.rules().iter().map(|r| r.code.as_str()).collect();
    assert_eq!(embedded_codes, disk_codes);
}

#[test]
fn the_issue_names_every_required_rule() {
    let required = [
        "physical-name-without-suffix",
        "retain-deletion-policy",
        "snapshot-deletion-policy",
        "deletion-protection-enabled",
        "backup-retention-enabled",
        "cache-snapshot-retention-enabled",
        "log-group-without-retention",
        "lambda-inline-code",
        "role-missing-stream-read",
        "role-missing-secret-read",
        "role-missing-vpc-access",
        "lambda-outside-vpc",
        "datastore-without-ingress",
        "database-port-open-to-world",
        "hardcoded-credentials",
        "inline-handler-without-error-handling",
        "inline-handler-missing-dependencies",
        "inline-stream-handler-without-base64-decode",
        "event-source-without-error-handling",
        "bucket-without-lifecycle-expiration",
        "stack-without-outputs",
        "bucket-without-encryption",
        "database-without-encryption",
        "cache-without-encryption",
        "stream-without-encryption",
        "database-without-schema-init",
        "region-not-allowed",
    ];
    let pack = RuleSet::builtin(&Settings::default()).expect("the embedded pack loads");
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|name| pack.find(name).is_none())
        .collect();
    assert!(missing.is_empty(), "missing rules: {missing:?}");
}
