//! Suppressions written in templates (`Metadata: {tap-lint: {ignore: [{rule, reason}]}}`) and
//! the findings of the meta rules ([`crate::rules::meta`]) that keep them honest: a reason is
//! required, unused or unknown suppressions are reported, and a central config can make chosen
//! rules unsuppressable.

use crate::finding::{About, Finding, LineIndex, RuleMeta};
use crate::model::node::{Node, Span};
use crate::model::pointer::escape;
use crate::model::template::Template;
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

/// What is wrong with a suppression: one variant per meta rule, each carrying what its message
/// needs, so a meta finding cannot be built with another rule's code or a half-filled message.
enum Problem {
    MissingReason {
        code: String,
        name: String,
    },
    Unused {
        code: String,
        name: String,
        scope: String,
    },
    UnknownRule {
        key: String,
    },
    Forbidden {
        code: String,
        name: String,
    },
    Malformed(Shape),
}

/// How a `tap-lint` metadata block departs from `{ignore: [{rule, reason}]}`.
enum Shape {
    NotAMapping,
    UnknownBlockKey(String),
    IgnoreNotAList,
    UnknownEntryKey(String),
    NoRule,
}

impl Problem {
    fn code(&self) -> &'static str {
        match self {
            Problem::MissingReason { .. } => MISSING_REASON,
            Problem::Unused { .. } => UNUSED,
            Problem::UnknownRule { .. } => UNKNOWN_RULE,
            Problem::Forbidden { .. } => FORBIDDEN,
            Problem::Malformed(_) => MALFORMED,
        }
    }

    fn message(&self) -> String {
        match self {
            Problem::MissingReason { code, name } => {
                format!("suppression of {code} {name} has no reason, so it is not honoured")
            }
            Problem::Unused { code, name, scope } => {
                format!("suppression of {code} {name} matches no finding {scope}")
            }
            Problem::UnknownRule { key } => {
                format!("suppression names `{key}`, which is not a rule")
            }
            Problem::Forbidden { code, name } => {
                format!("{code} {name} may not be suppressed (configuration `unsuppressable`)")
            }
            Problem::Malformed(shape) => match shape {
                Shape::NotAMapping => {
                    "`tap-lint` metadata must be a mapping with an `ignore` list".into()
                }
                Shape::UnknownBlockKey(key) => {
                    format!("unknown key `{key}` in `tap-lint` metadata (expected `ignore`)")
                }
                Shape::IgnoreNotAList => {
                    "`ignore` must be a list of `{rule, reason}` entries".into()
                }
                Shape::UnknownEntryKey(key) => {
                    format!("unknown key `{key}` in a suppression (expected `rule` and `reason`)")
                }
                Shape::NoRule => "a suppression needs `rule: <code or name>`".into(),
            },
        }
    }
}

/// A problem and where it is: the resource (None: the template), the node and its pointer.
struct Diagnostic {
    problem: Problem,
    item: Option<usize>,
    span: Span,
    pointer: String,
}

/// Applies the template's suppressions to its findings and adds the meta findings about them.
pub fn apply(
    t: &Template,
    rules: &RuleSet,
    index: &LineIndex<'_>,
    file: &str,
    findings: &mut Vec<Finding>,
) {
    let mut diagnostics = Vec::new();
    let entries = entries(t, &mut diagnostics);
    for e in &entries {
        if let Some(problem) = judge(e, t, rules, findings) {
            diagnostics.push(Diagnostic {
                problem,
                item: e.item,
                span: e.node.span,
                pointer: e.pointer.clone(),
            });
        }
    }
    for d in diagnostics {
        let Some(rule) = rules.find(d.problem.code()).filter(|r| r.enabled) else {
            continue;
        };
        let meta = RuleMeta {
            code: rule.code,
            name: rule.name,
            severity: rule.severity,
        };
        let about = About {
            resource: d
                .item
                .map_or_else(String::new, |i| t.items[i].id.to_string()),
            pointer: d.pointer,
            cdk_path: d.item.and_then(|i| t.cdk_path(i)).map(str::to_string),
        };
        findings.push(Finding::new(
            meta,
            file,
            index,
            d.span,
            about,
            d.problem.message(),
        ));
    }
    findings.sort_by(|a, b| (a.span, &a.code, &a.pointer).cmp(&(b.span, &b.code, &b.pointer)));
}

