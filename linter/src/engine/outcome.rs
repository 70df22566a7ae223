//! The outcome algebra and the evaluation environment: what every check returns (pass, fail
//! at places, or skip when a value is unknowable), how outcomes combine, and where a check is
//! evaluated. The evaluator (`eval`) and the IAM and network primitives all build on it, so it
//! lives apart from them and none of them imports another to get it.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use super::path::{Hit, Place};
use super::values;
use crate::model::node::Span;
use crate::model::template::Template;
use crate::rules::check::{PathPattern, ReferencedBy};

/// The result of a check.
#[derive(Debug)]
pub enum Outcome {
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
    pub t: &'t Template,
    /// Bound names (`subject` first) to items; the two built-in names are not allocated for
    /// each of the rules × items an evaluation starts.
    pub bindings: Vec<(Cow<'static, str>, usize)>,
    /// What this template's evaluation has worked out once for every subject.
    pub memo: &'t Memo,
}

/// The first resource writing each (resource type, canonical JSON of the value) at a path.
pub(super) type FirstWriters = HashMap<String, usize>;

/// Template-wide tables that checks build on first use and every later subject reuses: without
/// them a check that looks at every other resource costs time in the square of the resources.
#[derive(Default)]
pub struct Memo {
    /// For each `referenced_by` with a path (by address: the rule set outlives the evaluation),
    /// every item's referrers through that path.
    pub(super) referrers_by_path: RefCell<HashMap<*const ReferencedBy, Vec<Vec<usize>>>>,
    /// For each item, one walk of its references: the names it writes that the template does
    /// not define (all kinds), and the parameters and conditions it uses.
    pub(super) item_refs: RefCell<HashMap<usize, std::rc::Rc<super::graph::ItemRefs>>>,
    /// For each `unique` check (by address) and resource type, the first resource of the type
    /// writing each value at the check's path, keyed by the value's canonical JSON.
    pub(super) first_writer: RefCell<HashMap<(*const PathPattern, Box<str>), FirstWriters>>,
    /// The parameter and condition items something in the template uses, found once for
    /// `used`.
    pub(super) used_items: std::cell::OnceCell<std::collections::HashSet<usize>>,
    /// Whether the template is the input of a pre-processor (Serverless Framework variables
    /// such as `${self:custom.x}` or `${opt:stage}` in its strings), found once for `substituted`.
    pub(super) preprocessed: std::cell::OnceCell<bool>,
    /// Every resource's schema violations, found in one walk for all the rules that report some
    /// class of them.
    pub(super) schema_violations: RefCell<HashMap<usize, std::rc::Rc<[super::schema::Violation]>>>,
}

/// Where a check is evaluated.
#[derive(Clone)]
pub struct Here<'t> {
    /// The item the node is in.
    pub item: usize,
    pub place: Place<'t>,
    /// Absolute pointer of the node.
    pub ptr: Cow<'t, str>,
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
            ptr: Cow::Borrowed(self.t.pointer(item)),
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
            vars.push((name.to_string(), self.t.items[*it].id.to_string()));
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
            here.ptr.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An operand of the table: `Fail1` fails at one place, `Fail2` at two, so the tables see
    /// both which failures are reported and in what order.
    #[derive(Clone, Copy, Debug)]
    enum Kind {
        Pass,
        Skip,
        Fail1,
        Fail2,
    }

    const KINDS: [Kind; 4] = [Kind::Pass, Kind::Skip, Kind::Fail1, Kind::Fail2];

    /// An outcome reduced to what the algebra decides: the verdict and the failure places.
    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Seen {
        Pass,
        Skip,
        Fail(Vec<String>),
    }

    /// The places of the operand at `pos`, named after it (`/1/a`, `/1/b`).
    fn places(kind: Kind, pos: usize) -> Vec<String> {
        match kind {
            Kind::Pass | Kind::Skip => Vec::new(),
            Kind::Fail1 => vec![format!("/{pos}/a")],
            Kind::Fail2 => vec![format!("/{pos}/a"), format!("/{pos}/b")],
        }
    }

    fn failure(pointer: &str) -> Failure {
        Failure {
            item: 0,
            pointer: pointer.to_string(),
            label: Span::default(),
            vars: Vec::new(),
        }
    }

    fn outcome(kind: Kind, pos: usize) -> Outcome {
        match kind {
            Kind::Pass => Outcome::Pass,
            Kind::Skip => Outcome::Skip,
            Kind::Fail1 | Kind::Fail2 => {
                Outcome::Fail(places(kind, pos).iter().map(|p| failure(p)).collect())
            }
        }
    }

    fn seen(o: &Outcome) -> Seen {
        match o {
            Outcome::Pass => Seen::Pass,
            Outcome::Skip => Seen::Skip,
            Outcome::Fail(f) => Seen::Fail(f.iter().map(|f| f.pointer.clone()).collect()),
        }
    }

