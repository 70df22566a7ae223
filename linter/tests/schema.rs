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

/// The pack's declared fix applicability against the schemas' `createOnlyProperties`: a fix
/// that writes a property whose change replaces the resource (a new database, an emptied
/// bucket) must not be `safe`. Fixes on the failing node (`{path}`) and on bound resources
/// are resolved per finding and are not audited here.
#[test]
fn no_safe_fix_writes_a_property_that_replaces_the_resource() {
    use tap_lint::rules::check::TypeGlob;
    use tap_lint::rules::plan::{Action, Target};
    use tap_lint::rules::{Applicability, RuleSet, Settings};
    use tap_lint::schema::{Lookup, lookup};

    // The data carries the facts: encryption at rest is fixed at creation, snapshot retention
    // is not.
    let Lookup::Known(cache) = lookup("AWS::ElastiCache::ReplicationGroup") else {
        panic!("the replication group's schema is embedded");
    };
    assert!(cache.replaces(&["AtRestEncryptionEnabled".to_string()]));
    assert!(!cache.replaces(&["SnapshotRetentionLimit".to_string()]));

    let rules = RuleSet::builtin(&Settings::default()).expect("the pack loads");
    let (mut audited, mut disagreements) = (0, Vec::new());
    for rule in rules.rules() {
        let fixes = rule.assertions.iter().filter_map(|a| a.fix.as_ref());
        for fix in fixes.filter(|f| f.applicability == Applicability::Safe) {
            for op in fix.ops.iter().filter(|op| op.on.is_none()) {
                let (Action::Set(Target::Path(path), _)
                | Action::SetIfAbsent(Target::Path(path), _)
                | Action::Append(Target::Path(path), _)
                | Action::Remove(Target::Path(path))) = &op.action
                else {
                    continue;
                };
                let Some(("Properties", below)) = path.split_first().map(|(h, t)| (h.as_str(), t))
                else {
                    continue;
                };
                for glob in &rule.select.types {
                    let TypeGlob::Exact(kind) = glob else {
                        continue;
                    };
                    let Lookup::Known(schema) = lookup(kind) else {
                        continue;
                    };
                    audited += 1;
                    if schema.replaces(below) {
                        disagreements.push(format!("{} on {kind}: /{}", rule.code, path.join("/")));
                    }
                }
            }
        }
    }
    assert!(audited > 10, "the audit saw only {audited} property writes");
    assert!(
        disagreements.is_empty(),
        "safe fixes that replace the resource:\n{}",
        disagreements.join("\n")
    );
}
