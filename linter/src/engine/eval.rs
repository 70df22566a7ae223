//! Evaluating compiled checks: three-valued (pass / fail / skip), failures carry their place.

use std::borrow::Cow;
use std::ops::ControlFlow;

use serde_json::Value as Json;

use super::outcome::{Env, Here, Outcome, all_of, any_of};
use super::path::{self, Hit};
use super::{graph, iam, network, schema, values};
use crate::model::node::{Node, Value};
use crate::model::resolve::{self, Scalar};
use crate::model::template::Template;
use crate::rules::check::*;

/// Evaluates a check at a place.
pub fn eval<'t>(check: &Check, env: &mut Env<'t>, here: &Here<'t>) -> Outcome {
    match check {
        Check::Leaf(leaf) => eval_leaf(leaf, env, here),
        Check::All(checks) => all_of(checks.iter().map(|c| eval(c, env, here))),
        Check::Any(checks) => {
            let outcomes: Vec<Outcome> = checks.iter().map(|c| eval(c, env, here)).collect();
            any_of(outcomes, || Outcome::Pass)
        }
        Check::On(name, inner) => match env.bound(name) {
            Some(item) => {
                let there = env.item_here(item);
                eval(inner, env, &there)
            }
            None => Outcome::Skip,
        },
        Check::If(when, then) => match eval(when, env, here) {
            Outcome::Pass => eval(then, env, here),
            Outcome::Fail(_) => Outcome::Pass,
            Outcome::Skip => Outcome::Skip,
        },
        Check::Not(inner) => match eval(inner, env, here) {
            Outcome::Pass => env.fail_here(here, Vec::new()),
            Outcome::Fail(_) => Outcome::Pass,
            Outcome::Skip => Outcome::Skip,
        },
        Check::Each {
            path,
            check,
            quantifier,
            absent,
        } => {
            let places = path::collect(here.place, path);
            let mut outcomes = Vec::new();
            for (place, rel) in places {
                let sub = Here {
                    item: here.item,
                    place,
                    ptr: Cow::Owned(format!("{}{rel}", here.ptr)),
                };
                outcomes.push(match place.hit {
                    Hit::Found(_) => eval(check, env, &sub),
                    Hit::Missing => absent_outcome(*absent, env, &sub, Vec::new()),
                    Hit::Unknown => Outcome::Skip,
                });
            }
            match quantifier {
                Quantifier::All => all_of(outcomes),
                Quantifier::Any => {
                    let fallback = prefix_here(here, path);
                    match any_of(outcomes, || {
                        absent_outcome(*absent, env, &fallback, Vec::new())
                    }) {
                        Outcome::Fail(_) => env.fail_here(&fallback, Vec::new()),
                        other => other,
                    }
                }
            }
        }
        Check::ByType(cases) => {
            let kind = &env.t.items[here.item].kind;
            match cases.iter().find(|(g, _)| g.matches(kind)) {
                Some((_, c)) => eval(c, env, here),
                None => Outcome::Pass,
            }
        }
        Check::Follow(f) => eval_follow(f, env, here),
        Check::ReferencedBy(r) => eval_referenced_by(r, env, here),
        Check::IamAllows(i) => iam::eval(i, env, here),
        Check::SgAdmits(s) => network::eval(s, env, here),
        Check::Resolves(check) => graph::resolves(check, env, here),
        Check::Acyclic => graph::acyclic(env, here),
        Check::Substituted => graph::substituted(env, here),
        Check::Used => graph::used(env, here),
        Check::Unique(path) => graph::unique(path, env, here),
        Check::Schema(s) => schema::eval(s, env, here),
    }
}

fn absent_outcome<'t>(
    absent: Absent,
    env: &Env<'t>,
    here: &Here<'t>,
    vars: Vec<(String, String)>,
) -> Outcome {
    match absent {
        Absent::Pass => Outcome::Pass,
        Absent::Skip => Outcome::Skip,
        Absent::Fail => env.fail_here(here, vars),
    }
}

/// The deepest place before a pattern's first wildcard: where "none of these" is reported.
fn prefix_here<'t>(here: &Here<'t>, path: &PathPattern) -> Here<'t> {
    let literal: Vec<Seg> = path
        .segs
        .iter()
        .take_while(|s| matches!(s, Seg::Key(_)))
        .cloned()
        .collect();
    let prefix = PathPattern {
        segs: literal,
        text: String::new(),
    };
    match path::collect(here.place, &prefix).into_iter().next() {
        Some((place, rel)) => Here {
            item: here.item,
            place,
            ptr: Cow::Owned(format!("{}{rel}", here.ptr)),
        },
        None => here.clone(),
    }
}

