//! Operations to byte-range text edits that touch only what the fix needs.

use serde_json::Value as Json;

use super::render::{self, Layout};
use crate::load::Syntax;
use crate::model::node::{Node, Value};
use crate::rules::plan::{Op, OpKind};

/// Replace `start..end` with `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    /// First byte replaced.
    pub start: usize,
    /// First byte kept.
    pub end: usize,
    pub text: String,
    /// The pointer of the key this edit creates, if any: two edits creating the same key clash.
    pub creates: Option<Vec<String>>,
    /// The mapping or list an insertion goes into: insertions at one point must share it.
    pub container: Option<Vec<String>>,
    /// For a new key: the value inserted under it, so two fixes creating the same key can be
    /// merged into one insertion instead of waiting for another round.
    pub inserted: Option<Json>,
}

impl TextEdit {
    /// A plain replacement (insertions are `start == end`).
    pub fn new(start: usize, end: usize, text: impl Into<String>) -> Self {
        TextEdit {
            start,
            end,
            text: text.into(),
            creates: None,
            container: None,
            inserted: None,
        }
    }
}

/// The file being edited.
pub struct Source<'a> {
    pub text: &'a str,
    pub root: &'a Node,
    /// JSON or YAML.
    pub syntax: Syntax,
    /// Indentation and line endings, detected on first use: most files render no edit.
    layout: std::cell::OnceCell<Layout>,
}

impl<'a> Source<'a> {
    /// A file to render edits for.
    pub fn new(text: &'a str, root: &'a Node, syntax: Syntax) -> Self {
        Source {
            text,
            root,
            syntax,
            layout: std::cell::OnceCell::new(),
        }
    }

    /// Indentation and line endings (scanning the text costs a pass: only when rendering).
    pub fn layout(&self) -> &Layout {
        self.layout.get_or_init(|| Layout::detect(self.text))
    }
}

