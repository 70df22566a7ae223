//! A declared fix, resolved for one finding: concrete operations on absolute JSON pointers.

use serde_json::Value as Json;

use crate::model::template::Template;
use crate::rules::{Applicability, FixSpec};

/// One structural edit.
#[derive(Clone, Debug, PartialEq)]
pub enum OpKind {
    /// Replace or create the value.
    Set(Json),
    /// Create the value only when the pointer does not exist.
    SetIfAbsent(Json),
    /// Delete the node.
    Remove,
    /// Push onto the list (creating it).
    Append(Json),
}

/// An operation on an absolute pointer (segments, unescaped).
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    /// Keys from the document root.
    pub pointer: Vec<String>,
    /// What to do there.
    pub kind: OpKind,
}

/// Everything needed to apply one finding's fix.
#[derive(Clone, Debug, PartialEq)]
pub struct FixPlan {
    /// Whether `--fix` may apply it.
    pub applicability: Applicability,
    /// What it does.
    pub title: String,
    /// The CDK property to change in the source.
    pub cdk: Option<String>,
    /// The operations, applied together or not at all.
    pub ops: Vec<Op>,
}

/// What a fix's templates may refer to.
pub struct Context<'a> {
    /// The template.
    pub t: &'a Template,
    /// The subject's item.
    pub subject: usize,
    /// The failing node's absolute pointer.
    pub failure_pointer: &'a str,
    /// Placeholder values (bindings, value, key, literal...).
    pub vars: &'a [(String, String)],
    /// Effective settings.
    pub settings: &'a std::collections::BTreeMap<String, Json>,
}

/// Splits an RFC 6901 pointer into unescaped segments.
pub fn split_pointer(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Resolves a declared fix; `None` when it cannot apply here (a placeholder has no value, or the
/// fix only suggests).
pub fn resolve(spec: &FixSpec, cx: &Context<'_>) -> Option<FixPlan> {
    let mut ops = Vec::new();
    for op in &spec.ops {
        let base = match &op.on {
            Some(name) => {
                let id = cx.vars.iter().rev().find(|(k, _)| k == name)?.1.as_str();
                cx.t.resource(id)?
            }
            None => cx.subject,
        };
        let base_pointer = split_pointer(&cx.t.pointer(base));
        let target = |path: &str| -> Option<Vec<String>> {
            if path == "{path}" {
                return Some(split_pointer(cx.failure_pointer));
            }
            let mut segs = base_pointer.clone();
            segs.extend(split_pointer(path));
            Some(segs)
        };
        let value = match &op.value {
            Some(v) => Some(render(v, cx)?),
            None => None,
        };
        let (pointer, kind) = if let Some(p) = &op.set {
            (target(p)?, OpKind::Set(value?))
        } else if let Some(p) = &op.set_if_absent {
            (target(p)?, OpKind::SetIfAbsent(value?))
        } else if let Some(p) = &op.remove {
            (target(p)?, OpKind::Remove)
        } else if let Some(p) = &op.append {
            (target(p)?, OpKind::Append(value?))
        } else {
            let (section, name) = if let Some(n) = &op.add_parameter {
                ("Parameters", n)
            } else if let Some(n) = &op.add_resource {
                ("Resources", n)
            } else {
                ("Outputs", op.add_output.as_ref()?)
            };
            (
                vec![section.to_string(), render_text(name, cx)?],
                OpKind::SetIfAbsent(value?),
            )
        };
        ops.push(Op { pointer, kind });
    }
    Some(FixPlan {
        applicability: spec.applicability,
        title: spec.title.clone(),
        cdk: spec.cdk.clone(),
        ops,
    })
}

/// Resolves `{setting: name}` objects and `{placeholder}`s inside strings.
fn render(value: &Json, cx: &Context<'_>) -> Option<Json> {
    Some(match value {
        Json::Object(map) if map.len() == 1 && map.contains_key("setting") => {
            let name = map.get("setting")?.as_str()?;
            cx.settings.get(name)?.clone()
        }
        Json::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                out.insert(render_text(k, cx)?, render(v, cx)?);
            }
            Json::Object(out)
        }
        Json::Array(items) => {
            Json::Array(items.iter().map(|v| render(v, cx)).collect::<Option<_>>()?)
        }
        Json::String(s) => Json::String(render_text(s, cx)?),
        other => other.clone(),
    })
}

/// Replaces `{name}` placeholders; `${...}` (Fn::Sub variables) is left alone. `None` when a
/// placeholder has no value here, so the fix is not offered rather than written wrongly.
fn render_text(text: &str, cx: &Context<'_>) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let dollar = out.ends_with('$');
        match after.find('}') {
            Some(close) if !dollar && is_name(&after[..close]) => {
                out.push_str(&lookup(&after[..close], cx)?);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn lookup(name: &str, cx: &Context<'_>) -> Option<String> {
    if name == "suffix_parameter" {
        return Some(suffix_parameter(cx));
    }
    if let Some((_, v)) = cx.vars.iter().rev().find(|(k, _)| k == name) {
        return Some(v.clone());
    }
    match cx.settings.get(name)? {
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The template's own environment-suffix parameter when it has one (any case), else the setting.
fn suffix_parameter(cx: &Context<'_>) -> String {
    let wanted = cx
        .settings
        .get("suffix_parameter")
        .and_then(Json::as_str)
        .unwrap_or("EnvironmentSuffix");
    cx.t.root
        .get("Parameters")
        .and_then(|p| p.as_map())
        .and_then(|m| {
            m.entries
                .iter()
                .find(|e| e.key.eq_ignore_ascii_case(wanted))
        })
        .map_or_else(|| wanted.to_string(), |e| e.key.to_string())
}
