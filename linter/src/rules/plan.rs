//! A declared fix, resolved for one finding: concrete operations on absolute JSON pointers.

use serde_json::Value as Json;

use crate::model::pointer;
use crate::model::template::Template;
use crate::rules::{Applicability, placeholders};

/// One structural edit.
#[derive(Clone, Debug, PartialEq)]
pub enum OpKind {
    /// Replace or create the value.
    Set(Json),
    /// Create the value only when the pointer does not exist.
    SetIfAbsent(Json),
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

/// A fix: what it is (one shape for the declared fix and its resolved plans, so what users see
/// of a fix cannot drift between the two) and its operations, applied together or not at all.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan<O> {
    /// Whether `--fix` may apply it.
    pub applicability: Applicability,
    pub title: String,
    /// The CDK property to change in the source, for `cdk.out` templates.
    pub cdk: Option<String>,
    /// Empty for display-only suggestions.
    pub ops: Vec<O>,
}

/// A declared fix, compiled: its operations know their kind and target, and [`resolve`] turns
/// them into a [`FixPlan`] for each finding.
pub type Fix = Plan<FixOp>;

/// Everything needed to apply one finding's fix: operations on absolute pointers.
pub type FixPlan = Plan<Op>;

/// One declared operation, on the subject or on the resource bound to `on`.
#[derive(Clone, Debug, PartialEq)]
pub struct FixOp {
    pub on: Option<String>,
    pub action: Action,
}

/// What a declared operation does; values may hold `{placeholders}` and `{setting: name}`.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Set(Target, Json),
    SetIfAbsent(Target, Json),
    Remove(Target),
    Append(Target, Json),
    /// Add an entry to a template section when it is missing; the name may hold placeholders.
    Add(Section, String, Json),
}

/// Where an operation applies.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// The node the check failed at (`{path}`), for rules that check several properties.
    Failure,
    /// Keys relative to the resource.
    Path(Vec<String>),
}

/// The template sections a fix may add entries to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Section {
    Parameters,
    Resources,
    Outputs,
}

impl Section {
    fn key(self) -> &'static str {
        match self {
            Section::Parameters => "Parameters",
            Section::Resources => "Resources",
            Section::Outputs => "Outputs",
        }
    }
}

/// What a fix's templates may refer to.
pub struct Context<'a> {
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

/// Resolves a declared fix; `None` when it cannot apply here (a placeholder has no value, or a
/// bound resource is not in the template).
pub fn resolve(fix: &Fix, cx: &Context<'_>) -> Option<FixPlan> {
    let mut ops = Vec::new();
    for op in &fix.ops {
        let base = match &op.on {
            Some(name) => {
                let id = cx.vars.iter().rev().find(|(k, _)| k == name)?.1.as_str();
                cx.t.resource(id)?
            }
            None => cx.subject,
        };
        let target = |target: &Target| -> Vec<String> {
            match target {
                Target::Failure => pointer::split(cx.failure_pointer),
                Target::Path(rel) => {
                    let mut segs = pointer::split(cx.t.pointer(base));
                    segs.extend(rel.iter().cloned());
                    segs
                }
            }
        };
        let (pointer, kind) = match &op.action {
            Action::Set(t, v) => (target(t), OpKind::Set(render(v, cx)?)),
            Action::SetIfAbsent(t, v) => (target(t), OpKind::SetIfAbsent(render(v, cx)?)),
            Action::Remove(t) => (target(t), OpKind::Remove),
            Action::Append(t, v) => (target(t), OpKind::Append(render(v, cx)?)),
            Action::Add(section, name, v) => (
                vec![section.key().to_string(), render_text(name, cx)?],
                OpKind::SetIfAbsent(render(v, cx)?),
            ),
        };
        ops.push(Op { pointer, kind });
    }
    Some(FixPlan {
        applicability: fix.applicability,
        title: fix.title.clone(),
        cdk: fix.cdk.clone(),
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

/// Fills `{name}` placeholders (the grammar of [`placeholders`]). `None` when a placeholder has
/// no value here, so the fix is not offered rather than written wrongly.
fn render_text(text: &str, cx: &Context<'_>) -> Option<String> {
    placeholders::fill(text, |name| lookup(name, cx))
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
