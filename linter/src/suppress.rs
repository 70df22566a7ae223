//! Suppressions written in templates (`Metadata: {tap-lint: {ignore: [{rule, reason}]}}`) and the
//! engine-level meta rules that keep them honest: a reason is required, unused or unknown
//! suppressions are reported, and a central config can make chosen rules unsuppressable.

use crate::finding::{About, Finding, LineIndex, RuleMeta};
use crate::model::node::{Node, Span};
use crate::model::template::{Template, escape_pointer};
use crate::rules::{RuleSet, Severity};

/// A rule implemented by the engine itself (not a YAML rule), so it can judge suppressions.
#[derive(Clone, Copy, Debug)]
pub struct MetaRule {
    /// Stable code.
    pub code: &'static str,
    /// Kebab-case name.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line for listings.
    pub summary: &'static str,
    /// What it detects.
    pub what: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix it.
    pub fix: &'static str,
}

/// Code of the meta rule for a suppression without a reason.
pub const MISSING_REASON: &str = "TAP001";
/// Code of the meta rule for a suppression that matched nothing.
pub const UNUSED: &str = "TAP002";
/// Code of the meta rule for a suppression naming a rule that does not exist.
pub const UNKNOWN_RULE: &str = "TAP003";
/// Code of the meta rule for a suppression of a rule the config forbids suppressing.
pub const FORBIDDEN: &str = "TAP004";
/// Code of the meta rule for a `tap-lint` metadata block of the wrong shape.
pub const MALFORMED: &str = "TAP005";

/// The meta rules, in code order: `tap-lint explain`, `rules`, SARIF and config know them.
pub const META_RULES: [MetaRule; 5] = [
    MetaRule {
        code: MISSING_REASON,
        name: "suppression-without-reason",
        severity: Severity::Warning,
        summary: "A suppression must say why the finding is acceptable",
        what: "A `tap-lint` ignore entry without a `reason`, or with an empty one. The suppression is not honoured: the original finding is reported too.",
        why: "A suppression without a reason cannot be reviewed and outlives the decision behind it.",
        fix: "Add `reason: \"...\"` to the entry, saying why the finding is acceptable here.",
    },
    MetaRule {
        code: UNUSED,
        name: "unused-suppression",
        severity: Severity::Warning,
        summary: "A suppression matches no finding",
        what: "A `tap-lint` ignore entry for a rule in force that reported nothing on the resource (or, template-wide, in the template).",
        why: "Stale suppressions rot: they hide the next real finding of the same rule.",
        fix: "Delete the entry.",
    },
    MetaRule {
        code: UNKNOWN_RULE,
        name: "suppression-of-unknown-rule",
        severity: Severity::Error,
        summary: "A suppression names a rule that does not exist",
        what: "A `tap-lint` ignore entry whose `rule` is neither a rule code nor a rule name.",
        why: "A typo in a suppression silently suppresses nothing.",
        fix: "Use a code or name from `tap-lint rules`.",
    },
    MetaRule {
        code: FORBIDDEN,
        name: "unsuppressable-rule-suppressed",
        severity: Severity::Error,
        summary: "The configuration forbids suppressing this rule",
        what: "A `tap-lint` ignore entry for a rule listed under `unsuppressable` in `.tap-lint.yaml`. The suppression is ignored and the finding reported.",
        why: "A central team can make guardrails that individual stacks cannot opt out of.",
        fix: "Fix the finding, or ask the owners of the configuration for an exception.",
    },
    MetaRule {
        code: MALFORMED,
        name: "malformed-suppression",
        severity: Severity::Error,
        summary: "A `tap-lint` metadata block has the wrong shape",
        what: "`Metadata.tap-lint` that is not `{ignore: [{rule: ..., reason: ...}]}`.",
        why: "A suppression tap-lint cannot read suppresses nothing.",
        fix: "Write `Metadata: {tap-lint: {ignore: [{rule: <code or name>, reason: \"...\"}]}}`.",
    },
];

/// Finds a meta rule by code (case-insensitive) or name.
pub fn meta_rule(key: &str) -> Option<&'static MetaRule> {
    META_RULES
        .iter()
        .find(|m| m.code.eq_ignore_ascii_case(key) || m.name == key)
}

/// One ignore entry as written.
struct Entry<'a> {
    node: &'a Node,
    pointer: String,
    rule: Option<String>,
    /// Index into the template's items, or None for template-wide entries.
    item: Option<usize>,
}

