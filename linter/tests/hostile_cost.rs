//! Issue 12: input that is valid, or nearly, but costly: a YAML alias to a large string, and
//! templates with tens of thousands of resources or keys. The loader must refuse the first with
//! one clear error and handle the others in linear time. Every input is generated here; no test
//! measures time (bench/README.md, "Large templates (issue 12)", does). In a debug build before
//! the fixes, the large cases took 7 s to over 100 s each instead of 0.1 to 3 s: the slowness is
//! the regression signal.

use tap_lint::finding::FileReport;
use tap_lint::load::{self, MAX_ALIAS_BYTES, Syntax};
use tap_lint::model::node::{Entry, Map, Node, SMALL_MAP, Span, Value};
use tap_lint::rules::{RuleSet, Settings};
use tap_lint::run::lint::{self, LintOptions};

fn lint(name: &str, bytes: &[u8]) -> FileReport {
    let rules = RuleSet::builtin(&Settings::default()).expect("the embedded pack loads");
    lint::lint_bytes(name, bytes, &rules, LintOptions::default())
}

/// A YAML template whose `Metadata` holds one `mib` MiB string, anchored, and `aliases` aliases
/// to it; the first alias is on line 7.
fn aliased_string(mib: usize, aliases: usize) -> String {
    let mut text = String::from("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\nMetadata:\n");
    text.push_str("  Big: &big ");
    text.push_str(&"x".repeat(mib * 1024 * 1024));
    text.push_str("\n  Copies:\n");
    for _ in 0..aliases {
        text.push_str("    - *big\n");
    }
    text
}

#[test]
fn alias_to_a_large_string_is_stopped_by_the_byte_budget() {
    // 4 MiB x 20 is 80 MiB of copies: past the 64 MiB budget at the 17th alias, while the node
    // budget (one node per copy) is nowhere near reached. Before, 4 MiB x 500 took 2 GiB.
    let mib = 4;
    let report = lint("alias.yaml", aliased_string(mib, 20).as_bytes());
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let error = &report.errors[0];
    assert!(
        error.message.contains(&format!(
            "aliases expand to more than {} MiB",
            MAX_ALIAS_BYTES >> 20
        )),
        "{error:?}"
    );
    assert!(error.help.as_deref().is_some_and(|h| h.contains("alias")));
    let first_refused = MAX_ALIAS_BYTES / (mib << 20) + 1;
    assert_eq!(error.line, Some(6 + first_refused), "{error:?}");
    assert_eq!(error.column, Some(7), "{error:?}");
}

#[test]
fn modest_alias_use_still_loads() {
    // A 64 KiB string aliased 100 times (6.4 MiB) and a tag list reused by 50 resources lint
    // exactly like the same template written out in full.
    let tags = "[{Key: team, Value: platform}, {Key: cost-center, Value: '4711'}]";
    let body = "y".repeat(64 * 1024);
    let mut aliased = format!("Metadata:\n  Text: &text {body}\n  Copies:\n");
    let mut written = format!("Metadata:\n  Text: {body}\n  Copies:\n");
    for _ in 0..100 {
        aliased.push_str("    - *text\n");
        written.push_str(&format!("    - {body}\n"));
    }
    aliased.push_str("Resources:\n");
    written.push_str("Resources:\n");
    for i in 0..50 {
        let anchor = if i == 0 { "&tags " } else { "" };
        let tags_here = if i == 0 {
            format!("{anchor}{tags}")
        } else {
            "*tags".into()
        };
        aliased.push_str(&format!(
            "  Queue{i}:\n    Type: AWS::SQS::Queue\n    Properties:\n      Tags: {tags_here}\n"
        ));
        written.push_str(&format!(
            "  Queue{i}:\n    Type: AWS::SQS::Queue\n    Properties:\n      Tags: {tags}\n"
        ));
    }
    let a = lint("aliased.yaml", aliased.as_bytes());
    let w = lint("written.yaml", written.as_bytes());
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    assert!(!a.findings.is_empty());
    let codes = |r: &FileReport| -> Vec<(String, String)> {
        r.findings
            .iter()
            .map(|f| (f.code.clone(), f.resource.clone()))
            .collect()
    };
    assert_eq!(codes(&a), codes(&w));
}