fn eval_leaf<'t>(leaf: &Leaf, env: &mut Env<'t>, here: &Here<'t>) -> Outcome {
    let t = env.t;
    let mut failures = Vec::new();
    let mut skipped = false;
    let _ = path::visit(here.place, &leaf.path, &mut |place, rel| {
        // The value the message shows: the place's, or the `Fn::If` branch that failed.
        let mut shown = match place.hit {
            Hit::Found(node) => Some(node),
            _ => None,
        };
        let outcome = match place.hit {
            Hit::Missing => {
                if leaf.tests.iter().any(|x| matches!(x, Test::Exists(true))) {
                    TestResult::Fail(Vec::new())
                } else if leaf.tests.iter().all(|x| matches!(x, Test::Exists(false))) {
                    TestResult::Pass
                } else {
                    match leaf.absent {
                        Absent::Pass => TestResult::Pass,
                        Absent::Skip => TestResult::Skip,
                        Absent::Fail => TestResult::Fail(Vec::new()),
                    }
                }
            }
            Hit::Unknown => TestResult::Skip,
            Hit::Found(node) => {
                let mut result = TestResult::Pass;
                for test in &leaf.tests {
                    let (outcome, decided) = test_branches(test, leaf.branches, t, node, place.key);
                    if let TestResult::Fail(_) = outcome {
                        shown = Some(decided);
                    }
                    match outcome {
                        TestResult::Pass => {}
                        TestResult::Skip => {
                            if matches!(result, TestResult::Pass) {
                                result = TestResult::Skip;
                            }
                        }
                        fail @ TestResult::Fail(_) => {
                            result = fail;
                            break;
                        }
                    }
                }
                result
            }
        };
        match outcome {
            TestResult::Pass => {}
            TestResult::Skip => skipped = true,
            TestResult::Fail(mut vars) => {
                if let Some(node) = shown
                    && !vars.iter().any(|(k, _)| k == "value")
                {
                    vars.push(("value".into(), values::display(t, node)));
                }
                if let Some(Node {
                    value: Value::String(s),
                    ..
                }) = shown
                {
                    vars.push(("literal".into(), s.to_string()));
                }
                if matches!(place.hit, Hit::Missing) {
                    vars.push(("value".into(), "not set".into()));
                }
                if let Some(k) = place.key {
                    vars.push(("key".into(), k.to_string()));
                }
                failures.push(env.failure(
                    here.item,
                    format!("{}{rel}", here.ptr),
                    place.label,
                    vars,
                ));
            }
        }
        ControlFlow::Continue(())
    });
    if !failures.is_empty() {
        Outcome::Fail(failures)
    } else if skipped {
        Outcome::Skip
    } else {
        Outcome::Pass
    }
}

/// A test on a value, looking through `Fn::If` where the whole value would be unknown: when
/// every branch passes, the value passes; failing branches fail it as `mode` says (see
/// [`Branches`]). A branch that removes the property (`AWS::NoValue`) is not judged (`absent`
/// belongs to the path, not to a value). Returns the node that decided a failure, for the
/// message.
fn test_branches<'t>(
    test: &Test,
    mode: Branches,
    t: &Template,
    node: &'t Node,
    key: Option<&str>,
) -> (TestResult, &'t Node) {
    let result = run_test(test, t, node, key);
    let branches = match node.intrinsic() {
        Some(("Fn::If", args)) if matches!(result, TestResult::Skip) => args.as_seq(),
        _ => None,
    };
    let Some([_, yes, no]) = branches else {
        return (result, node);
    };
    let (mut passed, mut failed, mut first) = (0, 0, None);
    for branch in [yes, no] {
        // Only literals are judged: a condition usually tests the very parameter a branch
        // refers to, so the parameter's default says little about the branch that deploys.
        let literal = branch.is_scalar() || matches!(branch.intrinsic(), Some(("Fn::If", _)));
        if !literal || path::is_no_value(branch) {
            continue;
        }
        match test_branches(test, mode, t, branch, key) {
            (fail @ TestResult::Fail(_), decided) => {
                if mode == Branches::Any {
                    return (fail, decided);
                }
                failed += 1;
                first = first.or(Some((fail, decided)));
            }
            (TestResult::Skip, _) => {}
            (TestResult::Pass, _) => passed += 1,
        }
    }
    match first {
        Some(fail) if failed == 2 => fail,
        _ if passed == 2 => (TestResult::Pass, node),
        _ => (TestResult::Skip, node),
    }
}

