//! `tap-lint test-rules`: every rule against its own passing and failing examples.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::lint::{self, LintOptions};
use crate::rules::{Rule, RuleSet};

/// The result of testing one rule.
#[derive(Debug)]
pub struct RuleTest {
    /// Rule code and name.
    pub rule: String,
    /// Problems found; empty means the rule passed.
    pub problems: Vec<String>,
}

/// Finds `<stem>.<kind>.{yaml,yml,json}` beside a rule file.
pub fn example(rule_file: &Path, kind: &str) -> Option<PathBuf> {
    let stem = rule_file.file_stem()?.to_str()?;
    let dir = rule_file.parent()?;
    ["yaml", "yml", "json"]
        .iter()
        .map(|ext| dir.join(format!("{stem}.{kind}.{ext}")))
        .find(|p| p.is_file())
}

/// Tests every rule (which must come from files) against its examples.
pub fn test_rules(rules: Vec<Rule>) -> Vec<RuleTest> {
    rules.into_iter().map(test_rule).collect()
}

fn counts(path: &Path, set: &RuleSet) -> Result<BTreeMap<String, usize>, String> {
    let report = lint::lint_file(path, set, LintOptions::default());
    if let Some(e) = report.errors.first() {
        return Err(format!("{}: {}", path.display(), e.message));
    }
    let mut counts = BTreeMap::new();
    for f in &report.findings {
        *counts.entry(f.resource.clone()).or_insert(0) += 1;
    }
    Ok(counts)
}

fn test_rule(rule: Rule) -> RuleTest {
    let label = format!("{} {}", rule.code, rule.name);
    let mut problems = Vec::new();
    let Some(origin) = rule.origin.clone() else {
        return RuleTest {
            rule: label,
            problems: vec!["built-in rule without a file; test the rules folder".into()],
        };
    };
    let expected = rule.expected.clone();
    let set = RuleSet {
        rules: vec![rule],
        ..RuleSet::default()
    };
    match example(&origin, "pass") {
        None => problems.push(format!(
            "missing passing example {}",
            origin.with_extension("pass.yaml").display()
        )),
        Some(pass) => match counts(&pass, &set) {
            Ok(c) if c.is_empty() => {}
            Ok(c) => problems.push(format!(
                "{}: expected no findings, got {}",
                pass.display(),
                describe(&c)
            )),
            Err(e) => problems.push(e),
        },
    }
    match example(&origin, "fail") {
        None => problems.push(format!(
            "missing failing example {}",
            origin.with_extension("fail.yaml").display()
        )),
        Some(fail) => match counts(&fail, &set) {
            Ok(c) if c == expected => {}
            Ok(c) => problems.push(format!(
                "{}: expected {}, got {}",
                fail.display(),
                describe(&expected),
                describe(&c)
            )),
            Err(e) => problems.push(e),
        },
    }
    if expected.is_empty() {
        problems.push(
            "`examples.fail` must name at least one logical ID that the failing example flags"
                .into(),
        );
    }
    RuleTest {
        rule: label,
        problems,
    }
}

fn describe(c: &BTreeMap<String, usize>) -> String {
    if c.is_empty() {
        return "no findings".into();
    }
    c.iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
