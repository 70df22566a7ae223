//! The `schema` operator: a resource's `Properties` against its type's resource provider schema.
//!
//! Precision beats recall. A value behind an intrinsic function is unknown and never a
//! violation; an `Fn::If` is checked branch by branch, and what one branch gets wrong is
//! reported with the condition that takes it (deploying with that condition fails; a nested
//! `Fn::If` on a condition already taken follows it, so a branch that needs a condition both
//! true and false is never reported); `{"Ref": "AWS::NoValue"}` removes its property. Templates run
//! through a macro other than SAM and the language extensions are not checked at all, since the
//! template CloudFormation validates is the macro's output.

mod object;
mod walk;

use std::rc::Rc;

use super::outcome::{Env, Failure, Here, Outcome};
use super::path::Hit;
use crate::model::node::{Node, Span};
use crate::model::template::{Section, Template};
use crate::rules::check::{SchemaCheck, SchemaClass};
use crate::schema::{self, Lookup, suggest};
use walk::Walker;

/// Transforms whose output keeps the resources we check as they are written: SAM adds resources
/// for its own `AWS::Serverless::*` types, the language extensions add intrinsics (which read
/// as unknown). Any other macro can rewrite anything.
const TRANSFORMS_KEEPING_RESOURCES: [&str; 2] =
    ["AWS::Serverless-2016-10-31", "AWS::LanguageExtensions"];

/// `AWS::` types that are not validated: SAM's (expanded by its transform) and the generic
/// custom resource, whose properties belong to its provider.
pub(super) fn unchecked_aws_type(kind: &str) -> bool {
    kind.starts_with("AWS::Serverless::")
        || kind == "AWS::CloudFormation::CustomResource"
        || kind.ends_with("::MODULE")
}

/// One violation, before it becomes a [`Failure`].
pub(super) struct Violation {
    pub class: SchemaClass,
    pub pointer: String,
    pub label: Span,
    /// `value`, `expected`, `allowed`, `suggestion`.
    pub vars: [String; 4],
    /// The `Fn::If` conditions under which the violation happens, with their values.
    pub when: Vec<(String, bool)>,
}

/// ` (when condition `A` is true and `B` is false)`, or nothing when it always happens.
fn when_text(when: &[(String, bool)]) -> String {
    if when.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = (when.iter())
        .map(|(c, taken)| format!("`{c}` is {taken}"))
        .collect();
    let noun = if when.len() == 1 {
        "condition"
    } else {
        "conditions"
    };
    format!(" (when {noun} {})", parts.join(" and "))
}

/// Evaluates the operator on the subject resource.
pub fn eval<'t>(check: &SchemaCheck, env: &mut Env<'t>, here: &Here<'t>) -> Outcome {
    let t = env.t;
    let item = &t.items[here.item];
    let Hit::Found(resource) = here.place.hit else {
        return Outcome::Skip;
    };
    if item.section != Section::Resources {
        return Outcome::Pass;
    }
    if !transforms_keep_resources(t) {
        return Outcome::Skip;
    }
    let memo = env.memo;
    let found = Rc::clone(
        (memo.schema_violations.borrow_mut().entry(here.item))
            .or_insert_with(|| violations(t, &item.kind, resource, here).into()),
    );
    let failures: Vec<Failure> = (found.iter())
        .filter(|v| check.classes.contains(&v.class))
        .map(|v| {
            let [value, expected, allowed, suggestion] = v.vars.clone();
            let vars = vec![
                ("value".to_string(), value),
                ("expected".to_string(), expected),
                ("allowed".to_string(), allowed),
                ("suggestion".to_string(), suggestion),
                ("when".to_string(), when_text(&v.when)),
            ];
            env.failure(here.item, v.pointer.clone(), v.label, vars)
        })
        .collect();
    if failures.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(failures)
    }
}

/// Every violation of every class on a resource: one walk serves all the schema rules.
fn violations(t: &Template, kind: &str, resource: &Node, here: &Here<'_>) -> Vec<Violation> {
    match schema::lookup(kind) {
        _ if unchecked_aws_type(kind) => Vec::new(),
        Lookup::Unchecked => Vec::new(),
        Lookup::Unknown => unknown_type(t, kind, resource, here),
        Lookup::Known(schema) => {
            let mut w = Walker::new(t, schema, &[]);
            w.resource(resource, &here.ptr, t.id_span(here.item));
            w.found
        }
    }
}

/// An `AWS::` type no region has (third-party `Org::Service::Type`s and `Custom::` are fine).
fn unknown_type(t: &Template, kind: &str, resource: &Node, here: &Here<'_>) -> Vec<Violation> {
    if !kind.starts_with("AWS::") {
        return Vec::new();
    }
    let Some(entry) = resource.as_map().and_then(|m| m.entry("Type")) else {
        return Vec::new();
    };
    let suggestion = suggest::closest(kind, schema::type_names())
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    vec![Violation {
        class: SchemaClass::UnknownType,
        pointer: format!("{}/Type", here.ptr),
        label: entry.value.span,
        vars: [
            super::values::display(t, &entry.value),
            String::new(),
            String::new(),
            suggestion,
        ],
        when: Vec::new(),
    }]
}

/// Whether the template's `Transform`s (if any) leave the written resources as they are.
fn transforms_keep_resources(t: &Template) -> bool {
    let Some(transform) = t.root.get("Transform") else {
        return true;
    };
    let names: Vec<&Node> = match transform.as_seq() {
        Some(list) => list.iter().collect(),
        None => vec![transform],
    };
    names.iter().all(|n| {
        n.as_str()
            .is_some_and(|s| TRANSFORMS_KEEPING_RESOURCES.contains(&s))
    })
}