/// A single test's result; failures may add placeholders.
pub enum TestResult {
    Pass,
    /// The value cannot be known before deployment.
    Skip,
    /// Violated; the pairs are message placeholders.
    Fail(Vec<(String, String)>),
}

impl From<Option<bool>> for TestResult {
    fn from(v: Option<bool>) -> Self {
        match v {
            Some(true) => TestResult::Pass,
            Some(false) => TestResult::Fail(Vec::new()),
            None => TestResult::Skip,
        }
    }
}

fn run_test(test: &Test, t: &Template, node: &Node, key: Option<&str>) -> TestResult {
    match test {
        Test::Exists(expected) => Some(*expected).into(),
        Test::Equals(v) => resolve::resolve(t, node)
            .map(|s| values::equals(&s, v))
            .into(),
        Test::NotEquals(v) => resolve::resolve(t, node)
            .map(|s| !values::equals(&s, v))
            .into(),
        Test::OneOf(list) => resolve::resolve(t, node)
            .map(|s| list.iter().any(|v| values::equals(&s, v)))
            .into(),
        Test::NotOneOf(list) => resolve::resolve(t, node)
            .map(|s| !list.iter().any(|v| values::equals(&s, v)))
            .into(),
        Test::Matches(re) => match resolve::resolve(t, node) {
            Some(Scalar::Block(_)) => TestResult::Fail(Vec::new()),
            Some(s) => Some(re.is_match(&values::text(&s))).into(),
            None if values::known_match(t, node, re) => TestResult::Pass,
            None => TestResult::Skip,
        },
        Test::NotMatches(re) => match resolve::resolve(t, node) {
            Some(Scalar::Block(_)) => TestResult::Pass,
            Some(s) => Some(!re.is_match(&values::text(&s))).into(),
            None if values::known_match(t, node, re) => TestResult::Fail(Vec::new()),
            None => TestResult::Skip,
        },
        Test::Contains(v) => values::contains(t, node, v).into(),
        Test::Compare(op, rhs) => resolve::resolve(t, node)
            .and_then(|s| values::number(&s))
            .map(|lhs| match op {
                CompareOp::Gt => lhs > *rhs,
                CompareOp::Gte => lhs >= *rhs,
                CompareOp::Lt => lhs < *rhs,
                CompareOp::Lte => lhs <= *rhs,
            })
            .into(),
        Test::MentionsSuffix {
            expected,
            parameter,
            literal,
        } => values::mentions_suffix(t, node, parameter, literal.as_deref())
            .map(|m| m == *expected)
            .into(),
        Test::Known(expected) => {
            let known = resolve::resolve(t, node).is_some();
            Some(known == *expected).into()
        }
        Test::KeyMatches(re) => Some(key.is_some_and(|k| re.is_match(k))).into(),
        Test::Captures { regex, allowed } => match values::scannable_text(t, node) {
            // Most scanned strings hold no match: the search is far cheaper than captures.
            Some(text) if !regex.is_match(&text) => TestResult::Pass,
            Some(text) => {
                for caps in regex.captures_iter(&text) {
                    let Some(m) = caps.get(1).or_else(|| caps.get(0)) else {
                        continue;
                    };
                    if !allowed.iter().any(|a| a == m.as_str()) {
                        return TestResult::Fail(vec![("value".into(), m.as_str().to_string())]);
                    }
                }
                TestResult::Pass
            }
            None => TestResult::Pass,
        },
        Test::OpensAnyPort(ports) => network::opens_any_port(t, node, ports).into(),
        Test::DatePassed {
            dates,
            as_of,
            as_of_text,
        } => date_passed(t, node, dates, (*as_of, as_of_text)),
        Test::Nonempty(expected) => resolve::resolve(t, node)
            .map(|s| nonempty(&s) == *expected)
            .into(),
        Test::Intrinsic { names, expected } => {
            let written = node
                .intrinsic()
                .is_some_and(|(name, _)| names.iter().any(|n| n == name));
            Some(written == *expected).into()
        }
    }
}

fn nonempty(s: &Scalar<'_>) -> bool {
    match s {
        Scalar::Null => false,
        Scalar::Str(s) => !s.is_empty(),
        Scalar::Block(b) => b.as_seq().map_or_else(
            || b.as_map().is_some_and(|m| !m.entries.is_empty()),
            |s| !s.is_empty(),
        ),
        _ => true,
    }
}

