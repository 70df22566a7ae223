//! The resource-schema rules (TAP801-TAP808) on real templates: exact findings on a small bad
//! template, none on CDK output, intrinsics, custom and third-party types, or macro templates.

mod common;
use common::{run, stdout, triples};

const CODES: [&str; 8] = [
    "TAP801", "TAP802", "TAP803", "TAP804", "TAP805", "TAP806", "TAP807", "TAP808",
];

/// Runs only the schema rules, without configuration, over the paths.
fn schema_lint(format: &str, paths: &[&str]) -> String {
    let mut args = vec!["--no-config", "--color", "never", "--format", format];
    for code in CODES {
        args.extend(["--select", code]);
    }
    args.extend(paths);
    stdout(&run(&args))
}

#[test]
fn a_bad_template_gets_one_finding_per_violation_at_its_node() {
    let human = schema_lint("human", &["fixtures/resource-schema/bad.yaml"]);
    insta::assert_snapshot!(human);
}

#[test]
fn the_bad_template_exercises_every_schema_rule() {
    let json = schema_lint("json", &["fixtures/resource-schema/bad.yaml"]);
    let found: std::collections::BTreeSet<String> =
        triples(&json).into_iter().map(|t| t.0).collect();
    for code in CODES {
        assert!(found.contains(code), "{code} not triggered: {found:?}");
    }
}

#[test]
fn cdk_output_and_the_reference_stack_get_no_schema_findings() {
    let json = schema_lint(
        "json",
        &[
            "fixtures/cdk.out",
            "fixtures/reference-stack",
            "fixtures/compliant",
        ],
    );
    assert_eq!(triples(&json), Vec::new(), "{json}");
}

#[test]
fn intrinsics_coercions_custom_and_third_party_types_are_never_violations() {
    let json = schema_lint("json", &["fixtures/resource-schema/intrinsics.yaml"]);
    assert_eq!(triples(&json), Vec::new(), "{json}");
}

#[test]
fn a_macro_template_is_not_checked_and_sam_types_are_not_unknown() {
    let json = schema_lint("json", &["fixtures/resource-schema/macro.yaml"]);
    assert_eq!(triples(&json), Vec::new(), "{json}");
    let sam = schema_lint("json", &["fixtures/resource-schema/sam.yaml"]);
    let expected = vec![(
        "TAP802".to_string(),
        "Queue".to_string(),
        "/Resources/Queue/Properties/DelaySecond".to_string(),
    )];
    assert_eq!(triples(&sam), expected, "{sam}");
}
