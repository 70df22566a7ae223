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
    /// The replacement.
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
    /// Its text.
    pub text: &'a str,
    /// Its tree.
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
/// the next line, scalars' do not.
fn last_scalar_end(node: &Node) -> usize {
    match &node.value {
        Value::Map(m) => m
            .entries
            .last()
            .map_or(node.span.end as usize, |e| last_scalar_end(&e.value)),
        Value::Seq(items) => items.last().map_or(node.span.end as usize, last_scalar_end),
        _ => node.span.end as usize,
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
                    let at = line_end(src.text, last_scalar_end(&last.value));
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
                let at = line_end(src.text, last_scalar_end(last));
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
    let end = line_end(src.text, last_scalar_end(&entry.value));
    let end = if src.text[end..].starts_with("\r\n") {
        end + 2
    } else {
        (end + 1).min(src.text.len())
    };
    Ok(TextEdit::new(start, end, ""))
}

#[cfg(test)]
mod tests {
    //! Each operation on a tiny source, with the whole resulting text written out by hand.

    use super::*;
    use crate::fix::tree;
    use crate::load;
    use crate::model::pointer::split as split_pointer;
    use serde_json::json;

    fn op(pointer: &str, kind: OpKind) -> Op {
        Op {
            pointer: split_pointer(pointer),
            kind,
        }
    }

    /// The operation's edit, or why it cannot be rendered.
    fn try_render(syntax: Syntax, text: &str, op: &Op) -> Result<Option<TextEdit>, String> {
        let root = load::parse(text.as_bytes(), syntax).expect("the test source parses");
        render(&Source::new(text, &root, syntax), op)
    }

    /// The text after the operation's edit. The result must also parse to the tree that the
    /// same operation gives on the parsed source, as the fixer checks.
    fn fixed(syntax: Syntax, text: &str, op: Op) -> String {
        let edit = try_render(syntax, text, &op)
            .expect("the operation renders")
            .expect("the operation changes something");
        let mut out = text.to_string();
        out.replace_range(edit.start..edit.end, &edit.text);
        let mut expected = load::parse(text.as_bytes(), syntax).expect("the source parses");
        assert!(tree::apply(&mut expected, &op), "the operation applies");
        let got = load::parse(out.as_bytes(), syntax)
            .unwrap_or_else(|e| panic!("the fixed text does not parse ({}):\n{out}", e.message));
        assert!(
            tree::same(&expected, &got),
            "the fixed text means something else:\n{out}"
        );
        out
    }

    fn yaml(text: &str, op: Op) -> String {
        fixed(Syntax::Yaml, text, op)
    }

    fn json(text: &str, op: Op) -> String {
        fixed(Syntax::Json, text, op)
    }

    fn set(pointer: &str, v: Json) -> Op {
        op(pointer, OpKind::Set(v))
    }

    fn append(pointer: &str, v: Json) -> Op {
        op(pointer, OpKind::Append(v))
    }

    fn remove(pointer: &str) -> Op {
        op(pointer, OpKind::Remove)
    }

    // YAML, replacing.

    #[test]
    fn yaml_replace_a_scalar_keeps_the_comments_around_it() {
        let text = "# top\na: 1 # one\nb: 2\n";
        assert_eq!(yaml(text, set("/a", json!(5))), "# top\na: 5 # one\nb: 2\n");
    }

    #[test]
    fn yaml_replace_quotes_a_string_that_would_read_as_another_type() {
        assert_eq!(
            yaml("a: 1\nb: 2\n", set("/a", json!("yes"))),
            "a: \"yes\"\nb: 2\n"
        );
        assert_eq!(yaml("a: 1\n", set("/a", json!("10"))), "a: \"10\"\n");
    }

    #[test]
    fn yaml_replace_writes_intrinsics_in_short_form() {
        assert_eq!(
            yaml("Top:\n  a: x\n", set("/Top/a", json!({"Ref": "Name"}))),
            "Top:\n  a: !Ref Name\n"
        );
    }

    #[test]
    fn yaml_replace_an_item_of_a_flow_list() {
        assert_eq!(
            yaml("L: [a, b, c]\n", set("/L/1", json!("B"))),
            "L: [a, B, c]\n"
        );
    }

    #[test]
    fn yaml_replace_an_empty_value_adds_the_missing_space() {
        assert_eq!(yaml("a:\nb: 2\n", set("/a", json!(1))), "a: 1\nb: 2\n");
    }

    #[test]
    fn yaml_replace_of_a_block_mapping_is_refused() {
        let err = try_render(
            Syntax::Yaml,
            "Top:\n  a: 1\n",
            &set("/Top", json!({"b": 2})),
        )
        .expect_err("a block mapping cannot be replaced");
        assert!(err.contains("block mapping"), "{err}");
    }

    // YAML, inserting.

    #[test]
    fn yaml_insert_after_the_last_key_at_indent_two() {
        assert_eq!(
            yaml("Top:\n  a: 1\n  b: 2\n", set("/Top/c", json!(true))),
            "Top:\n  a: 1\n  b: 2\n  c: true\n"
        );
    }

    #[test]
    fn yaml_insert_a_nested_mapping_at_indent_four() {
        assert_eq!(
            yaml("Top:\n    a: 1\n", set("/Top/New/Inner", json!("v"))),
            "Top:\n    a: 1\n    New:\n        Inner: v\n"
        );
    }

    #[test]
    fn yaml_insert_a_list_under_a_new_key() {
        assert_eq!(
            yaml("Top:\n  a: 1\n", set("/Top/L", json!(["x", "y"]))),
            "Top:\n  a: 1\n  L:\n    - x\n    - y\n"
        );
    }

    #[test]
    fn yaml_insert_after_the_last_key_of_a_file_without_a_final_newline() {
        assert_eq!(yaml("a: 1\nb: 2", set("/c", json!(3))), "a: 1\nb: 2\nc: 3");
    }

    #[test]
    fn yaml_insert_goes_after_the_last_lines_comment() {
        assert_eq!(
            yaml("a: 1\nb: 2 # keep\n", set("/c", json!(3))),
            "a: 1\nb: 2 # keep\nc: 3\n"
        );
    }

    #[test]
    fn yaml_insert_after_a_nested_block_goes_at_the_outer_indent() {
        assert_eq!(
            yaml(
                "Top:\n  Inner:\n    x: 1\nOther: 2\n",
                set("/Top/Next", json!("n"))
            ),
            "Top:\n  Inner:\n    x: 1\n  Next: n\nOther: 2\n"
        );
    }

    #[test]
    fn yaml_insert_keeps_windows_line_endings() {
        assert_eq!(
            yaml("a: 1\r\nb: 2\r\n", set("/c", json!(3))),
            "a: 1\r\nb: 2\r\nc: 3\r\n"
        );
    }

    #[test]
    fn yaml_insert_into_a_flow_mapping() {
        assert_eq!(
            yaml("Top: {a: 1, b: 2}\n", set("/Top/c", json!(3))),
            "Top: {a: 1, b: 2, c: 3}\n"
        );
        assert_eq!(yaml("Top: {}\n", set("/Top/a", json!(1))), "Top: {a: 1}\n");
    }

    #[test]
    fn yaml_set_if_absent_on_a_present_key_changes_nothing() {
        let none = try_render(
            Syntax::Yaml,
            "a: 1\n",
            &op("/a", OpKind::SetIfAbsent(json!(2))),
        )
        .expect("renders");
        assert_eq!(none, None);
    }

    // YAML, appending to lists.

    #[test]
    fn yaml_push_onto_an_indented_block_list() {
        assert_eq!(
            yaml("L:\n  - a\n  - b\n", append("/L", json!("c"))),
            "L:\n  - a\n  - b\n  - c\n"
        );
    }

    #[test]
    fn yaml_push_onto_a_block_list_at_the_keys_column() {
        assert_eq!(
            yaml("L:\n- a\n- b\nM: 1\n", append("/L", json!("c"))),
            "L:\n- a\n- b\n- c\nM: 1\n"
        );
    }

    #[test]
    fn yaml_push_a_mapping_onto_a_block_list_at_indent_four() {
        assert_eq!(
            yaml(
                "L:\n    - Name: a\n",
                append("/L", json!({"Name": "b", "Value": 1}))
            ),
            "L:\n    - Name: a\n    - Name: b\n      Value: 1\n"
        );
    }

    #[test]
    fn yaml_push_onto_a_flow_list() {
        assert_eq!(
            yaml("L: [a, b]\n", append("/L", json!("c"))),
            "L: [a, b, c]\n"
        );
        assert_eq!(yaml("L: []\n", append("/L", json!("c"))), "L: [c]\n");
    }

    #[test]
    fn yaml_append_to_a_missing_list_creates_it() {
        assert_eq!(
            yaml("Top:\n  a: 1\n", append("/Top/L", json!("x"))),
            "Top:\n  a: 1\n  L:\n    - x\n"
        );
    }

    #[test]
    fn yaml_append_to_a_scalar_is_refused() {
        let err = try_render(Syntax::Yaml, "L: 1\n", &append("/L", json!("x")))
            .expect_err("a scalar is not a list");
        assert!(err.contains("not a list"), "{err}");
    }

    // YAML, removing.

    #[test]
    fn yaml_remove_takes_the_entrys_whole_line_and_its_comment() {
        assert_eq!(
            yaml("a: 1\nb: 2 # two\nc: 3\n", remove("/b")),
            "a: 1\nc: 3\n"
        );
    }

    #[test]
    fn yaml_remove_an_entry_with_a_nested_block() {
        assert_eq!(yaml("a:\n  x: 1\n  y: 2\nb: 3\n", remove("/a")), "b: 3\n");
    }

    #[test]
    fn yaml_remove_the_last_key_of_a_file_without_a_final_newline() {
        assert_eq!(yaml("a: 1\nb: 2", remove("/b")), "a: 1\n");
    }

    #[test]
    fn yaml_remove_from_a_flow_mapping() {
        let text = "Top: {a: 1, b: 2, c: 3}\n";
        assert_eq!(yaml(text, remove("/Top/a")), "Top: {b: 2, c: 3}\n");
        assert_eq!(yaml(text, remove("/Top/b")), "Top: {a: 1, c: 3}\n");
        assert_eq!(yaml(text, remove("/Top/c")), "Top: {a: 1, b: 2}\n");
        assert_eq!(yaml("Top: {a: 1}\n", remove("/Top/a")), "Top: {}\n");
    }

    #[test]
    fn yaml_remove_the_only_key_of_a_block_mapping_is_refused() {
        let err = try_render(Syntax::Yaml, "Top:\n  a: 1\n", &remove("/Top/a"))
            .expect_err("an empty block mapping cannot be written");
        assert!(err.contains("empty block mapping"), "{err}");
    }

    #[test]
    fn yaml_remove_of_a_missing_key_changes_nothing() {
        let none = try_render(Syntax::Yaml, "a: 1\n", &remove("/b/c")).expect("renders");
        assert_eq!(none, None);
    }

    // JSON, replacing.

    #[test]
    fn json_replace_a_value_in_a_compact_document() {
        assert_eq!(
            json(r#"{"a": {"x": 1}, "b": 2}"#, set("/a", json!(5))),
            r#"{"a": 5, "b": 2}"#
        );
        assert_eq!(
            json(r#"{"L": [1, 2]}"#, set("/L/1", json!(9))),
            r#"{"L": [1, 9]}"#
        );
    }

    #[test]
    fn json_replace_with_an_object_in_a_pretty_document() {
        assert_eq!(
            json("{\n  \"a\": 1\n}\n", set("/a", json!({"x": [1]}))),
            "{\n  \"a\": {\n    \"x\": [\n      1\n    ]\n  }\n}\n"
        );
    }

    // JSON, inserting.

    #[test]
    fn json_insert_into_a_compact_mapping() {
        assert_eq!(
            json(r#"{"a": 1}"#, set("/b", json!(2))),
            r#"{"a": 1, "b": 2}"#
        );
    }

    #[test]
    fn json_insert_an_object_into_a_compact_mapping() {
        assert_eq!(
            json(r#"{"a": 1}"#, set("/b", json!({"c": "d", "e": [1, 2]}))),
            r#"{"a": 1, "b": {"c": "d", "e": [1, 2]}}"#
        );
    }

    #[test]
    fn json_insert_keeps_a_string_that_contains_quote_colon() {
        // `"x\":y"` is the JSON of the string `x":y`: its `":` is no key separator.
        assert_eq!(
            json(r#"{"a": 1}"#, set("/b", json!("x\":y,\"z"))),
            r#"{"a": 1, "b": "x\":y,\"z"}"#
        );
    }

    #[test]
    fn json_insert_into_a_pretty_mapping_at_indent_two() {
        assert_eq!(
            json("{\n  \"a\": 1\n}\n", set("/b", json!({"c": 1}))),
            "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": 1\n  }\n}\n"
        );
    }

    #[test]
    fn json_insert_into_a_pretty_mapping_at_indent_one_as_cdk_writes() {
        assert_eq!(
            json("{\n \"a\": [\n  1\n ]\n}", set("/b", json!([true]))),
            "{\n \"a\": [\n  1\n ],\n \"b\": [\n  true\n ]\n}"
        );
    }

    #[test]
    fn json_insert_into_an_empty_pretty_mapping() {
        assert_eq!(
            json("{\n  \"R\": {}\n}\n", set("/R/a", json!(1))),
            "{\n  \"R\": {\n    \"a\": 1\n  }\n}\n"
        );
    }

    #[test]
    fn json_insert_into_a_pretty_mapping_with_windows_line_endings() {
        assert_eq!(
            json("{\r\n    \"a\": 1\r\n}\r\n", set("/b", json!(2))),
            "{\r\n    \"a\": 1,\r\n    \"b\": 2\r\n}\r\n"
        );
    }

    // JSON, appending.

    #[test]
    fn json_push_onto_a_compact_list() {
        assert_eq!(
            json(r#"{"L": [1, 2]}"#, append("/L", json!(3))),
            r#"{"L": [1, 2, 3]}"#
        );
        assert_eq!(
            json(r#"{"L": []}"#, append("/L", json!({"k": "v"}))),
            r#"{"L": [{"k": "v"}]}"#
        );
    }

    #[test]
    fn json_push_onto_a_pretty_list() {
        assert_eq!(
            json(
                "{\n  \"L\": [\n    \"a\"\n  ]\n}\n",
                append("/L", json!("b"))
            ),
            "{\n  \"L\": [\n    \"a\",\n    \"b\"\n  ]\n}\n"
        );
    }

    #[test]
    fn json_append_to_a_missing_list_creates_it() {
        assert_eq!(
            json(r#"{"a": 1}"#, append("/L", json!("x"))),
            r#"{"a": 1, "L": ["x"]}"#
        );
    }

    // JSON, removing: never a comma left behind.

    #[test]
    fn json_remove_from_a_compact_mapping() {
        let text = r#"{"a": 1, "b": 2, "c": 3}"#;
        assert_eq!(json(text, remove("/a")), r#"{"b": 2, "c": 3}"#);
        assert_eq!(json(text, remove("/b")), r#"{"a": 1, "c": 3}"#);
        assert_eq!(json(text, remove("/c")), r#"{"a": 1, "b": 2}"#);
        assert_eq!(json(r#"{"R": {"a": 1}}"#, remove("/R/a")), r#"{"R": {}}"#);
    }

    #[test]
    fn json_remove_from_a_pretty_mapping() {
        let text = "{\n  \"a\": 1,\n  \"b\": 2\n}\n";
        assert_eq!(json(text, remove("/a")), "{\n  \"b\": 2\n}\n");
        assert_eq!(json(text, remove("/b")), "{\n  \"a\": 1\n}\n");
    }

    #[test]
    fn json_remove_of_a_list_item_is_refused() {
        let err = try_render(Syntax::Json, r#"{"L": [1]}"#, &remove("/L/0"))
            .expect_err("only mapping entries can be removed");
        assert!(err.contains("mapping entries"), "{err}");
    }

    #[test]
    fn editing_under_an_intrinsic_is_refused() {
        let err = try_render(
            Syntax::Json,
            r#"{"a": {"Fn::If": ["C", {"x": 1}, {"x": 2}]}}"#,
            &set("/a/x", json!(3)),
        )
        .expect_err("an intrinsic's value is computed");
        assert!(err.contains("intrinsic"), "{err}");
    }

    // Merging two fixes' values under one new key.

    #[test]
    fn merge_mappings_key_by_key_and_lists_end_to_end() {
        assert_eq!(
            merge(
                &json!({"A": {"x": 1}, "L": [1]}),
                &json!({"A": {"y": 2}, "L": [2], "B": true})
            ),
            Some(json!({"A": {"x": 1, "y": 2}, "L": [1, 2], "B": true}))
        );
    }

    #[test]
    fn merge_of_equal_scalars_is_the_scalar_and_of_different_ones_nothing() {
        assert_eq!(merge(&json!("s"), &json!("s")), Some(json!("s")));
        assert_eq!(merge(&json!({"A": 1}), &json!({"A": 2})), None);
        assert_eq!(merge(&json!([1]), &json!({"A": 1})), None);
    }
}