/// Renders an operation; `Ok(None)` when it changes nothing (a set-if-absent on a present key).
pub fn render(src: &Source<'_>, op: &Op) -> Result<Option<TextEdit>, String> {
    let mut node = src.root;
    let mut depth = 0;
    for key in &op.pointer {
        if node.intrinsic().is_some() {
            return Err(format!(
                "`{}` is computed by an intrinsic function; it cannot be edited statically",
                key
            ));
        }
        let child = match &node.value {
            Value::Map(m) => m.get(key),
            Value::Seq(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => {
                return Err(format!(
                    "`{key}` is under a value that is neither a mapping nor a list"
                ));
            }
        };
        match child {
            Some(c) => {
                node = c;
                depth += 1;
            }
            None => break,
        }
    }
    let missing = &op.pointer[depth..];
    match (&op.kind, missing.split_first()) {
        (OpKind::SetIfAbsent(_), None) => Ok(None),
        (OpKind::Remove, Some(_)) => Ok(None),
        (OpKind::Set(v), None) => replace(src, node, v).map(Some),
        (OpKind::Remove, None) => {
            let parent =
                parent_of(src.root, &op.pointer).ok_or("cannot remove the document root")?;
            remove(
                src,
                parent,
                op.pointer.last().map(String::as_str).unwrap_or_default(),
            )
            .map(Some)
        }
        (OpKind::Append(v), None) => match &node.value {
            Value::Seq(_) => {
                let e = push(src, node, v)?;
                Ok(Some(TextEdit {
                    container: Some(op.pointer.clone()),
                    ..e
                }))
            }
            _ => Err("cannot append: the target is not a list".into()),
        },
        (OpKind::Set(v) | OpKind::SetIfAbsent(v), Some((first, rest))) => {
            let value = nest(rest, v.clone());
            insert_at(src, &op.pointer[..depth], node, first, value).map(Some)
        }
        (OpKind::Append(v), Some((first, rest))) => {
            let value = nest(rest, Json::Array(vec![v.clone()]));
            insert_at(src, &op.pointer[..depth], node, first, value).map(Some)
        }
    }
}

/// The insertion of a new key into the mapping at `container` (whose node is `parent`).
fn insert_at(
    src: &Source<'_>,
    container: &[String],
    parent: &Node,
    key: &str,
    value: Json,
) -> Result<TextEdit, String> {
    let e = insert(src, parent, key, &value)?;
    let mut created = container.to_vec();
    created.push(key.to_string());
    Ok(TextEdit {
        creates: Some(created),
        container: Some(container.to_vec()),
        inserted: Some(value),
        ..e
    })
}

/// Re-renders an insertion whose value grew (two fixes creating the same key, merged).
pub fn reinsert(src: &Source<'_>, edit: &TextEdit, value: Json) -> Result<TextEdit, String> {
    let (Some(container), Some(created)) = (&edit.container, &edit.creates) else {
        return Err("not an insertion".into());
    };
    let mut parent = src.root;
    for key in container {
        parent = match &parent.value {
            Value::Map(m) => m.get(key).ok_or("the container moved")?,
            Value::Seq(items) => key
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .ok_or("the container moved")?,
            _ => return Err("the container moved".into()),
        };
    }
    let key = created.last().ok_or("not an insertion")?;
    insert_at(src, container, parent, key, value)
}

/// Deep-merges what two fixes insert under the same new key: mappings key by key, lists
/// appended (two appends to a list that does not exist yet); `None` when scalars disagree.
pub fn merge(a: &Json, b: &Json) -> Option<Json> {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            let mut out = x.clone();
            for (k, v) in y {
                let merged = match out.get(k) {
                    Some(old) => merge(old, v)?,
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Some(Json::Object(out))
        }
        (Json::Array(x), Json::Array(y)) => Some(Json::Array(x.iter().chain(y).cloned().collect())),
        (x, y) if x == y => Some(x.clone()),
        _ => None,
    }
}

/// Wraps a value in the mappings a missing path needs.
fn nest(keys: &[String], value: Json) -> Json {
    keys.iter().rev().fold(value, |acc, k| {
        let mut m = serde_json::Map::new();
        m.insert(k.clone(), acc);
        Json::Object(m)
    })
}

fn parent_of<'a>(root: &'a Node, pointer: &[String]) -> Option<&'a Node> {
    let (_, parents) = pointer.split_last()?;
    let mut node = root;
    for key in parents {
        node = match &node.value {
            Value::Map(m) => m.get(key)?,
            Value::Seq(items) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

fn indent_at(text: &str, pos: usize) -> String {
    let start = line_start(text, pos);
    text[start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

/// Column (in bytes) of a position on its line, as spaces for YAML block indentation.
fn column_spaces(text: &str, pos: usize) -> String {
    " ".repeat(text[line_start(text, pos)..pos].chars().count())
}

/// End of the line holding a position (before its newline), for YAML insertions after an entry.
fn line_end(text: &str, pos: usize) -> usize {
    let pos = if pos > 0 && text.as_bytes().get(pos - 1) == Some(&b'\n') {
        pos - 1
    } else {
        pos
    };
    let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    if end > 0 && text.as_bytes().get(end - 1) == Some(&b'\r') {
        end - 1
    } else {
        end
    }
}

/// The end of the last scalar inside a node: YAML block collections' own spans may run into
/// the next line, and so does a block scalar's (`|`, `>`), up to the next line's indentation;
/// that end is taken back to the line its content ends on.
fn last_scalar_end(text: &str, node: &Node) -> usize {
    match &node.value {
        Value::Map(m) => m
            .entries
            .last()
            .map_or(node.span.end as usize, |e| last_scalar_end(text, &e.value)),
        Value::Seq(items) => items
            .last()
            .map_or(node.span.end as usize, |n| last_scalar_end(text, n)),
        _ => before_next_line_indent(text, node.span.end as usize),
    }
}

/// A position preceded on its line by indentation only is the start of that line.
fn before_next_line_indent(text: &str, end: usize) -> usize {
    let bytes = text.as_bytes();
    let mut at = end.min(bytes.len());
    while at > 0 && matches!(bytes[at - 1], b' ' | b'\t') {
        at -= 1;
    }
    if at > 0 && bytes[at - 1] == b'\n' {
        at
    } else {
        end
    }
}

/// Whether a YAML collection is written in flow style (`{...}`/`[...]`) or as a tagged scalar.
fn yaml_inline_node(src: &Source<'_>, node: &Node) -> bool {
    matches!(
        src.text.as_bytes().get(node.span.start as usize),
        Some(b'{' | b'[' | b'!' | b'"' | b'\'')
    ) || node.is_scalar()
}

fn replace(src: &Source<'_>, node: &Node, v: &Json) -> Result<TextEdit, String> {
    let (start, end) = (node.span.start as usize, node.span.end as usize);
    let text = match src.syntax {
        Syntax::Json => render::json(v, &indent_at(src.text, start), src.layout()),
        // An empty value has an empty span after its key (or its `:`): the value needs the
        // `: ` (or the space) the source left out.
        Syntax::Yaml if start == end => {
            let sep = match src.text[..start].chars().next_back() {
                Some(':') => " ",
                Some(c) if c.is_alphanumeric() || c == '"' || c == '\'' => ": ",
                // An empty list item sits wherever its parser put it: too ambiguous to edit.
                _ => return Err("replacing an empty list item in YAML is not supported".into()),
            };
            format!("{sep}{}", render::yaml_inline(v))
        }
        Syntax::Yaml if yaml_inline_node(src, node) => render::yaml_inline(v),
        Syntax::Yaml => {
            return Err("replacing a block mapping or list in YAML is not supported".into());
        }
    };
    Ok(TextEdit::new(start, end, text))
}

fn insert(src: &Source<'_>, parent: &Node, key: &str, v: &Json) -> Result<TextEdit, String> {
    let Some(map) = parent.as_map() else {
        return Err(format!("cannot add `{key}`: its parent is not a mapping"));
    };
    let (pstart, pend) = (parent.span.start as usize, parent.span.end as usize);
    let nl = src.layout().newline;
    match src.syntax {
        Syntax::Json => {
            let key_json = Json::String(key.to_string());
            match map.entries.last() {
                None => {
                    let outer = indent_at(src.text, pstart);
                    let inner = format!("{outer}{}", src.layout().unit);
                    let body = render::json(v, &inner, src.layout());
                    Ok(TextEdit::new(
                        pstart,
                        pend,
                        format!("{{{nl}{inner}{key_json}: {body}{nl}{outer}}}"),
                    ))
                }
                Some(last) => {
                    let first = &map.entries[0];
                    let multiline = src.text[pstart..first.key_span.start as usize].contains('\n');
                    let at = last.value.span.end as usize;
                    if multiline {
                        let indent = indent_at(src.text, last.key_span.start as usize);
                        let body = render::json(v, &indent, src.layout());
                        Ok(TextEdit::new(
                            at,
                            at,
                            format!(",{nl}{indent}{key_json}: {body}"),
                        ))
                    } else {
                        Ok(TextEdit::new(
                            at,
                            at,
                            format!(", {key_json}: {}", compact(v)),
                        ))
                    }
                }
            }
        }
        Syntax::Yaml => {
            let key_text = render::yaml_key(key);
            match map.entries.last() {
                _ if src.text.as_bytes().get(pstart) == Some(&b'{') => {
                    let item = format!("{key_text}: {}", render::yaml_inline(v));
                    match map.entries.last() {
                        None => Ok(TextEdit::new(pstart, pend, format!("{{{item}}}"))),
                        Some(last) => {
                            let at = last.value.span.end as usize; // flow: spans end right after the node
                            Ok(TextEdit::new(at, at, format!(", {item}")))
                        }
                    }
                }
                None => Err(format!("cannot add `{key}` to an empty block mapping")),
                Some(last) => {
                    let indent = column_spaces(src.text, map.entries[0].key_span.start as usize);
                    let at = line_end(src.text, last_scalar_end(src.text, &last.value));
                    let after = render::yaml_after_key(v, &indent, src.layout());
                    Ok(TextEdit::new(
                        at,
                        at,
                        format!("{nl}{indent}{key_text}:{after}"),
                    ))
                }
            }
        }
    }
}

fn push(src: &Source<'_>, list: &Node, v: &Json) -> Result<TextEdit, String> {
    let items = list.as_seq().unwrap_or_default();
    let (lstart, lend) = (list.span.start as usize, list.span.end as usize);
    let nl = src.layout().newline;
    match src.syntax {
        Syntax::Json => match items.last() {
            None => Ok(TextEdit::new(lstart, lend, format!("[{}]", compact(v)))),
            Some(last) => {
                let multiline = src.text[lstart..items[0].span.start as usize].contains('\n');
                let at = last.span.end as usize;
                if multiline {
                    let indent = indent_at(src.text, last.span.start as usize);
                    Ok(TextEdit::new(
                        at,
                        at,
                        format!(",{nl}{indent}{}", render::json(v, &indent, src.layout())),
                    ))
                } else {
                    Ok(TextEdit::new(at, at, format!(", {}", compact(v))))
                }
            }
        },
        Syntax::Yaml => match items.last() {
            _ if src.text.as_bytes().get(lstart) == Some(&b'[') => match items.last() {
                None => Ok(TextEdit::new(
                    lstart,
                    lend,
                    format!("[{}]", render::yaml_inline(v)),
                )),
                Some(last) => {
                    let at = last.span.end as usize; // flow: spans end right after the node
                    Ok(TextEdit::new(
                        at,
                        at,
                        format!(", {}", render::yaml_inline(v)),
                    ))
                }
            },
            None => Err("cannot append to an empty block list".into()),
            Some(last) => {
                let first = items[0].span.start as usize;
                // The item's dash precedes it, on its line or alone on an earlier one.
                let before = src.text[..first].trim_end_matches([' ', '\t', '\r', '\n']);
                let dash = before.ends_with('-').then(|| before.len() - 1);
                let Some(dash) = dash else {
                    return Err("cannot find the list's dashes".into());
                };
                let indent = column_spaces(src.text, dash);
                let at = line_end(src.text, last_scalar_end(src.text, last));
                let item = render::yaml_item(v, &indent, src.layout());
                Ok(TextEdit::new(at, at, format!("{nl}{indent}- {item}")))
            }
        },
    }
}

/// One-line JSON spaced as people write it (`{"a": [1, 2]}`). Built item by item: spacing
/// serde_json's output by text replacement also rewrote strings that contain `":`.
fn compact(v: &Json) -> String {
    match v {
        Json::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", Json::String(k.clone()), compact(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Json::Array(a) => format!("[{}]", a.iter().map(compact).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

fn remove(src: &Source<'_>, parent: &Node, key: &str) -> Result<TextEdit, String> {
    let Some(map) = parent.as_map() else {
        return Err("can only remove mapping entries".into());
    };
    let Some(i) = map.entries.iter().position(|e| &*e.key == key) else {
        return Err(format!("`{key}` is not there"));
    };
    let entry = &map.entries[i];
    let key_start = entry.key_span.start as usize;
    let flow = src.syntax == Syntax::Json
        || src.text.as_bytes().get(parent.span.start as usize) == Some(&b'{');
    if flow {
        // JSON and YAML flow mappings: spans are exact, so cut from this key to the next one, or
        // from the previous value's end (taking the comma) for the last entry.
        return Ok(if let Some(next) = map.entries.get(i + 1) {
            TextEdit::new(key_start, next.key_span.start as usize, "")
        } else if i > 0 {
            TextEdit::new(
                map.entries[i - 1].value.span.end as usize,
                entry.value.span.end as usize,
                "",
            )
        } else {
            TextEdit::new(parent.span.start as usize, parent.span.end as usize, "{}")
        });
    }
    // A YAML block mapping: delete the entry's whole lines.
    if map.entries.len() == 1 {
        return Err(format!(
            "removing `{key}` would leave an empty block mapping"
        ));
    }
    let start = line_start(src.text, key_start);
    let end = line_end(src.text, last_scalar_end(src.text, &entry.value));
    let end = if src.text[end..].starts_with("\r\n") {
        end + 2
    } else {
        (end + 1).min(src.text.len())
    };
    Ok(TextEdit::new(start, end, ""))
}

#[cfg(test)]
mod tests;