/// `n` SNS topics, each with a fixed `TopicName` (TAP101) and no KMS key (TAP308).
fn topics_json(n: usize) -> String {
    let resources: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "\"Topic{i}\": {{\"Type\": \"AWS::SNS::Topic\", \"Properties\": {{\"TopicName\": \"topic-{i}\"}}}}"
            )
        })
        .collect();
    format!("{{\"Resources\": {{\n{}\n}}}}\n", resources.join(",\n"))
}

#[test]
fn many_resources_lint_to_the_right_findings() {
    // Before, 50,000 resources took 8 s in a release build and 15 s here in a debug one.
    let n = 50_000;
    let report = lint("many.json", topics_json(n).as_bytes());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.findings.len(), 2 * n);
    for code in ["TAP101", "TAP308"] {
        assert_eq!(
            report.findings.iter().filter(|f| f.code == code).count(),
            n,
            "{code}"
        );
    }
    // The last resource's findings point at its own line (line 1 is `{"Resources": {`).
    let last = format!("Topic{}", n - 1);
    let on_last: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.resource == last)
        .collect();
    assert_eq!(on_last.len(), 2);
    assert!(on_last.iter().all(|f| f.line == n + 1), "{on_last:?}");
}

#[test]
fn many_resources_in_yaml_with_references_lint_to_the_right_findings() {
    // Queues referenced by subscriptions: the reference index and Ref lookups at scale.
    let n = 10_000;
    let mut text = String::from("Resources:\n");
    for i in 0..n {
        text.push_str(&format!(
            "  Queue{i}:\n    Type: AWS::SQS::Queue\n    Properties:\n      KmsMasterKeyId: alias/aws/sqs\n"
        ));
        text.push_str(&format!(
            "  Sub{i}:\n    Type: AWS::SNS::Subscription\n    DependsOn: Queue{i}\n    Properties:\n      TopicArn: arn:aws:sns:eu-west-1:123456789012:t\n      Protocol: sqs\n      Endpoint: !GetAtt Queue{i}.Arn\n"
        ));
    }
    let small = lint("small.yaml", text_prefix(&text, 10).as_bytes());
    let report = lint("refs.yaml", text.as_bytes());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    // Every pair of resources is alike, so findings scale exactly with the pairs.
    assert!(small.errors.is_empty(), "{:?}", small.errors);
    assert_eq!(report.findings.len(), small.findings.len() * n / 10);
}

/// The first `pairs` queue/subscription pairs of the template above.
fn text_prefix(text: &str, pairs: usize) -> String {
    let cut = text
        .match_indices("  Queue")
        .nth(pairs)
        .map_or(text.len(), |(i, _)| i);
    text[..cut].to_string()
}

/// A template whose `Mappings.Big` has `n` keys (`key0`..), then `dup` written again; in JSON
/// key `i` is on line `i + 3`, in YAML on line `i + 5` (the repeat on the line after the last).
fn big_mapping(n: usize, dup: usize, syntax: Syntax) -> String {
    match syntax {
        Syntax::Json => {
            let mut keys: Vec<String> = (0..n)
                .map(|i| format!("  \"key{i}\": {{\"V\": \"value-{i}\"}}"))
                .collect();
            keys.push(format!("  \"key{dup}\": {{\"V\": \"again\"}}"));
            format!(
                "{{\n\"Mappings\": {{\"Big\": {{\n{}\n}}}},\n\"Resources\": {{\"T\": {{\"Type\": \"AWS::SNS::Topic\"}}}}\n}}\n",
                keys.join(",\n")
            )
        }
        Syntax::Yaml => {
            let mut text =
                String::from("Resources:\n  T: {Type: AWS::SNS::Topic}\nMappings:\n  Big:\n");
            for i in 0..n {
                text.push_str(&format!("    key{i}: {{V: value-{i}}}\n"));
            }
            text.push_str(&format!("    key{dup}: {{V: again}}\n"));
            text
        }
    }
}

