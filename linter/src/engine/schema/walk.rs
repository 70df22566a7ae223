//! The walk of one value against one schema node: types with CloudFormation's coercions,
//! scalars (enum, pattern, length, range), lists, and the `anyOf`/`oneOf` alternatives.

use std::fmt::Write as _;

use super::Violation;
use crate::engine::path::label_for;
use crate::engine::values;
use crate::model::node::{Node, Span, Value};
use crate::model::pointer;
use crate::model::template::Template;
use crate::rules::check::SchemaClass;
use crate::schema::{NodeId, Schema, SchemaNode, TypeSet};

/// `$ref` chains and nesting deeper than this are not followed (real schemas nest < 20).
const MAX_DEPTH: usize = 64;

/// Walks values against a schema, collecting violations of the requested classes.
pub(super) struct Walker<'t, 's> {
    pub t: &'t Template,
    pub schema: &'s Schema,
    /// Which classes to collect; empty collects all (inside an alternative, where any
    /// violation decides that the alternative does not match).
    classes: &'s [SchemaClass],
    pub found: Vec<Violation>,
    /// Whether an unknown value (an intrinsic) was skipped: an alternative that saw one cannot
    /// be said to match.
    pub unsure: bool,
    depth: usize,
    /// The `Fn::If` conditions taken on the way here, each with the branch taken: a nested
    /// `Fn::If` on one of them can only go the same way.
    pub(super) assumed: Vec<(&'t str, bool)>,
    /// How many of the first `assumed` are given rather than taken (the resource's own
    /// `Condition`, true whenever the resource exists): messages do not repeat them.
    pub(super) given: usize,
    /// Inside an `anyOf`/`oneOf` alternative, where a violation in one branch only does not
    /// tell whether the alternative matches.
    alternative: bool,
}

impl<'t, 's> Walker<'t, 's> {
    pub fn new(t: &'t Template, schema: &'s Schema, classes: &'s [SchemaClass]) -> Self {
        Walker {
            t,
            schema,
            classes,
            found: Vec::new(),
            unsure: false,
            depth: 0,
            assumed: Vec::new(),
            given: 0,
            alternative: false,
        }
    }

    /// A walker for a part of this walk's value, under the same assumptions.
    fn nested(&self, classes: &'s [SchemaClass]) -> Self {
        Walker {
            depth: self.depth,
            assumed: self.assumed.clone(),
            given: self.given,
            alternative: self.alternative,
            ..Walker::new(self.t, self.schema, classes)
        }
    }

    pub(super) fn wants(&self, class: SchemaClass) -> bool {
        self.classes.is_empty() || self.classes.contains(&class)
    }

    /// Records a violation of `class` at a place (`value` from the node when there is one).
    pub(super) fn report(
        &mut self,
        class: SchemaClass,
        at: (&str, Span),
        node: Option<&Node>,
        expected: String,
        allowed: String,
        suggestion: String,
    ) {
        if !self.wants(class) {
            return;
        }
        let value = node.map_or_else(|| "not set".to_string(), |n| values::display(self.t, n));
        self.found.push(Violation {
            class,
            pointer: at.0.to_string(),
            label: at.1,
            vars: [value, expected, allowed, suggestion],
            when: (self.assumed.iter().skip(self.given))
                .map(|&(c, taken)| (c.to_string(), taken))
                .collect(),
        });
    }

    /// Checks a value against schema node `id`; `ptr` is the value's absolute pointer.
    pub fn value(&mut self, node: &'t Node, id: NodeId, ptr: &mut String, label: Span) {
        if let Some((condition, branches)) = if_parts(node)
            && self.depth < MAX_DEPTH
        {
            self.branches(condition, branches, id, ptr);
            return;
        }
        if unknown(node) {
            self.unsure = true;
            return;
        }
        let Some(s) = self.schema.nodes.get(id) else {
            return;
        };
        if self.depth >= MAX_DEPTH {
            self.unsure = true;
            return;
        }
        self.depth += 1;
        if let Some(r) = s.reference {
            self.value(node, r, ptr, label);
        }
        for &a in &s.all_of {
            self.value(node, a, ptr, label);
        }
        if self.type_matches(node, s, ptr, label) {
            match &node.value {
                Value::Seq(items) => self.list(node, items, s, ptr, label),
                Value::Map(map) => self.object(map, s, ptr, label),
                Value::Null => self.unsure = true,
                _ => self.scalar(node, s, ptr, label),
            }
            self.alternatives(node, s, ptr, label);
        }
        self.depth -= 1;
    }

