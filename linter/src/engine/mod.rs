//! Rules × resources → findings.

pub mod eval;
pub mod graph;
pub mod iam;
pub mod network;
pub mod outcome;
pub mod path;
pub mod schema;
pub mod values;

use outcome::{Env, Memo, Outcome};

use crate::model::node::Span;
use crate::model::template::Template;
use crate::rules::check::{TypeGlob, any_glob};
use crate::rules::plan::{self, FixPlan};
use crate::rules::{Applicability, Rule, RuleSet, placeholders};

/// A violation found in one template, before it is tied to a file.
#[derive(Clone, Debug, PartialEq)]
pub struct RawFinding {
    /// Index of the rule in the rule set.
    pub rule: usize,
    /// Logical ID of the resource (or output) the finding points into.
    pub resource: String,
    /// RFC 6901 pointer of the offending (or missing) node.
    pub pointer: String,
    /// What to underline.
    pub span: Span,
    pub message: String,
    /// The CDK construct path of the resource, when CDK wrote one.
    pub cdk_path: Option<String>,
    /// The fix the failing assertion declares: applicability and title.
    pub fix: Option<(Applicability, String)>,
    /// The fix resolved into operations for this finding, when it can be applied here.
    pub plan: Option<FixPlan>,
    /// A severity other than the rule's ("cannot verify" findings are info).
    pub severity: Option<crate::rules::Severity>,
}

/// Whether findings carry their fix resolved into operations. The fixer and SARIF `fixes` need
/// the operations; a plain lint reports only the fix's title, and resolving every failure's fix
/// costs up to a quarter of a large template's run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plans {
    /// Resolve each failing assertion's fix into `RawFinding::plan`.
    Resolve,
    /// Leave `plan` empty.
    Skip,
}

/// Evaluates every rule on every selected resource; `source` is the template's text, for the
/// rules that prefilter on it.
pub fn evaluate(t: &Template, source: &str, rules: &RuleSet, plans: Plans) -> Vec<RawFinding> {
    let mut out = Vec::new();
    let memo = Memo::default();
    let active: Vec<(usize, &Rule)> = (rules.enabled_rules())
        .filter(|(_, rule)| {
            rule.select
                .source
                .as_ref()
                .is_none_or(|re| re.is_match(source))
        })
        .collect();
    // The rules each kind of item is a subject of, found once per kind: a template repeats a
    // few types many times, and matching every rule's globs against every item added up.
    let mut by_kind: Vec<(&str, bool, Vec<usize>)> = Vec::new();
    for item in 0..t.items.len() {
        let kind = &*t.items[item].kind;
        let resource = item < t.resource_count;
        let at = match (by_kind.iter()).position(|(k, r, _)| *r == resource && *k == kind) {
            Some(at) => at,
            None => {
                let subjects = (0..active.len())
                    .filter(|&i| selects(active[i].1, kind, resource))
                    .collect();
                by_kind.push((kind, resource, subjects));
                by_kind.len() - 1
            }
        };
        for &i in &by_kind[at].2 {
            evaluate_subject(t, &memo, active[i], item, plans, &mut out);
        }
    }
    out.sort_by(|a, b| {
        (a.span, &rules.rule(a.rule).code, &a.pointer).cmp(&(
            b.span,
            &rules.rule(b.rule).code,
            &b.pointer,
        ))
    });
    out.dedup_by(|a, b| a.rule == b.rule && a.pointer == b.pointer && a.message == b.message);
    out
}

/// Whether a rule's selection takes an item of this kind. Outputs and parameters are subjects
/// only of rules that name their pseudo type (`Output`, `Parameter`): `*` means every resource,
/// and no resource rule expects their shape.
fn selects(rule: &Rule, kind: &str, resource: bool) -> bool {
    match resource {
        true => any_glob(&rule.select.types, kind),
        false => {
            (rule.select.types.iter()).any(|g| matches!(g, TypeGlob::Exact(e) if **e == *kind))
        }
    }
}