/// Applies the template's suppressions to its findings and adds the meta findings about them.
pub fn apply(
    t: &Template,
    rules: &RuleSet,
    index: &LineIndex<'_>,
    file: &str,
    findings: &mut Vec<Finding>,
) {
    let policy = &rules.policy;
    let mut meta = Vec::new();
    let mut entries = Vec::new();
    let mut push_meta =
        |code: &str, item: Option<usize>, span: Span, pointer: String, message: String| {
            meta.push((code.to_string(), item, span, pointer, message));
        };
    if let Some(block) = t
        .root
        .get("Metadata")
        .and_then(|m| m.as_map()?.entry("tap-lint"))
    {
        collect(
            &block.value,
            "/Metadata/tap-lint",
            None,
            block.key_span,
            &mut entries,
            &mut push_meta,
        );
    }
    for item in 0..t.resource_count {
        if let Some(block) = t
            .node(item)
            .get("Metadata")
            .and_then(|m| m.as_map()?.entry("tap-lint"))
        {
            let base = format!("{}/Metadata/tap-lint", t.pointer(item));
            collect(
                &block.value,
                &base,
                Some(item),
                block.key_span,
                &mut entries,
                &mut push_meta,
            );
        }
    }
    let resolve = |key: &str| -> Option<(String, String)> {
        if policy.known.is_empty() {
            rules.find(key).map(|r| (r.code.clone(), r.name.clone()))
        } else {
            policy
                .known
                .iter()
                .find(|(c, n)| c.eq_ignore_ascii_case(key) || n == key)
                .cloned()
        }
    };
    for e in &entries {
        let Some(key) = &e.rule else { continue };
        let span = e.node.span;
        let Some((code, name)) = resolve(key) else {
            push_meta(
                UNKNOWN_RULE,
                e.item,
                span,
                e.pointer.clone(),
                format!("suppression names `{key}`, which is not a rule"),
            );
            continue;
        };
        let reason = e.node.get("reason").and_then(Node::as_str).map(str::trim);
        if reason.is_none_or(str::is_empty) {
            push_meta(
                MISSING_REASON,
                e.item,
                span,
                e.pointer.clone(),
                format!("suppression of {code} {name} has no reason, so it is not honoured"),
            );
            continue;
        }
        if policy.unsuppressable.contains(&code) {
            push_meta(
                FORBIDDEN,
                e.item,
                span,
                e.pointer.clone(),
                format!("{code} {name} may not be suppressed (configuration `unsuppressable`)"),
            );
            continue;
        }
        let resource = e.item.map(|i| &*t.items[i].id);
        let before = findings.len();
        findings.retain(|f| f.code != code || resource.is_some_and(|r| r != f.resource));
        let in_force = rules.rules.iter().any(|r| r.code == code);
        if findings.len() == before && in_force {
            let scope =
                resource.map_or_else(|| "in this template".to_string(), |r| format!("on {r}"));
            push_meta(
                UNUSED,
                e.item,
                span,
                e.pointer.clone(),
                format!("suppression of {code} {name} matches no finding {scope}"),
            );
        }
    }
    for (code, item, span, pointer, message) in meta {
        if policy.disabled.contains(&code) {
            continue;
        }
        let Some(rule) = meta_rule(&code) else {
            continue;
        };
        let meta = RuleMeta {
            code: rule.code,
            name: rule.name,
            severity: policy
                .severity
                .get(rule.code)
                .copied()
                .unwrap_or(rule.severity),
        };
        let about = About {
            resource: item.map_or_else(String::new, |i| t.items[i].id.to_string()),
            pointer,
            cdk_path: item.and_then(|i| t.cdk_path(i)).map(str::to_string),
        };
        findings.push(Finding::new(meta, file, index, span, about, message));
    }
    findings.sort_by(|a, b| (a.span, &a.code, &a.pointer).cmp(&(b.span, &b.code, &b.pointer)));
}

/// Reads one `tap-lint` block: `{ignore: [{rule, reason}]}`; shape errors become meta findings.
fn collect<'a>(
    block: &'a Node,
    base: &str,
    item: Option<usize>,
    key_span: Span,
    entries: &mut Vec<Entry<'a>>,
    meta: &mut impl FnMut(&str, Option<usize>, Span, String, String),
) {
    let Some(map) = block.as_map() else {
        meta(
            MALFORMED,
            item,
            key_span,
            base.to_string(),
            "`tap-lint` metadata must be a mapping with an `ignore` list".into(),
        );
        return;
    };
    for extra in map.entries.iter().filter(|e| &*e.key != "ignore") {
        meta(
            MALFORMED,
            item,
            extra.key_span,
            format!("{base}/{}", escape_pointer(&extra.key)),
            format!(
                "unknown key `{}` in `tap-lint` metadata (expected `ignore`)",
                extra.key
            ),
        );
    }
    let Some(ignore) = map.entry("ignore") else {
        return;
    };
    let Some(list) = ignore.value.as_seq() else {
        meta(
            MALFORMED,
            item,
            ignore.key_span,
            format!("{base}/ignore"),
            "`ignore` must be a list of `{rule, reason}` entries".into(),
        );
        return;
    };
    for (i, node) in list.iter().enumerate() {
        let pointer = format!("{base}/ignore/{i}");
        let rule = match node.as_map() {
            Some(m) => {
                if let Some(bad) = m
                    .entries
                    .iter()
                    .find(|e| !matches!(&*e.key, "rule" | "reason"))
                {
                    meta(
                        MALFORMED,
                        item,
                        bad.key_span,
                        format!("{pointer}/{}", escape_pointer(&bad.key)),
                        format!(
                            "unknown key `{}` in a suppression (expected `rule` and `reason`)",
                            bad.key
                        ),
                    );
                }
                m.get("rule").and_then(Node::as_str).map(str::to_string)
            }
            None => None,
        };
        if rule.is_none() {
            meta(
                MALFORMED,
                item,
                node.span,
                pointer.clone(),
                "a suppression needs `rule: <code or name>`".into(),
            );
        }
        entries.push(Entry {
            node,
            pointer,
            rule,
            item,
        });
    }
}
