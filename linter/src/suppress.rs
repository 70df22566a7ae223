//! Suppressions written in templates (`Metadata: {tap-lint: {ignore: [{rule, reason}]}}`) and
//! the findings of the meta rules ([`crate::rules::meta`]) that keep them honest: a reason is
//! required, unused or unknown suppressions are reported, and a central config can make chosen
//! rules unsuppressable.

use crate::finding::{About, Finding, LineIndex, RuleMeta};
use crate::model::node::{Node, Span};
use crate::model::template::{Template, escape_pointer};
use crate::rules::RuleSet;
use crate::rules::meta::{FORBIDDEN, MALFORMED, MISSING_REASON, UNKNOWN_RULE, UNUSED};

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
    for e in &entries {
        let Some(key) = &e.rule else { continue };
        let span = e.node.span;
        let Some((code, name)) = rules.find(key).map(|r| (r.code, r.name)) else {
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
        if rules.unsuppressable.contains(code) {
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
        let in_force = rules.is_enabled(code);
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
        let Some(rule) = rules.find(&code).filter(|r| r.enabled) else {
            continue;
        };
        let meta = RuleMeta {
            code: rule.code,
            name: rule.name,
            severity: rule.severity,
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