    /// `Fn::If`: each branch is checked under its condition's value. What is wrong in both
    /// branches alike (same class, same place below the branch, same value) is reported once, at the first
    /// branch; what is wrong in one branch is reported with the condition that takes it, since
    /// deploying with that condition fails. A nested `Fn::If` on a condition already taken
    /// follows the same branch. Inside an alternative, a one-branch violation only makes the
    /// match unsure.
    fn branches(
        &mut self,
        condition: Option<&'t str>,
        branches: [&'t Node; 2],
        id: NodeId,
        ptr: &mut String,
    ) {
        let len = ptr.len();
        let taken = condition.and_then(|c| self.assumed.iter().find(|(n, _)| *n == c));
        if let Some(&(_, taken)) = taken {
            let i = usize::from(!taken);
            let _ = write!(ptr, "/Fn::If/{}", i + 1);
            self.depth += 1;
            self.value(branches[i], id, ptr, label_for(branches[i], None));
            self.depth -= 1;
            ptr.truncate(len);
            return;
        }
        let mut found: [Vec<Violation>; 2] = Default::default();
        for (i, branch) in branches.into_iter().enumerate() {
            let mut sub = self.nested(self.classes);
            sub.depth += 1;
            if let Some(c) = condition {
                sub.assumed.push((c, i == 0));
            }
            // Positions 1 and 2 of `[condition, if true, if false]`.
            let _ = write!(ptr, "/Fn::If/{}", i + 1);
            sub.value(branch, id, ptr, label_for(branch, None));
            ptr.truncate(len);
            self.unsure |= sub.unsure;
            found[i] = sub.found;
        }
        let [first, second] = found;
        let below = |v: &Violation, i: usize| {
            (v.pointer.get(len..))
                .and_then(|rest| rest.strip_prefix(&format!("/Fn::If/{i}")))
                .map(str::to_string)
        };
        let shared = |v: &Violation, i: usize, others: &[Violation], j: usize| {
            let rel = below(v, i);
            rel.is_some()
                && (others.iter())
                    .any(|w| w.class == v.class && w.vars == v.vars && below(w, j) == rel)
        };
        let alike: Vec<bool> = first.iter().map(|v| shared(v, 1, &second, 2)).collect();
        let alone: Vec<bool> = second.iter().map(|w| !shared(w, 2, &first, 1)).collect();
        for (mut v, alike) in first.into_iter().zip(alike) {
            if alike {
                v.when.retain(|(c, _)| Some(c.as_str()) != condition);
                self.found.push(v);
            } else if self.alternative {
                self.unsure = true;
            } else {
                self.found.push(v);
            }
        }
        for (w, alone) in second.into_iter().zip(alone) {
            if !alone {
                continue;
            }
            if self.alternative {
                self.unsure = true;
            } else {
                self.found.push(w);
            }
        }
    }

    fn type_matches(&mut self, node: &Node, s: &SchemaNode, ptr: &str, label: Span) -> bool {
        let Some(types) = s.types else {
            return true;
        };
        if matches!(node.value, Value::Null) {
            // YAML's empty value: CloudFormation's handling varies by property; not guessed.
            self.unsure = true;
            return false;
        }
        if accepts(types, node, s) {
            return true;
        }
        let expected = types.describe();
        self.report(
            SchemaClass::Type,
            (ptr, label),
            Some(node),
            expected,
            String::new(),
            String::new(),
        );
        false
    }

    fn scalar(&mut self, node: &Node, s: &SchemaNode, ptr: &str, label: Span) {
        let at = (ptr, label);
        // `${X}` outside a `Fn::Sub` is a forgotten Sub or a pre-processor's variable (Serverless
        // Framework, `sam` parameters): what CloudFormation will see is not this text.
        // A dynamic reference (`{{resolve:ssm:...}}`) is replaced at deploy time, too.
        if node
            .as_str()
            .is_some_and(|text| text.contains("${") || text.contains("{{resolve:"))
        {
            self.unsure = true;
            return;
        }
        if let Some(allowed) = &s.enumeration
            && let text = scalar_text(node)
            && !allowed
                .iter()
                .any(|a| scalar_equals(&text, a, s.enum_case_insensitive))
        {
            let list = enum_list(allowed);
            self.report(
                SchemaClass::Enum,
                at,
                Some(node),
                format!("is not one of {list}"),
                list,
                String::new(),
            );
        }
        if let Value::String(text) = &node.value {
            self.string(node, text, s, at);
        }
        let number = match &node.value {
            Value::Number(n) => Some(*n),
            Value::String(text) if s.types.is_some_and(numeric) => text.trim().parse().ok(),
            _ => None,
        };
        if let Some(n) = number
            && let Some(expected) = out_of_range(n, s)
        {
            let expected = format!("must be {expected}");
            self.report(
                SchemaClass::Range,
                at,
                Some(node),
                expected,
                String::new(),
                String::new(),
            );
        }
    }

    fn string(&mut self, node: &Node, text: &str, s: &SchemaNode, at: (&str, Span)) {
        if let Some(p) = &s.pattern
            && let Some(re) = p.regex()
            && !re.is_match(text)
        {
            let expected = format!("does not match `{}`", p.source);
            self.report(
                SchemaClass::Pattern,
                at,
                Some(node),
                expected,
                String::new(),
                String::new(),
            );
        }
        if let Some(format) = s.format
            && !format.accepts(text)
        {
            let expected = format!("is not {}", format.describe());
            self.report(
                SchemaClass::Pattern,
                at,
                Some(node),
                expected,
                String::new(),
                String::new(),
            );
        }
        let len = text.chars().count() as u64;
        let short = s.min_length.is_some_and(|m| len < m);
        let long = s.max_length.is_some_and(|m| len > m);
        if short || long {
            let expected = bounds_text(s.min_length, s.max_length, "characters long");
            let expected = format!("must be {expected} (it is {len})");
            self.report(
                SchemaClass::Length,
                at,
                Some(node),
                expected,
                String::new(),
                String::new(),
            );
        }
    }

    fn list(
        &mut self,
        node: &Node,
        items: &'t [Node],
        s: &SchemaNode,
        ptr: &mut String,
        label: Span,
    ) {
        // `AWS::NoValue` elements disappear; a `Fn::If` element may.
        let removed = items.iter().filter(|n| is_no_value(n)).count();
        let maybe = items.iter().filter(|n| is_if(n)).count();
        let sure = (items.len() - removed - maybe) as u64;
        let few = s.min_items.is_some_and(|m| sure + (maybe as u64) < m);
        let many = s.max_items.is_some_and(|m| sure > m);
        if few || many {
            let expected = bounds_text(s.min_items, s.max_items, "items");
            let expected = format!("must have {expected} (it has {})", sure + maybe as u64);
            self.report(
                SchemaClass::Items,
                (ptr.as_str(), label),
                Some(node),
                expected,
                String::new(),
                String::new(),
            );
        }
        let Some(item_schema) = s.items else {
            return;
        };
        let len = ptr.len();
        for (i, item) in items.iter().enumerate() {
            pointer::push_index(ptr, i);
            self.value(item, item_schema, ptr, label_for(item, None));
            ptr.truncate(len);
        }
    }

    /// `anyOf`: one alternative must match; `oneOf`: exactly one. An alternative matches when
    /// checking the value against it finds nothing and met no unknown value.
    pub(super) fn alternatives(
        &mut self,
        node: &'t Node,
        s: &SchemaNode,
        ptr: &mut String,
        label: Span,
    ) {
        if !self.wants(SchemaClass::OneOf) {
            return;
        }
        let lists = [
            (&s.any_of, false, &s.required_or),
            (&s.one_of, true, &s.required_xor),
        ];
        for (list, exactly_one, keyword) in lists {
            if list.is_empty() || self.same_names(list, keyword) {
                continue;
            }
            let (mut matched, mut unsure) = (0, false);
            for &alt in list {
                let mut sub = self.nested(&[]);
                sub.alternative = true;
                sub.value(node, alt, ptr, label);
                match (sub.found.is_empty(), sub.unsure) {
                    (true, false) => matched += 1,
                    (true, true) => unsure = true,
                    (false, _) => {}
                }
            }
            let none = matched == 0 && !unsure;
            let several = exactly_one && matched > 1;
            if none || several {
                let shapes = self.describe_alternatives(list);
                let expected = match (none, exactly_one) {
                    (true, true) => format!("exactly one of {shapes} must match (none does)"),
                    (true, false) => format!("at least one of {shapes} must match (none does)"),
                    _ => format!("exactly one of {shapes} must match ({matched} do)"),
                };
                self.report(
                    SchemaClass::OneOf,
                    (ptr.as_str(), label),
                    Some(node),
                    expected,
                    shapes,
                    String::new(),
                );
            }
        }
    }

    /// Whether alternatives only require one property each, the same ones as the node's
    /// `requiredXor`/`requiredOr`, which [`Walker::required`] checks already (cfn-lint's
    /// schemas often carry both spellings of one rule).
    fn same_names(&self, list: &[NodeId], keyword: &[Box<str>]) -> bool {
        !keyword.is_empty()
            && list.len() == keyword.len()
            && list.iter().all(|id| {
                self.schema
                    .nodes
                    .get(*id)
                    .is_some_and(|n| match &n.required[..] {
                        [one] => keyword.contains(one),
                        _ => false,
                    })
            })
    }

    fn describe_alternatives(&self, list: &[NodeId]) -> String {
        let shape = |id: &NodeId| {
            let Some(n) = self.schema.nodes.get(*id) else {
                return "?".to_string();
            };
            if !n.required.is_empty() {
                n.required.join(" + ")
            } else if let Some(t) = n.types {
                t.describe()
            } else {
                "a variant".to_string()
            }
        };
        let shapes: Vec<String> = list.iter().map(shape).collect();
        format!("[{}]", shapes.join(" | "))
    }
}

/// An intrinsic function, or a mapping merged with one that rewrites it (`Fn::Transform`, the
/// language extensions' `Fn::ForEach::*`): only known at deploy time. Any other `Fn::` key
/// beside other keys is no function at all, and is checked as the key it is.
pub(super) fn unknown(node: &Node) -> bool {
    node.intrinsic().is_some()
        || node.as_map().is_some_and(|m| {
            (m.entries.iter())
                .any(|e| &*e.key == "Fn::Transform" || e.key.starts_with("Fn::ForEach::"))
        })
}

/// The two branches of an `Fn::If` (`[condition, if true, if false]`).
pub(super) fn if_branches(node: &Node) -> Option<[&Node; 2]> {
    if_parts(node).map(|(_, branches)| branches)
}

/// An `Fn::If`'s condition name (when it is a string) and its two branches.
pub(super) fn if_parts(node: &Node) -> Option<(Option<&str>, [&Node; 2])> {
    match node.intrinsic() {
        Some(("Fn::If", arg)) => match arg.as_seq()? {
            [condition, yes, no] => Some((condition.as_str(), [yes, no])),
            _ => None,
        },
        _ => None,
    }
}

/// `{"Ref": "AWS::NoValue"}`: the property is removed.
pub(super) fn is_no_value(node: &Node) -> bool {
    matches!(node.intrinsic(), Some(("Ref", arg)) if arg.as_str() == Some("AWS::NoValue"))
}

/// A `Fn::If`, which may turn out to be `AWS::NoValue`.
pub(super) fn is_if(node: &Node) -> bool {
    matches!(node.intrinsic(), Some(("Fn::If", _)))
}

fn numeric(t: TypeSet) -> bool {
    t.has(TypeSet::NUMBER) || t.has(TypeSet::INTEGER)
}

/// Whether a value has one of the types, with CloudFormation's coercions: strings of digits are
/// numbers, `"true"`/`"false"` booleans, and numbers and booleans are acceptable strings. A
/// string is an acceptable free-form object (a JSON policy document passed as text).
fn accepts(types: TypeSet, node: &Node, s: &SchemaNode) -> bool {
    let has = |bit| types.has(bit);
    match &node.value {
        Value::String(text) => {
            let text = text.trim();
            has(TypeSet::STRING)
                || (has(TypeSet::NUMBER) && text.parse::<f64>().is_ok_and(f64::is_finite))
                || (has(TypeSet::INTEGER) && text.parse::<f64>().is_ok_and(|n| n.fract() == 0.0))
                || (has(TypeSet::BOOLEAN)
                    && (text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false")))
                || (has(TypeSet::OBJECT) && s.free_form())
        }
        Value::Number(n) => {
            has(TypeSet::NUMBER)
                || has(TypeSet::STRING)
                || (has(TypeSet::INTEGER) && n.fract() == 0.0)
        }
        Value::Bool(_) => has(TypeSet::BOOLEAN) || has(TypeSet::STRING),
        Value::Seq(_) => has(TypeSet::ARRAY),
        Value::Map(_) => has(TypeSet::OBJECT),
        Value::Null => true,
    }
}

/// A scalar as text, borrowed when it is a string (most enum values are).
fn scalar_text(node: &Node) -> std::borrow::Cow<'_, str> {
    match &node.value {
        Value::String(s) => std::borrow::Cow::Borrowed(s),
        other => std::borrow::Cow::Owned(other.to_string()),
    }
}

/// Enum membership of a scalar's text with the same coercions (`5` is `"5"`, `"true"` is `true`).
fn scalar_equals(text: &str, allowed: &serde_json::Value, case_insensitive: bool) -> bool {
    use serde_json::Value as Json;
    match allowed {
        Json::String(a) if case_insensitive => a.eq_ignore_ascii_case(text),
        Json::String(a) => a == text,
        Json::Number(a) => text.trim().parse::<f64>().ok() == a.as_f64(),
        Json::Bool(a) => text.eq_ignore_ascii_case(if *a { "true" } else { "false" }),
        _ => false,
    }
}

fn enum_list(allowed: &[serde_json::Value]) -> String {
    const SHOWN: usize = 12;
    let mut names: Vec<String> = allowed
        .iter()
        .take(SHOWN)
        .map(crate::engine::eval::json_text)
        .collect();
    if allowed.len() > SHOWN {
        names.push(format!("... ({} in all)", allowed.len()));
    }
    names.join(", ")
}

fn out_of_range(n: f64, s: &SchemaNode) -> Option<String> {
    let below = s.minimum.is_some_and(|m| n < m) || s.exclusive_minimum.is_some_and(|m| n <= m);
    let above = s.maximum.is_some_and(|m| n > m) || s.exclusive_maximum.is_some_and(|m| n >= m);
    if !(below || above) {
        return None;
    }
    let show = |v: f64| Value::Number(v).to_string();
    let low = (s.minimum.map(|m| format!("at least {}", show(m)))).or_else(|| {
        s.exclusive_minimum
            .map(|m| format!("more than {}", show(m)))
    });
    let high = (s.maximum.map(|m| format!("at most {}", show(m)))).or_else(|| {
        s.exclusive_maximum
            .map(|m| format!("less than {}", show(m)))
    });
    Some(match (low, high) {
        (Some(l), Some(h)) => format!("{l} and {h}"),
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => String::new(),
    })
}

fn bounds_text(min: Option<u64>, max: Option<u64>, units: &str) -> String {
    // "1 item", "2 items".
    let unit = if max == Some(1) {
        units.strip_suffix('s').unwrap_or(units)
    } else {
        units
    };
    match (min, max) {
        (Some(a), Some(b)) if a == b => format!("exactly {a} {unit}"),
        (Some(a), Some(b)) => format!("{a} to {b} {unit}"),
        (Some(a), None) => format!("at least {a} {unit}"),
        (None, Some(b)) => format!("at most {b} {unit}"),
        (None, None) => units.to_string(),
    }
}
