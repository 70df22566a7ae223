//! The same operations applied to the parsed tree: the reference the text edits must agree with.
//!
//! Works on [`Node`] trees directly (spans ignored, key order kept), which is both stricter than
//! comparing JSON maps (order counts) and several times cheaper than converting whole templates.

use serde_json::Value as Json;

use crate::model::node::{Entry, Map, Node, Span, Value};
use crate::rules::plan::{Op, OpKind};

/// Applies an operation to a tree; `false` when the path runs through a non-container.
pub fn apply(root: &mut Node, op: &Op) -> bool {
    let Some((last, parents)) = op.pointer.split_last() else {
        return false;
    };
    if matches!(op.kind, OpKind::Remove) {
        match navigate(root, parents, false).map(|n| &mut n.value) {
            Some(Value::Map(m)) => m.entries.retain(|e| *e.key != **last),
            Some(Value::Seq(items)) => {
                if let Some(i) = last.parse::<usize>().ok().filter(|i| *i < items.len()) {
                    items.remove(i);
                }
            }
            _ => {}
        }
        return true;
    }
    let Some(parent) = navigate(root, parents, true) else {
        return false;
    };
    match (&mut parent.value, &op.kind) {
        (Value::Map(m), OpKind::Set(v)) => {
            match m.get_mut(last) {
                Some(value) => *value = from_json(v),
                None => push(m, last, from_json(v)),
            }
            true
        }
        (Value::Map(m), OpKind::SetIfAbsent(v)) => {
            if m.get(last).is_none() {
                push(m, last, from_json(v));
            }
            true
        }
        (Value::Map(m), OpKind::Append(v)) => {
            if m.get(last).is_none() {
                push(m, last, Node::new(Span::default(), Value::Seq(Vec::new())));
            }
            match m.get_mut(last).map(|n| &mut n.value) {
                Some(Value::Seq(items)) => {
                    items.push(from_json(v));
                    true
                }
                _ => false,
            }
        }
        (Value::Seq(items), OpKind::Set(v)) => {
            match last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(slot) => {
                    *slot = from_json(v);
                    true
                }
                None => false,
            }
        }
        _ => false,
    }
}

fn push(m: &mut Map, key: &str, value: Node) {
    m.entries.push(Entry {
        key: key.into(),
        key_span: Span::default(),
        value,
    });
}

fn navigate<'a>(root: &'a mut Node, path: &[String], create: bool) -> Option<&'a mut Node> {
    let mut node = root;
    for key in path {
        node = match &mut node.value {
            Value::Map(m) => {
                if create && m.get(key).is_none() {
                    push(
                        m,
                        key,
                        Node::new(Span::default(), Value::Map(Map::default())),
                    );
                }
                m.get_mut(key)?
            }
            Value::Seq(items) => items.get_mut(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// A value from a rule file as a tree node (no span: it was never written anywhere).
pub fn from_json(v: &Json) -> Node {
    let value = match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Number(n.as_f64().unwrap_or_default()),
        Json::String(s) => Value::String(s.as_str().into()),
        Json::Array(items) => Value::Seq(items.iter().map(from_json).collect()),
        Json::Object(m) => Value::Map(Map {
            entries: m
                .iter()
                .map(|(k, v)| Entry {
                    key: k.as_str().into(),
                    key_span: Span::default(),
                    value: from_json(v),
                })
                .collect(),
        }),
    };
    Node::new(Span::default(), value)
}

/// Whether two trees hold the same document: values and key order, spans ignored.
pub fn same(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Map(x), Value::Map(y)) => {
            x.entries.len() == y.entries.len()
                && x.entries
                    .iter()
                    .zip(&y.entries)
                    .all(|(p, q)| p.key == q.key && same(&p.value, &q.value))
        }
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (x, y) => x == y,
    }
}
