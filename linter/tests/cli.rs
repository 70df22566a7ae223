//! The command line as users meet it: exit codes, usage and rule-file errors, user rules,
//! explain and rules listings.

mod common;

use common::{root, run, run_in, stderr, stdout};

#[test]
fn exit_codes_follow_fail_on() {
    let fixture = "fixtures/noncompliant/template.yaml";
    assert_eq!(run(&[fixture]).status.code(), Some(1));
    assert_eq!(run(&["--fail-on", "never", fixture]).status.code(), Some(0));
    assert_eq!(
        run(&["fixtures/compliant/template.yaml"]).status.code(),
        Some(0)
    );
    // Only warnings: fail on warning (the default), pass when failing on errors only.
    let warnings = ["--select", "log-group-without-retention", fixture];
    assert_eq!(run(&warnings).status.code(), Some(1));
    let mut errors_only = vec!["--fail-on", "error"];
    errors_only.extend(warnings);
    assert_eq!(run(&errors_only).status.code(), Some(0));
}

#[test]
fn unreadable_input_exits_2_but_the_other_files_are_still_linted() {
    let out = run(&[
        "--format",
        "json",
        "no/such/file.yaml",
        "fixtures/hostile/duplicate-keys.json",
        "fixtures/noncompliant/template.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert!(doc["summary"]["findings"].as_u64().unwrap_or(0) >= 28);
    // The missing path is an error of the report like any file that cannot be read.
    assert_eq!(doc["errors"][0]["file"], "no/such/file.yaml");
    assert_eq!(doc["errors"][0]["message"], "no such file or folder");
    assert_eq!(
        doc["errors"][1]["file"],
        "fixtures/hostile/duplicate-keys.json"
    );
    assert_eq!(doc["errors"][1]["line"], 9);
}

#[test]
fn usage_errors_exit_2_with_a_hint() {
    let no_paths = run(&[]);
    assert_eq!(no_paths.status.code(), Some(2));
    assert!(
        stderr(&no_paths).contains("no paths given"),
        "{}",
        stderr(&no_paths)
    );
    let unknown = run(&[
        "--select",
        "no-such-rule",
        "fixtures/compliant/template.yaml",
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unknown rule `no-such-rule`"));
    let bad_set = run(&["--set", "oops", "fixtures/compliant/template.yaml"]);
    assert_eq!(bad_set.status.code(), Some(2));
    assert!(stderr(&bad_set).contains("is not KEY=VALUE"));
    // A setting no loaded rule declares is a typo, not a silent no-op.
    let unknown_set = run(&[
        "--set",
        "log_retention=14",
        "fixtures/compliant/template.yaml",
    ]);
    assert_eq!(unknown_set.status.code(), Some(2));
    assert!(
        stderr(&unknown_set).contains("unknown setting `log_retention`"),
        "{}",
        stderr(&unknown_set)
    );
    let wrong_kind = run(&[
        "--set",
        "log_retention_days=x",
        "fixtures/compliant/template.yaml",
    ]);
    assert_eq!(wrong_kind.status.code(), Some(2));
    assert!(stderr(&wrong_kind).contains("must be a whole"));
    let bad_flag = run(&["--no-such-flag"]);
    assert_eq!(bad_flag.status.code(), Some(2));
}

const USER_RULE: &str = r#"code: ACME001
name: queue-without-dead-letter
severity: warning
category: reliability
summary: A queue has no dead-letter queue.
message: "{resource} has no redrive policy"
docs: {what: w, why: w, bad: b, good: g, fix: f}
select:
  types: [AWS::SQS::Queue]
assert:
  - path: /Properties/RedrivePolicy
    exists: true
examples:
  fail: {BareQueue: 1}
"#;

#[test]
fn user_rules_load_from_a_folder_and_test_against_their_examples() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).expect("mkdir");
    std::fs::write(rules.join("queue-without-dead-letter.yaml"), USER_RULE).expect("write rule");
    std::fs::write(
        rules.join("queue-without-dead-letter.fail.yaml"),
        "Resources:\n  BareQueue: {Type: AWS::SQS::Queue}\n",
    )
    .expect("write example");
    std::fs::write(
        rules.join("queue-without-dead-letter.pass.yaml"),
        "Resources:\n  Queue: {Type: AWS::SQS::Queue, Properties: {RedrivePolicy: {maxReceiveCount: 3}}}\n",
    )
    .expect("write example");
    let tested = run_in(dir.path(), &["test-rules", "rules"]);
    assert_eq!(tested.status.code(), Some(0), "{}", stdout(&tested));
    assert!(stdout(&tested).contains("1 passed, 0 failed"));
    let linted = run_in(
        dir.path(),
        &[
            "--rules",
            "rules",
            "--no-builtin",
            "--format",
            "json",
            "rules/queue-without-dead-letter.fail.yaml",
        ],
    );
    assert_eq!(linted.status.code(), Some(1));
    assert!(stdout(&linted).contains("\"code\":\"ACME001\""));
}

/// `select.source_matches` skips a template whose text has no match, whatever its resources;
/// the same resource in a template whose text matches elsewhere (its description)
/// is checked as usual, and a pattern that does not compile is an error at its key.
#[test]
fn a_source_prefilter_skips_templates_whose_text_does_not_match() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = USER_RULE.replace(
        "  types: [AWS::SQS::Queue]\n",
        "  types: [AWS::SQS::Queue]\n  source_matches: 'legacy-\\d'\n",
    );
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).expect("mkdir");
    std::fs::write(rules.join("rule.yaml"), &rule).expect("write rule");
    let queue = "Resources:\n  BareQueue: {Type: AWS::SQS::Queue}\n";
    std::fs::write(dir.path().join("plain.yaml"), queue).expect("write");
    let tagged = format!("Description: legacy-2 queue\n{queue}");
    std::fs::write(dir.path().join("tagged.yaml"), tagged).expect("write");
    let lint = |file: &str| {
        let args = ["--rules", "rules", "--no-builtin", "--format", "json", file];
        let out = run_in(dir.path(), &args);
        (
            out.status.code(),
            stdout(&out).matches("\"code\":\"ACME001\"").count(),
        )
    };
    assert_eq!(lint("plain.yaml"), (Some(0), 0));
    assert_eq!(lint("tagged.yaml"), (Some(1), 1));
    let broken = rule.replace("legacy-\\d", "legacy-(");
    std::fs::write(rules.join("rule.yaml"), broken).expect("write");
    let out = run_in(dir.path(), &["--rules", "rules", "plain.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("invalid regular expression"), "{err}");
    assert!(
        err.contains("rule.yaml:10:"),
        "the error points at source_matches: {err}"
    );
}

#[test]
fn a_broken_rule_file_is_shown_at_its_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = USER_RULE.replace("    exists: true", "    exsts: true");
    std::fs::write(dir.path().join("broken.yaml"), broken).expect("write");
    let out = run_in(dir.path(), &["--rules", ".", "x.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown field `exsts`"), "{err}");
    assert!(
        err.contains("broken.yaml:12:5"),
        "the error points into the rule file: {err}"
    );
    let placeholder = USER_RULE.replace("{resource} has", "{resorce} has");
    std::fs::write(dir.path().join("broken.yaml"), placeholder).expect("write");
    let out = run_in(dir.path(), &["--rules", ".", "x.yaml"]);
    assert!(
        stderr(&out).contains("unknown placeholder `{resorce}`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn explain_and_rules_document_the_pack() {
    let explain = run(&["explain", "retain-deletion-policy"]);
    assert_eq!(explain.status.code(), Some(0));
    let text = stdout(&explain);
    for part in [
        "TAP201 retain-deletion-policy",
        "What",
        "Why",
        "Bad",
        "Good",
        "Fix",
        "automatic: Set DeletionPolicy to Delete (safe)",
        "Set UpdateReplacePolicy to Delete (safe)",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
    let by_code = run(&["explain", "tap201"]);
    assert_eq!(stdout(&by_code), text);
    let listing = stdout(&run(&["rules"]));
    // Every YAML rule of the pack and the engine-level suppression rules (TAP001-TAP005), one
    // line each.
    let pack = tap_lint::rules::RuleSet::builtin(&tap_lint::rules::Settings::default())
        .expect("the pack loads");
    assert_eq!(pack.all().filter(|r| r.is_meta()).count(), 5);
    assert_eq!(listing.lines().count(), pack.all().count(), "{listing}");
    assert_eq!(run(&["explain", "nope"]).status.code(), Some(2));
}

#[test]
fn literal_env_suffix_accepts_names_cdk_already_resolved() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("t.json"),
        r#"{"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "archive-pr42"}}}}"#,
    )
    .expect("write");
    let without = run_in(dir.path(), &["--select", "TAP101", "t.json"]);
    assert_eq!(without.status.code(), Some(1));
    let with = run_in(
        dir.path(),
        &["--select", "TAP101", "--env-suffix", "pr42", "t.json"],
    );
    assert_eq!(with.status.code(), Some(0), "{}", stdout(&with));
    let _ = root();
}

#[test]
fn a_rule_may_ask_to_report_what_it_cannot_verify() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = USER_RULE
        .replace("  - path: /Properties/RedrivePolicy\n    exists: true\n", "  - path: /Properties/RedrivePolicy/maxReceiveCount\n    lte: 5\n    absent: fail\n    on_unknown: report\n");
    std::fs::create_dir(dir.path().join("rules")).expect("mkdir");
    std::fs::write(dir.path().join("rules/rule.yaml"), rule).expect("write rule");
    std::fs::write(
        dir.path().join("t.yaml"),
        "Parameters:\n  Receives: {Type: Number}\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      RedrivePolicy: {maxReceiveCount: !Ref Receives}\n",
    )
    .expect("write template");
    let out = run_in(
        dir.path(),
        &[
            "--rules",
            "rules",
            "--no-builtin",
            "--format",
            "json",
            "t.yaml",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "info does not fail the run: {}",
        stdout(&out)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let f = &doc["findings"][0];
    assert_eq!(f["severity"], "info");
    assert!(
        f["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("cannot verify Q statically"),
        "{f}"
    );
}

/// A transform rebuilds resources (SAM splits a `Serverless::Api` into an API, a stage and a
/// deployment), so structure checks skip templates with one instead of reporting what may not
/// exist after it.
#[test]
fn structure_checks_skip_templates_with_a_transform() {
    let body = "\
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      AccessLogSetting: {DestinationArn: !GetAtt ApiLogs.Arn}
  ApiLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub 'API-Gateway-Execution-Logs_${Api}/prod'
      RetentionInDays: 14
  Function:
    Type: AWS::Serverless::Function
    Properties:
      Role: !GetAtt FunctionRole.Arn
";
    let dir = tempfile::tempdir().expect("temp dir");
    let codes = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).expect("write");
        let out = run_in(dir.path(), &["--format", "json", "--no-config", name]);
        let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
        let mut codes: Vec<String> = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["code"].as_str().map(str::to_string))
            .filter(|c| c.starts_with("TAP9"))
            .collect();
        codes.sort();
        codes
    };
    assert_eq!(codes("plain.yaml", body), ["TAP901", "TAP905"]);
    let sam = format!("Transform: AWS::Serverless-2016-10-31\n{body}");
    assert_eq!(codes("sam.yaml", &sam), Vec::<String>::new());
}

/// `as_of` pins the date a dated rule checks against: the example's runtimes were deprecated on
/// 2024-01-08 (go1.x), 2024-06-12 (nodejs16.x) and 2024-10-14 (python3.8).
#[test]
fn a_pinned_as_of_decides_which_runtimes_are_deprecated() {
    let example = "rules/lambda/deprecated-runtime.fail.yaml";
    let count = |as_of: &str| {
        let set = format!("as_of={as_of}");
        let args = [
            "--format",
            "json",
            "--no-config",
            "--select",
            "TAP405",
            "--set",
            &set,
            example,
        ];
        let out = run(&args);
        let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
        doc["findings"].as_array().expect("findings").len()
    };
    assert_eq!(count("2024-01-07"), 0);
    assert_eq!(count("2024-07-01"), 2);
    assert_eq!(count("2026-12-01"), 3);
}

#[test]
fn sub_needed_leaves_serverless_framework_templates_to_their_preprocessor() {
    let dir = tempfile::tempdir().expect("temp dir");
    let template = |principal: &str| {
        format!(
            "Parameters:\n  Stage: {{Type: String}}\nResources:\n  Role:\n    Type: AWS::IAM::Role\n    \
             Properties:\n      RoleName: app-${{Stage}}\n      AssumeRolePolicyDocument:\n        \
             Statement:\n          - Principal: {{AWS: \"{principal}\"}}\n"
        )
    };
    let count = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let path = path.to_str().expect("utf-8 path").to_string();
        let out = common::run(&[
            "--no-config",
            "--select",
            "TAP909",
            "--format",
            "json",
            &path,
        ]);
        common::stdout(&out).matches("\"code\":\"TAP909\"").count()
    };
    assert_eq!(
        count("plain.yaml", template("arn:aws:iam::123456789012:root")),
        1
    );
    assert_eq!(
        count(
            "sls.yaml",
            template("arn:aws:iam::${self:custom.account}:root")
        ),
        0
    );
}

