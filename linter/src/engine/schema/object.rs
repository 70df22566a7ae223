//! Objects: declared, pattern and additional properties, `required`, the dependency keywords,
//! and the resource's own `Properties` (with its read-only properties).

use super::walk::{Walker, if_branches, if_parts, is_if, is_no_value, unknown};
use crate::engine::path::label_for;
use crate::model::node::{Map, Node, Span};
use crate::model::pointer;
use crate::rules::check::SchemaClass;
use crate::schema::{Additional, SchemaNode, suggest};

/// Whether a key is set, as far as can be known before deploying.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Presence {
    Absent,
    /// Set to a `Fn::If`, which may be `AWS::NoValue`, or to an empty list or mapping.
    Maybe,
    Set,
}

fn presence(map: &Map, key: &str) -> Presence {
    match map.get(key) {
        None => Presence::Absent,
        Some(v) if is_no_value(v) => Presence::Absent,
        Some(v) if is_if(v) => Presence::Maybe,
        // An empty list or mapping is often dropped by the resource handler, as if unset: a
        // CloudWatch console export with `Dimensions: []` beside `Metrics` deploys
        // (cfn-lint issue 2890), though the schema excludes the pair.
        Some(v) if v.as_seq().is_some_and(<[Node]>::is_empty) => Presence::Maybe,
        Some(v) if v.as_map().is_some_and(|m| m.entries.is_empty()) => Presence::Maybe,
        Some(_) => Presence::Set,
    }
}