/// Fails when the value is a row of the table whose date is on or before `as_of`; the row's
/// fields become placeholders. A value not known before deployment skips.
fn date_passed(
    t: &Template,
    node: &Node,
    dates: &[DatedEntry],
    (as_of, as_of_text): (i64, &str),
) -> TestResult {
    let Some(value) = resolve::known_text(t, node) else {
        return TestResult::Skip;
    };
    match dates.iter().find(|d| d.value == *value) {
        Some(d) if d.day <= as_of => {
            let mut vars = d.vars.clone();
            vars.push(("as_of".into(), as_of_text.to_string()));
            TestResult::Fail(vars)
        }
        _ => TestResult::Pass,
    }
}

fn eval_follow<'t>(f: &Follow, env: &mut Env<'t>, here: &Here<'t>) -> Outcome {
    let from = match &f.of {
        Some(name) => match env.bound(name) {
            Some(item) => env.item_here(item),
            None => return Outcome::Skip,
        },
        None => here.clone(),
    };
    let mut related = Vec::new();
    let places = path::places(from.place, &f.path);
    for place in &places {
        if let Hit::Found(node) = place.hit {
            values::related(env.t, node, &f.types, &mut related);
        }
    }
    related.retain(|&i| i != from.item);
    dedup_keep_order(&mut related);
    let at = prefix_here(&from, &f.path);
    quantify(
        env,
        &at,
        related,
        f.check.as_ref(),
        f.bind.as_deref(),
        f.quantifier,
        f.if_none,
    )
}

fn eval_referenced_by<'t>(r: &ReferencedBy, env: &mut Env<'t>, here: &Here<'t>) -> Outcome {
    let t = env.t;
    let me = here.item;
    let referrers: Vec<usize> = match &r.path {
        // Without a path, the reference index answers directly.
        None => t
            .referrers(me)
            .iter()
            .copied()
            .filter(|&i| any_glob(&r.types, &t.items[i].kind))
            .collect(),
        // With a path, literal names count too (`FunctionName: my-fn`), so every candidate is
        // asked, once per template: the answer for all subjects at once costs what one did.
        Some(p) => {
            let memo = env.memo;
            let mut tables = memo.referrers_by_path.borrow_mut();
            let table = tables
                .entry(r as *const ReferencedBy)
                .or_insert_with(|| referrers_through(env, r, p));
            table
                .get(me)
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .copied()
                .filter(|&i| i != me)
                .collect()
        }
    };
    let at = env.item_here(me);
    quantify(
        env,
        &at,
        referrers,
        r.check.as_ref(),
        r.bind.as_deref(),
        r.quantifier,
        r.if_none,
    )
}

/// For every item, the items of `r.types` whose nodes at `p` name it (by reference, name or ARN),
/// in source order. Relations are found for every type at once: that the referrer names a
/// resource of the subject's own type is then the same as naming the subject.
fn referrers_through(env: &Env<'_>, r: &ReferencedBy, p: &PathPattern) -> Vec<Vec<usize>> {
    let t = env.t;
    let every_type = [TypeGlob::Any];
    let mut table = vec![Vec::new(); t.items.len()];
    let mut found = Vec::new();
    for source in (0..t.items.len()).filter(|&i| any_glob(&r.types, &t.items[i].kind)) {
        found.clear();
        for place in path::places(env.item_here(source).place, p) {
            if let Hit::Found(node) = place.hit {
                values::related(t, node, &every_type, &mut found);
            }
        }
        found.sort_unstable();
        found.dedup();
        for &target in &found {
            if let Some(referrers) = table.get_mut(target) {
                referrers.push(source);
            }
        }
    }
    table
}

fn quantify<'t>(
    env: &mut Env<'t>,
    at: &Here<'t>,
    related: Vec<usize>,
    check: Option<&Check>,
    bind: Option<&str>,
    quantifier: Quantifier,
    if_none: Absent,
) -> Outcome {
    let Some(check) = check else {
        return if related.is_empty() {
            env.fail_here(at, Vec::new())
        } else {
            Outcome::Pass
        };
    };
    if related.is_empty() {
        return absent_outcome(if_none, env, at, Vec::new());
    }
    let mut outcomes = Vec::new();
    for item in related {
        if let Some(name) = bind {
            env.bindings.push((Cow::Owned(name.to_string()), item));
        }
        env.bindings.push((Cow::Borrowed("related"), item));
        let sub = env.item_here(item);
        outcomes.push(eval(check, env, &sub));
        env.bindings.pop();
        if bind.is_some() {
            env.bindings.pop();
        }
    }
    match quantifier {
        Quantifier::All => all_of(outcomes),
        Quantifier::Any => any_of(outcomes, || Outcome::Pass),
    }
}

fn dedup_keep_order(items: &mut Vec<usize>) {
    let mut seen = std::collections::HashSet::new();
    items.retain(|i| seen.insert(*i));
}

/// Converts rule literals for comparisons.
pub fn json_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}