/// Opt-in rules stay off by default and under a category; `extend-select` (config or flag)
/// adds one to the default set, `--select` by code runs it alone.
#[test]
fn opt_in_rules_run_only_when_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let template = dir.path().join("t.yaml");
    std::fs::write(
        &template,
        "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      Engine: postgres\n      DBInstanceClass: db.t4g.micro\n",
    )
    .expect("write");
    let codes = |args: &[&str]| -> Vec<String> {
        let out = run_in(dir.path(), args);
        let mut codes: Vec<String> = (common::triples(&stdout(&out)).into_iter())
            .map(|(code, _, _)| code)
            .collect();
        codes.dedup();
        codes
    };
    let json = ["--no-config", "--format", "json"];
    let default = codes(&[&json[..], &["t.yaml"]].concat());
    assert!(default.contains(&"TAP304".to_string()), "{default:?}");
    assert!(!default.contains(&"TAP329".to_string()), "{default:?}");
    let category = codes(&[&json[..], &["--select", "reliability", "t.yaml"]].concat());
    assert!(!category.contains(&"TAP329".to_string()), "{category:?}");
    let extended = codes(&[&json[..], &["--extend-select", "TAP329", "t.yaml"]].concat());
    assert!(extended.contains(&"TAP329".to_string()), "{extended:?}");
    assert!(extended.contains(&"TAP304".to_string()), "{extended:?}");
    let alone = codes(&[&json[..], &["--select", "database-not-multi-az", "t.yaml"]].concat());
    assert_eq!(alone, ["TAP329"]);
    std::fs::write(
        dir.path().join(".tap-lint.yaml"),
        "extend-select: [TAP329]\n",
    )
    .expect("write config");
    let configured = codes(&["--format", "json", "t.yaml"]);
    assert!(configured.contains(&"TAP329".to_string()), "{configured:?}");
    assert!(configured.contains(&"TAP304".to_string()), "{configured:?}");
    let listing = stdout(&run(&["rules"]));
    let line = listing.lines().find(|l| l.starts_with("TAP329"));
    assert!(line.is_some_and(|l| l.contains("(opt-in)")), "{listing}");
}