    /// Every sequence of `n` operands.
    fn combinations(n: usize) -> Vec<Vec<Kind>> {
        (0..n).fold(vec![Vec::new()], |acc, _| {
            acc.iter()
                .flat_map(|prefix| {
                    KINDS.iter().map(move |k| {
                        let mut next = prefix.clone();
                        next.push(*k);
                        next
                    })
                })
                .collect()
        })
    }

    /// The verdicts as Kleene's three truth values, ordered false < unknown < true: "every one
    /// must pass" is the minimum (true when there is none), "one passing is enough" the maximum.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    enum Truth {
        False,
        Unknown,
        True,
    }

    fn truth(kind: Kind) -> Truth {
        match kind {
            Kind::Pass => Truth::True,
            Kind::Skip => Truth::Unknown,
            Kind::Fail1 | Kind::Fail2 => Truth::False,
        }
    }

    /// `all_of` as documented: false when any operand fails, and then it reports every failure,
    /// in operand order; else unknown when any is unknown; else (also with no operands) true.
    fn expected_all(ops: &[Kind]) -> Seen {
        match ops.iter().map(|k| truth(*k)).min().unwrap_or(Truth::True) {
            Truth::True => Seen::Pass,
            Truth::Unknown => Seen::Skip,
            Truth::False => Seen::Fail(
                ops.iter()
                    .enumerate()
                    .flat_map(|(i, k)| places(*k, i))
                    .collect(),
            ),
        }
    }

    /// `any_of` as documented: true when any operand passes; else unknown when any is unknown
    /// (it might have passed); else false, reporting the first failing operand's places only.
    /// With no operands the caller's `none` decides: that case is tested on its own.
    fn expected_any(ops: &[Kind]) -> Seen {
        match ops.iter().map(|k| truth(*k)).max() {
            None => unreachable!("the empty case is tested apart"),
            Some(Truth::True) => Seen::Pass,
            Some(Truth::Unknown) => Seen::Skip,
            Some(Truth::False) => Seen::Fail(places(ops[0], 0)),
        }
    }

    fn operands(ops: &[Kind]) -> Vec<Outcome> {
        ops.iter()
            .enumerate()
            .map(|(i, k)| outcome(*k, i))
            .collect()
    }

    /// A few rows written out, so the reference functions above are themselves pinned.
    #[test]
    fn the_reference_functions_agree_with_rows_written_out() {
        use Kind::*;
        let f = |v: &[&str]| Seen::Fail(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(expected_all(&[]), Seen::Pass);
        assert_eq!(expected_all(&[Pass, Skip]), Seen::Skip);
        assert_eq!(expected_all(&[Skip, Fail1]), f(&["/1/a"]));
        assert_eq!(
            expected_all(&[Fail2, Pass, Fail1]),
            f(&["/0/a", "/0/b", "/2/a"])
        );
        assert_eq!(expected_any(&[Fail1, Pass]), Seen::Pass);
        assert_eq!(expected_any(&[Fail1, Skip]), Seen::Skip);
        assert_eq!(expected_any(&[Fail1, Fail2]), f(&["/0/a"]));
        assert_eq!(expected_any(&[Fail2, Fail1, Fail1]), f(&["/0/a", "/0/b"]));
    }

    #[test]
    fn all_of_over_every_combination_of_up_to_three_operands() {
        let mut rows = 0;
        for n in 0..=3 {
            for ops in combinations(n) {
                let got = seen(&all_of(operands(&ops)));
                assert_eq!(got, expected_all(&ops), "all_of {ops:?}");
                rows += 1;
            }
        }
        assert_eq!(rows, 1 + 4 + 16 + 64);
    }

    #[test]
    fn any_of_over_every_combination_of_one_to_three_operands() {
        let mut rows = 0;
        for n in 1..=3 {
            for ops in combinations(n) {
                let got = seen(&any_of(operands(&ops), || {
                    panic!("`none` is for no operands, called for {ops:?}")
                }));
                assert_eq!(got, expected_any(&ops), "any_of {ops:?}");
                rows += 1;
            }
        }
        assert_eq!(rows, 4 + 16 + 64);
    }

    #[test]
    fn any_of_no_operands_is_what_the_caller_says() {
        for kind in KINDS {
            let got = seen(&any_of(Vec::new(), || outcome(kind, 9)));
            let want = match kind {
                Kind::Pass => Seen::Pass,
                Kind::Skip => Seen::Skip,
                Kind::Fail1 | Kind::Fail2 => Seen::Fail(places(kind, 9)),
            };
            assert_eq!(got, want, "any_of [] with none = {kind:?}");
        }
    }
}