#[test]
fn duplicate_keys_in_a_very_large_mapping_are_found_where_they_are() {
    let n = 40_000;
    // A key first written before the mapping is indexed, one written after, and the last one.
    for dup in [3, SMALL_MAP + 5, 20_000, n - 1] {
        for (syntax, name, first_line) in [
            (Syntax::Json, "big.json", dup + 3),
            (Syntax::Yaml, "big.yaml", dup + 5),
        ] {
            let again_line = first_line + n - dup;
            let report = lint(name, big_mapping(n, dup, syntax).as_bytes());
            assert_eq!(report.errors.len(), 1, "{name}: {:?}", report.errors);
            let error = &report.errors[0];
            assert!(
                error
                    .message
                    .starts_with(&format!("duplicate key `key{dup}`")),
                "{name}: {error:?}"
            );
            assert!(
                error
                    .message
                    .contains(&format!("first written at {first_line}:")),
                "{name}: {error:?}"
            );
            assert_eq!(error.line, Some(again_line), "{name}: {error:?}");
        }
    }
}

#[test]
fn a_very_large_mapping_without_duplicates_loads() {
    for (syntax, name) in [(Syntax::Json, "big.json"), (Syntax::Yaml, "big.yaml")] {
        // `dup` names a key past the end: no key is written twice.
        let text = big_mapping(40_000, 40_000, syntax);
        let report = lint(name, text.as_bytes());
        assert!(report.errors.is_empty(), "{name}: {:?}", report.errors);
    }
}

fn string(s: &str) -> Node {
    Node::new(Span::default(), Value::String(s.into()))
}

#[test]
fn map_get_finds_keys_in_a_large_map() {
    let n = 40_000;
    let root = load::parse(big_mapping(n, n, Syntax::Json).as_bytes(), Syntax::Json)
        .expect("the mapping loads");
    let big = root
        .get("Mappings")
        .and_then(|m| m.get("Big"))
        .and_then(Node::as_map)
        .expect("Mappings.Big is a mapping");
    assert_eq!(big.entries.len(), n + 1);
    for i in (0..n).step_by(997).chain([n - 1]) {
        let entry = big.entry(&format!("key{i}")).expect("every key is found");
        assert_eq!(&*entry.key, format!("key{i}"));
        let value = entry.value.get("V").and_then(Node::as_str);
        assert_eq!(value, Some(format!("value-{i}").as_str()));
    }
    // The extra key written last (`key{n}`) is found; keys never written are not.
    assert!(big.get(&format!("key{n}")).is_some());
    assert!(big.get("key-1").is_none() && big.get("").is_none());
}

#[test]
fn map_lookups_follow_every_change_to_a_large_map() {
    let entry = |k: String, v: &str| Entry {
        key: k.into_boxed_str(),
        key_span: Span::default(),
        value: string(v),
    };
    let n = 1_000;
    let mut map = Map::from_entries((0..n).map(|i| entry(format!("k{i}"), "old")).collect());
    assert_eq!(map.get("k500").and_then(Node::as_str), Some("old"));
    // Pushed after the index was built.
    map.entries.push(entry("new".into(), "pushed"));
    assert_eq!(map.get("new").and_then(Node::as_str), Some("pushed"));
    // Changed in place, the index kept.
    *map.get_mut("k7").expect("k7 is there") = string("changed");
    assert_eq!(map.get("k7").and_then(Node::as_str), Some("changed"));
    // Renamed through mutable access: the index must not keep the old name.
    map.entries[9].key = "renamed".into();
    assert!(map.get("k9").is_none());
    assert_eq!(map.get("renamed").and_then(Node::as_str), Some("old"));
    // Removed: positions move, lookups still land on the right entry.
    map.entries.retain(|e| &*e.key != "k0" && &*e.key != "k1");
    assert!(map.get("k0").is_none());
    assert_eq!(map.entry("k2").map(|e| &*e.key), Some("k2"));
    assert_eq!(map.get("new").and_then(Node::as_str), Some("pushed"));
    // A copy and a mapping collected from entries search the same way.
    let copy = map.clone();
    assert_eq!(copy, map);
    assert_eq!(copy.get("k999").and_then(Node::as_str), Some("old"));
    let collected = Map {
        entries: map.entries.iter().cloned().collect(),
    };
    assert_eq!(collected.get("renamed").and_then(Node::as_str), Some("old"));
    // A small mapping (scanned, never indexed) behaves the same.
    let mut small = Map::from_entries(
        (0..SMALL_MAP)
            .map(|i| entry(format!("s{i}"), "v"))
            .collect(),
    );
    small.entries.push(entry("s-last".into(), "w"));
    assert_eq!(small.get("s-last").and_then(Node::as_str), Some("w"));
    assert_eq!(small.get("s0").and_then(Node::as_str), Some("v"));
}