/// Every ignore entry of the template's and its resources' `tap-lint` blocks, in order.
fn entries<'t>(t: &'t Template, diagnostics: &mut Vec<Diagnostic>) -> Vec<Entry<'t>> {
    let mut entries = Vec::new();
    let block_of = |node: &'t Node| node.get("Metadata")?.as_map()?.entry("tap-lint");
    if let Some(block) = block_of(&t.root) {
        let base = "/Metadata/tap-lint";
        collect(
            &block.value,
            base,
            None,
            block.key_span,
            &mut entries,
            diagnostics,
        );
    }
    for item in 0..t.resource_count {
        if let Some(block) = block_of(t.node(item)) {
            let base = format!("{}/Metadata/tap-lint", t.pointer(item));
            let (value, key_span) = (&block.value, block.key_span);
            collect(
                value,
                &base,
                Some(item),
                key_span,
                &mut entries,
                diagnostics,
            );
        }
    }
    entries
}

/// Honours one entry (removing the findings it suppresses) or says why it cannot.
fn judge(
    e: &Entry<'_>,
    t: &Template,
    rules: &RuleSet,
    findings: &mut Vec<Finding>,
) -> Option<Problem> {
    let key = e.rule.as_ref()?;
    // Meta findings are judged after suppressions, so a meta rule cannot be suppressed.
    let Some(rule) = rules.find(key).filter(|r| !r.is_meta()) else {
        return Some(Problem::UnknownRule { key: key.clone() });
    };
    let (code, name) = (rule.code.to_string(), rule.name.to_string());
    let reason = e.node.get("reason").and_then(Node::as_str).map(str::trim);
    if reason.is_none_or(str::is_empty) {
        return Some(Problem::MissingReason { code, name });
    }
    if rules.unsuppressable.contains(&code) {
        return Some(Problem::Forbidden { code, name });
    }
    let resource = e.item.map(|i| &*t.items[i].id);
    let before = findings.len();
    findings.retain(|f| f.code != code || resource.is_some_and(|r| r != f.resource));
    // A deselected rule reports nothing, so its suppression is not unused, only idle.
    if findings.len() == before && rule.enabled {
        let scope = resource.map_or_else(|| "in this template".to_string(), |r| format!("on {r}"));
        return Some(Problem::Unused { code, name, scope });
    }
    None
}

/// Reads one `tap-lint` block: `{ignore: [{rule, reason}]}`; shape errors become diagnostics.
fn collect<'a>(
    block: &'a Node,
    base: &str,
    item: Option<usize>,
    key_span: Span,
    entries: &mut Vec<Entry<'a>>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut malformed = |shape: Shape, span: Span, pointer: String| {
        diagnostics.push(Diagnostic {
            problem: Problem::Malformed(shape),
            item,
            span,
            pointer,
        });
    };
    let Some(map) = block.as_map() else {
        malformed(Shape::NotAMapping, key_span, base.to_string());
        return;
    };
    for extra in map.entries.iter().filter(|e| &*e.key != "ignore") {
        let pointer = format!("{base}/{}", escape(&extra.key));
        malformed(
            Shape::UnknownBlockKey(extra.key.to_string()),
            extra.key_span,
            pointer,
        );
    }
    let Some(ignore) = map.entry("ignore") else {
        return;
    };
    let Some(list) = ignore.value.as_seq() else {
        malformed(
            Shape::IgnoreNotAList,
            ignore.key_span,
            format!("{base}/ignore"),
        );
        return;
    };
    for (i, node) in list.iter().enumerate() {
        let pointer = format!("{base}/ignore/{i}");
        let fields = node.as_map();
        let unknown = fields.and_then(|m| {
            m.entries
                .iter()
                .find(|e| !matches!(&*e.key, "rule" | "reason"))
        });
        if let Some(bad) = unknown {
            let at = format!("{pointer}/{}", escape(&bad.key));
            malformed(
                Shape::UnknownEntryKey(bad.key.to_string()),
                bad.key_span,
                at,
            );
        }
        let rule = fields
            .and_then(|m| m.get("rule"))
            .and_then(Node::as_str)
            .map(str::to_string);
        if rule.is_none() {
            malformed(Shape::NoRule, node.span, pointer.clone());
        }
        entries.push(Entry {
            node,
            pointer,
            rule,
            item,
        });
    }
}
