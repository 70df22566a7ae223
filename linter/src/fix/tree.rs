//! The same operations applied to a parsed tree: the reference the text edits must agree with.

use serde_json::Value as Json;

use super::ops::{Op, OpKind};

/// Applies an operation to a JSON tree; `false` when the path runs through a non-container.
pub fn apply(root: &mut Json, op: &Op) -> bool {
    let Some((last, parents)) = op.pointer.split_last() else {
        return false;
    };
    if matches!(op.kind, OpKind::Remove) {
        return match navigate(root, parents, false) {
            Some(Json::Object(m)) => {
                m.shift_remove(last);
                true
            }
            Some(Json::Array(items)) => match last.parse::<usize>() {
                Ok(i) if i < items.len() => {
                    items.remove(i);
                    true
                }
                _ => true,
            },
            _ => true,
        };
    }
    let Some(parent) = navigate(root, parents, true) else {
        return false;
    };
    match (parent, &op.kind) {
        (Json::Object(m), OpKind::Set(v)) => {
            m.insert(last.clone(), v.clone());
            true
        }
        (Json::Object(m), OpKind::SetIfAbsent(v)) => {
            m.entry(last.clone()).or_insert_with(|| v.clone());
            true
        }
        (Json::Object(m), OpKind::Append(v)) => match m
            .entry(last.clone())
            .or_insert_with(|| Json::Array(Vec::new()))
        {
            Json::Array(items) => {
                items.push(v.clone());
                true
            }
            _ => false,
        },
        (Json::Array(items), OpKind::Set(v)) => {
            match last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(slot) => {
                    *slot = v.clone();
                    true
                }
                None => false,
            }
        }
        _ => false,
    }
}

fn navigate<'a>(root: &'a mut Json, path: &[String], create: bool) -> Option<&'a mut Json> {
    let mut node = root;
    for key in path {
        node = match node {
            Json::Object(m) => {
                if create && !m.contains_key(key) {
                    m.insert(key.clone(), Json::Object(serde_json::Map::new()));
                }
                m.get_mut(key)?
            }
            Json::Array(items) => items.get_mut(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}
