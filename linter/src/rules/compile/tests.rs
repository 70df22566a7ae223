use crate::rules::{Settings, parse_rule};

/// A minimal rule; each case replaces its `assert:` list.
fn rule(assert: &str) -> String {
    format!(
        "code: TST100\nname: thing-without-x\nseverity: warning\ncategory: test\nsummary: s\nmessage: \"{{resource}} lacks X\"\ndocs: {{what: w, why: y, bad: b, good: g, fix: f}}\nselect: {{types: [AWS::S3::Bucket]}}\nexamples: {{fail: {{}}}}\nassert:\n{assert}"
    )
}

/// The error's message and the 1-based line it points at.
fn error(assert: &str) -> (String, usize) {
    let text = rule(assert);
    match parse_rule("t.yaml", &text, &Settings::defaults()) {
        Ok(_) => panic!("expected an error for:\n{assert}"),
        Err(e) => {
            let line = e
                .span_start()
                .map_or(0, |s| text[..s].matches('\n').count() + 1);
            (e.message, line)
        }
    }
}

#[test]
fn valid_checks_of_every_operator_compile() {
    let assert = "  - {path: /Properties/X, exists: true, absent: fail}\n  - all: [{path: /A, equals: 1}, {any: [{path: /B, matches: '^x'}, {not: {path: /C, nonempty: true}}]}]\n  - {if: {path: /D, equals: true}, then: {path: /E, exists: true}}\n  - {each: /Properties/Tags/*, check: {path: /Key, not_equals: ''}}\n  - {some: /Properties/Tags/*, absent: pass, check: {path: /Key, equals: k}}\n  - by_type: {AWS::S3::Bucket: {path: /F, exists: true}}\n  - follow: {path: /Properties/Role, types: [AWS::IAM::Role], as: role, check: {on: role, check: {path: /G, exists: true}}}\n    message: \"{resource} and {role}\"\n  - {referenced_by: {types: [Output], if_none: fail}}\n  - {iam_allows: {actions: ['s3:GetObject']}}\n  - {path: /H, not_intrinsic: [Fn::FindInMap], intrinsic: [Ref]}\n";
    let parsed = parse_rule("t.yaml", &rule(assert), &Settings::defaults());
    assert!(parsed.is_ok(), "{:?}", parsed.err().map(|e| e.message));
    assert_eq!(parsed.map(|r| r.assertions.len()).ok(), Some(10));
}

#[test]
fn mistakes_point_at_their_key() {
    let cases: [(&str, &str, usize); 15] = [
        ("  - {path: /X, exsts: true}\n", "unknown field `exsts`", 11),
        ("  - {path: /X}\n", "a check needs an operator", 11),
        (
            "  - {path: /X, exists: true, all: []}\n",
            "exactly one operator",
            11,
        ),
        (
            "  - all:\n      - {path: /X, exists: true, message: m}\n",
            "belong to a top-level assertion",
            12,
        ),
        (
            "  - {then: {path: /X, exists: true}}\n",
            "`then` needs an `if`",
            11,
        ),
        (
            "  - {each: /X, check: {path: /Y, exists: true}, path: /Z}\n",
            "`path` belongs to value tests",
            11,
        ),
        (
            "  - {not: {path: /X, exists: true}, check: {path: /Y, exists: true}}\n",
            "`check` belongs to",
            11,
        ),
        (
            "  - {on: role, check: {path: /Y, exists: true}}\n",
            "`role` is not bound here",
            11,
        ),
        ("  - {path: X, exists: true}\n", "is not a JSON pointer", 11),
        (
            "  - path: /X\n    matches: '('\n",
            "invalid regular expression",
            12,
        ),
        (
            "  - path: /X\n    exists: true\n    message: \"{nope}\"\n",
            "unknown placeholder `{nope}`",
            13,
        ),
        (
            "  - path: /X\n    exists: true\n    fix: {applicability: safe, title: t, ops: [{set: /X}]}\n",
            "this operation needs a `value`",
            13,
        ),
        // Settings are declared by the rule that uses them; only the suffix ones are global.
        (
            "  - path: /X\n    lte: {setting: log_retention_days}\n",
            "unknown setting `log_retention_days`; declare it under `settings:`",
            12,
        ),
        (
            "  - path: /X\n    exists: true\n    message: \"{resource} outside {allowed_regions}\"\n",
            "unknown placeholder `{allowed_regions}`",
            13,
        ),
        (
            "  - path: /X\n    not_intrinsic: ['!FindInMap']\n",
            "write the long form",
            12,
        ),
    ];
    for (assert, message, line) in cases {
        let (got, at) = error(assert);
        assert!(got.contains(message), "{assert}: {got}");
        assert_eq!(at, line, "{assert}: {got}");
    }
}

#[test]
fn fn_sub_syntax_in_messages_is_text() {
    let assert = "  - path: /X\n    exists: true\n    message: \"{resource} in ${AWS::Region}\"\n";
    let parsed = parse_rule("t.yaml", &rule(assert), &Settings::defaults());
    assert!(parsed.is_ok(), "{:?}", parsed.err().map(|e| e.message));
}
