//! `tap-lint test-rules`: every rule against its own passing and failing examples.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::fix::{self, FixOptions};
use crate::rules::{Rule, RuleSet};
use crate::run::lint::{self, LintOptions};

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
    let mut set = RuleSet::new(vec![rule]);
    // An opt-in rule's examples are tested like any other's.
    set.select(|_| true);
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
    check_fixed_example(&origin, &set, &mut problems);
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

/// A rule that declares an applicable fix must show it: `<stem>.fail.fixed.<ext>` is the failing
/// example after `--fix --unsafe-fixes` with this rule alone, byte for byte. A fixed example
/// without an applicable fix is an error too.
fn check_fixed_example(origin: &Path, set: &RuleSet, problems: &mut Vec<String>) {
    let fixable = set
        .rule(0)
        .assertions
        .iter()
        .filter_map(|a| a.fix.as_ref())
        .any(|f| f.applicability != crate::rules::Applicability::DisplayOnly && !f.ops.is_empty());
    let fixed = example(origin, "fail.fixed");
    let Some(fail) = example(origin, "fail") else {
        return;
    };
    match (fixable, fixed) {
        (false, None) => {}
        (false, Some(path)) => problems.push(format!("{}: the rule declares no applicable fix", path.display())),
        (true, None) => problems.push(format!(
            "the rule declares a fix but has no fixed example ({}); run `tap-lint --fix --unsafe-fixes --select {} <copy of the failing example>` and review it",
            fail.with_extension(format!("fixed.{}", fail.extension().and_then(|e| e.to_str()).unwrap_or("yaml"))).display(),
            set.rule(0).code
        )),
        (true, Some(path)) => {
            let (Ok(before), Ok(want)) = (std::fs::read_to_string(&fail), std::fs::read_to_string(&path)) else {
                problems.push(format!("cannot read {} or {}", fail.display(), path.display()));
                return;
            };
            match fix::fix_text(&fail.display().to_string(), &before, set, FixOptions { unsafe_fixes: true }) {
                Ok(got) if got.text == want => {}
                Ok(got) => problems.push(format!(
                    "{}: the fix produces something else:\n{}",
                    path.display(),
                    fix::unified_diff(&path.display().to_string(), &want, &got.text)
                )),
                Err(e) => problems.push(format!("{}: {e}", fail.display())),
            }
        }
    }
}