impl<'t> Walker<'t, '_> {
    /// The resource's `Properties` against the schema's root; `ptr` is the resource's pointer.
    pub fn resource(&mut self, resource: &'t Node, ptr: &str, id_span: Span) {
        static EMPTY: Node = Node {
            span: Span { start: 0, end: 0 },
            value: crate::model::node::Value::Map(Map {
                entries: crate::model::node::Entries::new(),
            }),
        };
        // The resource exists only when its condition holds: a branch against it is dead.
        if let Some(c) = resource.get("Condition").and_then(Node::as_str) {
            self.assumed.push((c, true));
            self.given = self.assumed.len();
        }
        let mut ptr = format!("{ptr}/Properties");
        let (node, label) = match resource.as_map().and_then(|m| m.entry("Properties")) {
            // `Properties: !If [...]`: each branch against the root, as any value.
            Some(e) if if_branches(&e.value).is_some() => {
                self.value(&e.value, 0, &mut ptr, e.key_span);
                return;
            }
            Some(e) if unknown(&e.value) => return,
            Some(e) => (&e.value, e.key_span),
            None => (&EMPTY, id_span),
        };
        // Not a mapping: CloudFormation rejects the template before any schema.
        let (Some(properties), Some(root)) = (node.as_map(), self.schema.nodes.first()) else {
            return;
        };
        self.object(properties, root, &mut ptr, label);
        // The root's own combinations: an IAM policy is attached to a user, a group or a role.
        for &a in &root.all_of {
            self.value(node, a, &mut ptr, label);
        }
        self.alternatives(node, root, &mut ptr, label);
        if self.wants(SchemaClass::ReadOnly) {
            self.read_only(properties, &ptr);
        }
    }

    pub(super) fn object(&mut self, map: &'t Map, s: &SchemaNode, ptr: &mut String, label: Span) {
        let names = || s.properties.iter().map(|(k, _)| &**k);
        let any_key = s
            .pattern_properties
            .iter()
            .any(|(p, _)| p.regex().is_none());
        let len = ptr.len();
        for e in map.entries.iter().filter(|e| !is_no_value(&e.value)) {
            pointer::push(ptr, &e.key);
            let value_label = label_for(&e.value, Some(e.key_span));
            let mut matched = false;
            if let Some(id) = s.property(&e.key) {
                self.value(&e.value, id, ptr, value_label);
                matched = true;
            }
            for (p, id) in &s.pattern_properties {
                if p.regex().is_some_and(|re| re.is_match(&e.key)) {
                    self.value(&e.value, *id, ptr, value_label);
                    matched = true;
                }
            }
            match s.additional {
                _ if matched || any_key => {}
                Additional::Any => {}
                Additional::Schema(id) => self.value(&e.value, id, ptr, value_label),
                Additional::Forbidden if self.wants(SchemaClass::UnknownProperty) => {
                    let suggestion = suggest::closest(&e.key, names())
                        .map(|n| format!(" (did you mean `{n}`?)"))
                        .unwrap_or_default();
                    let allowed = names().collect::<Vec<_>>().join(", ");
                    let at = (ptr.as_str(), e.key_span);
                    self.report(
                        SchemaClass::UnknownProperty,
                        at,
                        Some(&e.value),
                        String::new(),
                        allowed,
                        suggestion,
                    );
                }
                Additional::Forbidden => {}
            }
            ptr.truncate(len);
        }
        self.required(map, s, ptr, label);
        self.dependents(map, s, ptr);
    }

    pub(super) fn required(&mut self, map: &'t Map, s: &SchemaNode, ptr: &mut String, label: Span) {
        let len = ptr.len();
        for name in &s.required {
            let p = presence(map, name);
            // Set or not depending on a condition: an alternative requiring it may not match.
            self.unsure |= p == Presence::Maybe;
            // `!If [C, value, !Ref AWS::NoValue]`: missing whenever C takes the NoValue branch.
            let removed_when = map.get(name).and_then(|v| self.removed_when(v));
            if p != Presence::Absent && removed_when.is_none() {
                continue;
            }
            let len_assumed = self.assumed.len();
            if let Some(Some(taken)) = removed_when {
                self.assumed.push(taken);
            }
            pointer::push(ptr, name);
            self.report(
                SchemaClass::Required,
                (ptr.as_str(), label),
                None,
                String::new(),
                String::new(),
                String::new(),
            );
            ptr.truncate(len);
            self.assumed.truncate(len_assumed);
        }
        let count = |names: &[Box<str>], p: Presence| {
            names.iter().filter(|n| presence(map, n) == p).count()
        };
        let (xor, or) = (&s.required_xor, &s.required_or);
        let xor_set = count(xor, Presence::Set);
        let xor_broken =
            !xor.is_empty() && (xor_set > 1 || xor_set + count(xor, Presence::Maybe) == 0);
        if xor_broken {
            let expected = format!("exactly one of {} must be set", xor.join(", "));
            self.report(
                SchemaClass::Dependent,
                (ptr.as_str(), label),
                None,
                expected,
                xor.join(", "),
                String::new(),
            );
        }
        if !or.is_empty() && or.iter().all(|n| presence(map, n) == Presence::Absent) {
            let expected = format!("at least one of {} must be set", or.join(", "));
            self.report(
                SchemaClass::Dependent,
                (ptr.as_str(), label),
                None,
                expected,
                or.join(", "),
                String::new(),
            );
        }
    }

    /// For `!If [C, a, b]` with one branch `AWS::NoValue` that can be taken: the condition
    /// value that removes the property (`Some(None)` when the conditions taken already do).
    fn removed_when(&self, value: &'t Node) -> Option<Option<(&'t str, bool)>> {
        let (condition, [yes, no]) = if_parts(value)?;
        let condition = condition?;
        let removed_if = match (is_no_value(yes), is_no_value(no)) {
            (true, false) => true,
            (false, true) => false,
            _ => return None,
        };
        match self.assumed.iter().find(|(c, _)| *c == condition) {
            Some(&(_, taken)) if taken == removed_if => Some(None),
            Some(_) => None,
            None => Some(Some((condition, removed_if))),
        }
    }

    /// `dependentRequired` needs its keys when the trigger is surely set; `dependentExcluded`
    /// forbids them only when both are surely set.
    fn dependents(&mut self, map: &'t Map, s: &SchemaNode, ptr: &mut String) {
        let len = ptr.len();
        let lists = [
            (&s.dependent_required, true),
            (&s.dependent_excluded, false),
        ];
        for (list, needed) in lists {
            for (key, others) in list {
                let Some(entry) = map
                    .entry(key)
                    .filter(|_| presence(map, key) == Presence::Set)
                else {
                    continue;
                };
                for other in others {
                    let p = presence(map, other);
                    let broken = if needed {
                        p == Presence::Absent
                    } else {
                        p == Presence::Set
                    };
                    if broken {
                        let expected = if needed {
                            format!("{key} needs {other} set too")
                        } else {
                            format!("{key} cannot be set together with {other}")
                        };
                        pointer::push(ptr, key);
                        let at = (ptr.as_str(), entry.key_span);
                        self.report(
                            SchemaClass::Dependent,
                            at,
                            Some(&entry.value),
                            expected,
                            other.to_string(),
                            String::new(),
                        );
                        ptr.truncate(len);
                    }
                }
            }
        }
    }

    /// Read-only properties are attributes CloudFormation reports, never inputs.
    fn read_only(&mut self, properties: &'t Map, ptr: &str) {
        for path in &self.schema.read_only {
            let mut map = properties;
            let mut at = ptr.to_string();
            for (i, seg) in path.iter().enumerate() {
                let Some(entry) = map.entry(seg).filter(|e| !is_no_value(&e.value)) else {
                    break;
                };
                pointer::push(&mut at, seg);
                if i + 1 == path.len() {
                    let place = (at.as_str(), entry.key_span);
                    self.report(
                        SchemaClass::ReadOnly,
                        place,
                        Some(&entry.value),
                        String::new(),
                        String::new(),
                        String::new(),
                    );
                    break;
                }
                match entry.value.as_map() {
                    Some(inner) if !unknown(&entry.value) => map = inner,
                    _ => break,
                }
            }
        }
    }
}
