//! The outcome algebra and the evaluation environment: what every check returns (pass, fail
//! at places, or skip when a value is unknowable), how outcomes combine, and where a check is
//! evaluated. The evaluator (`eval`) and the IAM and network primitives all build on it, so it
//! lives apart from them and none of them imports another to get it.

use std::cell::RefCell;
use std::collections::HashMap;

use super::path::{Hit, Place};
use super::values;
use crate::model::node::Span;
use crate::model::template::Template;
use crate::rules::check::ReferencedBy;

/// The result of a check.
#[derive(Debug)]
pub enum Outcome {
    /// Holds.
    Pass,
    /// Cannot be decided statically.
    Skip,
    /// Violated, at these places.
    Fail(Vec<Failure>),
}

/// One violation place.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The item (resource or output) the place is in.
    pub item: usize,
    /// RFC 6901 pointer from the document root (may name a missing property).
    pub pointer: String,
    /// What to underline.
    pub label: Span,
    /// Message placeholders.
    pub vars: Vec<(String, String)>,
}

/// The evaluation environment: the template, the subject and named related resources.
pub struct Env<'t> {
    /// The template.
    pub t: &'t Template,
    /// Bound names (`subject` first) to items.
    pub bindings: Vec<(String, usize)>,
    /// What this template's evaluation has worked out once for every subject.
    pub memo: &'t Memo,
}

/// Template-wide tables that checks build on first use and every later subject reuses: without
/// them a check that looks at every other resource costs time in the square of the resources.
#[derive(Default)]
pub struct Memo {
    /// For each `referenced_by` with a path (by address: the rule set outlives the evaluation),
    /// every item's referrers through that path.
    pub(super) referrers_by_path: RefCell<HashMap<*const ReferencedBy, Vec<Vec<usize>>>>,
}

/// Where a check is evaluated.
#[derive(Clone)]
pub struct Here<'t> {
    /// The item the node is in.
    pub item: usize,
    /// The place.
    pub place: Place<'t>,
    /// Absolute pointer of the node.
    pub ptr: String,
}

impl<'t> Env<'t> {
    /// The item bound to a name.
    pub fn bound(&self, name: &str) -> Option<usize> {
        self.bindings
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, i)| *i)
    }

    /// The root of an item, as a place to evaluate from.
    pub fn item_here(&self, item: usize) -> Here<'t> {
        let node = self.t.node(item);
        Here {
            item,
            place: Place {
                hit: Hit::Found(node),
                key: None,
                label: self.t.id_span(item),
            },
            ptr: self.t.pointer(item),
        }
    }

    /// A failure at a place, with the bindings in force as placeholders.
    pub fn failure(
        &self,
        item: usize,
        pointer: String,
        label: Span,
        mut vars: Vec<(String, String)>,
    ) -> Failure {
        for (name, it) in &self.bindings {
            vars.push((name.clone(), self.t.items[*it].id.to_string()));
        }
        Failure {
            item,
            pointer,
            label,
            vars,
        }
    }

    pub(super) fn fail_here(&self, here: &Here<'t>, mut vars: Vec<(String, String)>) -> Outcome {
        if let Some(key) = here.place.key {
            vars.push(("key".into(), key.to_string()));
        }
        if let Hit::Found(node) = here.place.hit {
            vars.push(("value".into(), values::display(self.t, node)));
        }
        Outcome::Fail(vec![self.failure(
            here.item,
            here.ptr.clone(),
            here.place.label,
            vars,
        )])
    }
}

/// Combines outcomes where every one must pass.
pub(super) fn all_of(outcomes: impl IntoIterator<Item = Outcome>) -> Outcome {
    let mut failures = Vec::new();
    let mut skipped = false;
    for o in outcomes {
        match o {
            Outcome::Pass => {}
            Outcome::Skip => skipped = true,
            Outcome::Fail(f) => failures.extend(f),
        }
    }
    if !failures.is_empty() {
        Outcome::Fail(failures)
    } else if skipped {
        Outcome::Skip
    } else {
        Outcome::Pass
    }
}

/// Combines outcomes where one passing is enough; reports the first failure otherwise.
pub(super) fn any_of(
    outcomes: impl IntoIterator<Item = Outcome>,
    none: impl FnOnce() -> Outcome,
) -> Outcome {
    let mut first_failure = None;
    let mut skipped = false;
    let mut seen = false;
    for o in outcomes {
        seen = true;
        match o {
            Outcome::Pass => return Outcome::Pass,
            Outcome::Skip => skipped = true,
            Outcome::Fail(f) => {
                first_failure.get_or_insert(f);
            }
        }
    }
    if !seen {
        none()
    } else if skipped {
        Outcome::Skip
    } else {
        Outcome::Fail(first_failure.unwrap_or_default())
    }
}