fn evaluate_subject(
    t: &Template,
    memo: &Memo,
    (ri, rule): (usize, &Rule),
    subject: usize,
    plans: Plans,
    out: &mut Vec<RawFinding>,
) {
    let mut env = Env {
        t,
        bindings: vec![(std::borrow::Cow::Borrowed("subject"), subject)],
        memo,
    };
    let root = env.item_here(subject);
    if let Some(pre) = &rule.select.precondition
        && !matches!(eval::eval(pre, &mut env, &root), Outcome::Pass)
    {
        return;
    }
    for assertion in &rule.assertions {
        let failures = match eval::eval(&assertion.check, &mut env, &root) {
            Outcome::Fail(failures) => failures,
            Outcome::Skip if assertion.report_unknown => {
                out.push(cannot_verify(t, ri, rule, assertion, subject, &root));
                continue;
            }
            _ => continue,
        };
        for mut failure in failures {
            if let Some(at) = &assertion.at {
                let places = path::collect(root.place, at);
                if let Some((place, rel)) = places.into_iter().next() {
                    failure.item = subject;
                    failure.label = place.label;
                    failure.pointer = format!("{}{rel}", root.ptr);
                }
            }
            let template = assertion.message.as_deref().unwrap_or(&rule.message);
            let message = render(template, t, &failure, rule);
            let resolved = assertion
                .fix
                .as_ref()
                .filter(|f| plans == Plans::Resolve && !f.ops.is_empty())
                .and_then(|spec| {
                    let mut vars = failure.vars.clone();
                    vars.push(("resource".into(), t.items[failure.item].id.to_string()));
                    vars.push(("type".into(), t.items[failure.item].kind.to_string()));
                    let cx = plan::Context {
                        t,
                        subject,
                        failure_pointer: &failure.pointer,
                        vars: &vars,
                        settings: &rule.settings,
                    };
                    plan::resolve(spec, &cx)
                });
            out.push(RawFinding {
                rule: ri,
                resource: t.items[failure.item].id.to_string(),
                pointer: failure.pointer,
                span: failure.label,
                message,
                cdk_path: t.cdk_path(failure.item).map(str::to_string),
                fix: assertion
                    .fix
                    .as_ref()
                    .map(|f| (f.applicability, f.title.clone())),
                plan: resolved,
                severity: None,
            });
        }
    }
}

/// The info finding for an assertion that asked to hear about values it could not know.
fn cannot_verify(
    t: &Template,
    ri: usize,
    rule: &Rule,
    assertion: &crate::rules::Assertion,
    subject: usize,
    root: &outcome::Here<'_>,
) -> RawFinding {
    let (pointer, span) = match assertion
        .at
        .as_ref()
        .and_then(|at| path::collect(root.place, at).into_iter().next())
    {
        Some((place, rel)) => (format!("{}{rel}", root.ptr), place.label),
        None => (root.ptr.to_string(), root.place.label),
    };
    let id = &t.items[subject].id;
    RawFinding {
        rule: ri,
        resource: id.to_string(),
        pointer,
        span,
        message: format!(
            "cannot verify {id} statically: a value it depends on is only known at deploy time ({})",
            rule.summary
        ),
        cdk_path: t.cdk_path(subject).map(str::to_string),
        fix: None,
        plan: None,
        severity: Some(crate::rules::Severity::Info),
    }
}

/// Fills `{placeholders}`; the set was checked when the rule loaded.
fn render(template: &str, t: &Template, f: &outcome::Failure, rule: &Rule) -> String {
    let item = &t.items[f.item];
    let item_ptr = t.pointer(f.item);
    let rel = f.pointer.strip_prefix(item_ptr).unwrap_or(&f.pointer);
    let property = crate::model::pointer::last(rel);
    let value = |name: &str| match name {
        "resource" => Some(item.id.to_string()),
        "type" => Some(item.kind.to_string()),
        "path" => Some(rel.to_string()),
        "property" => Some(property.to_string()),
        "cdk_path" => t.cdk_path(f.item).map(str::to_string),
        _ => f
            .vars
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| setting(rule, name)),
    };
    // A placeholder without a value here (a binding that matched nothing) reads `?`.
    placeholders::fill(template, |name| {
        Some(value(name).unwrap_or_else(|| "?".into()))
    })
    .unwrap_or_default()
}

fn setting(rule: &Rule, name: &str) -> Option<String> {
    rule.settings.get(name).map(eval::json_text)
}