/// `n` functions in a VPC, each with its own role (by `GetAtt`, or by literal ARN for even `i`)
/// and an `AWS::IAM::Policy` on that role (again by `Ref`, or by literal name for even `i`); the
/// policies of roles `i % 3 == 0` grant what a function in a VPC needs.
fn functions_with_roles(n: usize) -> String {
    let mut text = String::from("Resources:\n");
    for i in 0..n {
        let role = if i % 2 == 0 {
            format!("arn:aws:iam::123456789012:role/role-{i}")
        } else {
            format!("!GetAtt Role{i}.Arn")
        };
        let policy_role = if i % 2 == 0 {
            format!("role-{i}")
        } else {
            format!("!Ref Role{i}")
        };
        let action = if i % 3 == 0 { "ec2:*" } else { "logs:*" };
        text.push_str(&format!(
            "  Role{i}:
    Type: AWS::IAM::Role
    Properties:
      RoleName: role-{i}
      AssumeRolePolicyDocument: {{Statement: [{{Effect: Allow, Action: sts:AssumeRole, Principal: {{Service: lambda.amazonaws.com}}}}]}}
  Policy{i}:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: policy-{i}
      Roles: [{policy_role}]
      PolicyDocument: {{Statement: [{{Effect: Allow, Action: '{action}', Resource: '*'}}]}}
  Function{i}:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: {role}
      Code: {{ZipFile: 'def handler(e, c): return e'}}
      VpcConfig: {{SubnetIds: [subnet-1], SecurityGroupIds: [sg-1]}}
"
        ));
    }
    text
}

#[test]
fn roles_and_policies_are_matched_at_scale() {
    // Each function's role was matched by scanning every resource, and each role's policies
    // too: 12,000 such resources took 5 s in a release build before, this test over 100 s in a
    // debug one.
    let n = 3_000;
    let report = lint("functions.yaml", functions_with_roles(n).as_bytes());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let missing: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == "TAP503")
        .collect();
    let expected: Vec<String> = (0..n)
        .filter(|i| i % 3 != 0)
        .map(|i| format!("Function{i}"))
        .collect();
    let found: Vec<String> = missing.iter().map(|f| f.resource.clone()).collect();
    assert_eq!(found, expected);
    // The message names the function's own role, whether given by ARN or by GetAtt.
    for f in &missing {
        let i = &f.resource["Function".len()..];
        assert!(
            f.message
                .starts_with(&format!("Role{i}, the execution role of Function{i},")),
            "{}",
            f.message
        );
    }
}

#[test]
fn referrers_through_a_path_are_found_at_scale() {
    // TAP404 asks, for each inline function, which event source mappings name it in
    // `FunctionName`; that scanned every resource per function (10,000 resources took 8 s in a
    // release build). Mappings name their function by Ref (odd `i`) or by name (even `i`), and
    // read a stream of the template except for `i % 3 == 0` (a queue's ARN: not a stream).
    let n = 2_000;
    let mut text = String::from("Resources:\n");
    for i in 0..n {
        let function = if i % 2 == 0 {
            format!("fn-{i}")
        } else {
            format!("!Ref Handler{i}")
        };
        let source = if i % 3 == 0 {
            format!("arn:aws:sqs:eu-west-1:123456789012:queue-{i}")
        } else {
            format!("!GetAtt Stream{i}.Arn")
        };
        text.push_str(&format!(
            "  Stream{i}:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  Handler{i}:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: fn-{i}
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/r
      Code:
        ZipFile: |
          import json
          def handler(event, context):
              return [json.loads(r['kinesis']['data']) for r in event['Records']]
  Mapping{i}:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: {function}
      EventSourceArn: {source}
      StartingPosition: LATEST
"
        ));
    }
    let report = lint("streams.yaml", text.as_bytes());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let found: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.code == "TAP404")
        .map(|f| f.resource.clone())
        .collect();
    let expected: Vec<String> = (0..n)
        .filter(|i| i % 3 != 0)
        .map(|i| format!("Handler{i}"))
        .collect();
    assert_eq!(found, expected);
}
