//! YAML events to a [`Node`] tree: short-form tags become long-form intrinsics, aliases are
//! expanded under a budget, nesting is bounded, and every span is a byte offset.

use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Tag};

use super::json::duplicate_key;
use super::{MAX_ALIAS_BYTES, MAX_ALIAS_NODES, MAX_DEPTH};
use crate::model::error::LoadError;
use crate::model::node::{Entry, Map, Node, Span, Value};

/// Parses one YAML document; `offset` is added to every span (the length of a stripped BOM).
pub fn parse(text: &str, offset: usize) -> Result<Node, LoadError> {
    let mut builder = Builder {
        cursor: CharCursor {
            text,
            char_idx: 0,
            byte_idx: 0,
            ascii: text.is_ascii(),
        },
        offset,
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_budget: Budget {
            nodes: MAX_ALIAS_NODES,
            bytes: MAX_ALIAS_BYTES,
        },
        root: None,
        documents: 0,
    };
    for event in Parser::new_from_str(text) {
        match event {
            Ok((event, span)) => builder.event(event, span.start, span.end)?,
            Err(e) => {
                let at = builder.byte(e.marker());
                let span = Span::new(at, at + 1);
                // The parser's own depth guard can trip before ours on flow collections.
                if e.info().contains("recursion limit") {
                    return Err(LoadError::at(span, format!("nesting deeper than {MAX_DEPTH} levels"))
                        .with_help("no CloudFormation template nests this deep; the file is likely generated wrongly"));
                }
                return Err(LoadError::at(span, format!("invalid YAML: {}", e.info())));
            }
        }
    }
    Ok(builder
        .root
        .unwrap_or(Node::new(Span::default(), Value::Null)))
}

/// Turns the parser's character offsets into byte offsets without a table per file.
struct CharCursor<'a> {
    text: &'a str,
    char_idx: usize,
    byte_idx: usize,
    ascii: bool,
}

impl CharCursor<'_> {
    fn byte_of(&mut self, char_idx: usize) -> usize {
        if self.ascii {
            return char_idx.min(self.text.len());
        }
        while self.char_idx < char_idx && self.byte_idx < self.text.len() {
            let width = self.text[self.byte_idx..]
                .chars()
                .next()
                .map_or(1, char::len_utf8);
            self.byte_idx += width;
            self.char_idx += 1;
        }
        while self.char_idx > char_idx && self.byte_idx > 0 {
            self.byte_idx -= 1;
            while !self.text.is_char_boundary(self.byte_idx) {
                self.byte_idx -= 1;
            }
            self.char_idx -= 1;
        }
        self.byte_idx
    }
}

enum Frame {
    Seq {
        start: usize,
        items: Vec<Node>,
        anchor: usize,
        tag: Option<Tag>,
    },
    Map {
        start: usize,
        map: Map,
        key: Option<(Box<str>, Span)>,
        anchor: usize,
        tag: Option<Tag>,
    },
}

/// What an anchored node costs each time an alias copies it, and what aliases may still copy.
#[derive(Clone, Copy)]
struct Budget {
    nodes: usize,
    /// Text (strings and keys): a few nodes can hold megabytes, which a node count misses.
    bytes: usize,
}

struct Builder<'a> {
    cursor: CharCursor<'a>,
    offset: usize,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, Budget)>,
    alias_budget: Budget,
    root: Option<Node>,
    documents: usize,
}

impl Builder<'_> {
    fn byte(&mut self, marker: &Marker) -> usize {
        self.cursor.byte_of(marker.index()) + self.offset
    }

    fn event(&mut self, event: Event<'_>, start: Marker, end: Marker) -> Result<(), LoadError> {
        let (start, end) = (self.byte(&start), self.byte(&end));
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(LoadError::at(Span::new(start, end.max(start + 1)), "a second YAML document starts here")
                        .with_help("a CloudFormation template is a single YAML document; remove the extra `---` section"));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let start = match style {
                    ScalarStyle::Literal | ScalarStyle::Folded => self.block_indicator(start),
                    _ => start,
                };
                // An empty node (`{k}`, `k:` with nothing after) comes with the span of the token
                // after it (`}`, `,` or the next line's key): an edit there would land outside the
                // value. It gets an empty span, placed after its key in `finish`.
                let empty = text.is_empty() && style == ScalarStyle::Plain && tag.is_none();
                let span = if empty {
                    Span::new(start, start)
                } else {
                    Span::new(start, end)
                };
                let tag = tag.map(|t| t.into_owned());
                // Only `!GetAtt` splits its text, so only it pays for finding it.
                let content = (tag.as_ref())
                    .filter(|t| t.handle == "!" && t.suffix == "GetAtt")
                    .and_then(|_| content_span(self.cursor.text, self.offset, &text, style, span));
                let value = scalar_value(&text, style, tag.as_ref(), span)?;
                let node = wrap_tag(Node::new(span, value), tag.as_ref(), span, content)?;
                self.finish(node, anchor)?;
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(start)?;
                self.stack.push(Frame::Seq {
                    start,
                    items: Vec::new(),
                    anchor,
                    tag: tag.map(|t| t.into_owned()),
                });
            }
            Event::MappingStart(anchor, tag) => {
                self.open(start)?;
                self.stack.push(Frame::Map {
                    start,
                    map: Map::default(),
                    key: None,
                    anchor,
                    tag: tag.map(|t| t.into_owned()),
                });
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(end)?,
            Event::Alias(id) => self.alias(id, start, end)?,
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    /// Aliases are copies of their anchor's node, charged against one budget per document so a
    /// chain of aliases cannot expand into gigabytes (the billion-laughs attack).
    fn alias(&mut self, id: usize, start: usize, end: usize) -> Result<(), LoadError> {
        let span = Span::new(start, end.max(start + 1));
        let Some((node, cost)) = self.anchors.get(&id) else {
            return Err(LoadError::at(span, "alias refers to an unknown anchor"));
        };
        if cost.nodes > self.alias_budget.nodes {
            return Err(LoadError::at(
                span,
                format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
            )
            .with_help(
                "this looks like an alias bomb; CloudFormation templates do not need YAML aliases",
            ));
        }
        if cost.bytes > self.alias_budget.bytes {
            return Err(LoadError::at(
                span,
                format!(
                    "aliases expand to more than {} MiB of text",
                    MAX_ALIAS_BYTES / (1024 * 1024)
                ),
            )
            .with_help("each alias copies its anchor's text; CloudFormation templates do not need YAML aliases, so write the value where it is used, or once in a parameter or mapping"));
        }
        self.alias_budget.nodes -= cost.nodes;
        self.alias_budget.bytes -= cost.bytes;
        let node = node.clone();
        self.finish(node, 0)
    }

    fn close(&mut self, end: usize) -> Result<(), LoadError> {
        let (node, anchor, tag) = match self.stack.pop() {
            Some(Frame::Seq {
                start: s,
                items,
                anchor,
                tag,
            }) => (Node::new(Span::new(s, end), Value::Seq(items)), anchor, tag),
            Some(Frame::Map {
                start: s,
                map,
                anchor,
                tag,
                ..
            }) => (Node::new(Span::new(s, end), Value::Map(map)), anchor, tag),
            None => return Ok(()),
        };
        let span = node.span;
        let node = wrap_tag(node, tag.as_ref(), span, None)?;
        self.finish(node, anchor)
    }

    /// Where a block scalar's `|`/`>` header starts: its span then covers the whole value, so
    /// findings point at the `Key: |` line and a fix can replace the value as a whole.
    fn block_indicator(&self, content_start: usize) -> usize {
        let bytes = self.cursor.text.as_bytes();
        let Some(mut i) = content_start.checked_sub(self.offset) else {
            return content_start;
        };
        i = i.min(bytes.len());
        while i > 0 && matches!(bytes[i - 1], b' ' | b'\t' | b'\r' | b'\n') {
            i -= 1;
        }
        // A comment may follow the header on its line: `Key: |  # why`.
        let line_start = bytes[..i]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1);
        let header_line = &bytes[line_start..i];
        let header = header_line
            .iter()
            .rposition(|b| *b == b'|' || *b == b'>')
            .filter(|&p| {
                header_line[p + 1..]
                    .iter()
                    .all(|b| b"+-0123456789 \t".contains(b))
                    || header_line[p + 1..].contains(&b'#')
            });
        match header {
            Some(p) => line_start + p + self.offset,
            None => content_start,
        }
    }

    fn open(&self, start: usize) -> Result<(), LoadError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(LoadError::at(
                Span::new(start, start + 1),
                format!("nesting deeper than {MAX_DEPTH} levels"),
            )
            .with_help(
                "no CloudFormation template nests this deep; the file is likely generated wrongly",
            ));
        }
        if let Some(Frame::Map { key: None, .. }) = self.stack.last() {
            return Err(LoadError::at(
                Span::new(start, start + 1),
                "a mapping key must be a plain value, not a list or mapping",
            )
            .with_help("CloudFormation keys are strings; rewrite the complex key as a string"));
        }
        Ok(())
    }

    /// Places a completed node into its parent (as a key, a value or a list item) or as the root.
    fn finish(&mut self, node: Node, anchor: usize) -> Result<(), LoadError> {
        if anchor != 0 {
            let cost = cost_of(&node);
            self.anchors.insert(anchor, (node.clone(), cost));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { map, key, .. }) => match key.take() {
                None => {
                    let text: Box<str> = match node.value {
                        Value::String(s) => s,
                        Value::Null => "".into(),
                        other => other.to_string().into(),
                    };
                    // Indexed once the mapping is large, so checking every key stays linear.
                    if let Some(first) = map.entry(&text) {
                        return Err(duplicate_key(&text, node.span, first.key_span));
                    }
                    *key = Some((text, node.span));
                }
                Some((k, key_span)) => {
                    let mut value = node;
                    if value.span.start == value.span.end && matches!(value.value, Value::Null) {
                        let at = after_key(self.cursor.text, key_span.end as usize - self.offset);
                        value.span = Span::new(at + self.offset, at + self.offset);
                    }
                    map.entries.push(Entry {
                        key: k,
                        key_span,
                        value,
                    })
                }
            },
        }
        Ok(())
    }
}

/// Where an empty value belongs: right after its key's `:` when there is one on the same line,
/// else right after the key (`{k}`), so inserting or replacing there stays inside the entry.
fn after_key(text: &str, key_end: usize) -> usize {
    let rest = &text.as_bytes()[key_end.min(text.len())..];
    let blanks = rest
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    if rest.get(blanks) == Some(&b':') {
        key_end + blanks + 1
    } else {
        key_end
    }
}

/// What one copy of a node costs: its nodes, and the bytes of its strings and keys.
fn cost_of(node: &Node) -> Budget {
    let mut cost = Budget { nodes: 1, bytes: 0 };
    match &node.value {
        Value::String(s) => cost.bytes = s.len(),
        Value::Seq(items) => items.iter().map(cost_of).for_each(|c| cost.add(c)),
        Value::Map(m) => {
            for e in &m.entries {
                cost.bytes = cost.bytes.saturating_add(e.key.len());
                cost.add(cost_of(&e.value));
            }
        }
        _ => {}
    }
    cost
}

impl Budget {
    /// Saturating: an anchor holding earlier aliases' copies can be large, never wrap around.
    fn add(&mut self, other: Budget) {
        self.nodes = self.nodes.saturating_add(other.nodes);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

/// The short-form tags CloudFormation defines, and the long-form key each stands for.
fn intrinsic_key(suffix: &str) -> Option<&'static str> {
    Some(match suffix {
        "Ref" => "Ref",
        "Condition" => "Condition",
        "Sub" => "Fn::Sub",
        "GetAtt" => "Fn::GetAtt",
        "Join" => "Fn::Join",
        "If" => "Fn::If",
        "Select" => "Fn::Select",
        "Split" => "Fn::Split",
        "FindInMap" => "Fn::FindInMap",
        "ImportValue" => "Fn::ImportValue",
        "Base64" => "Fn::Base64",
        "Cidr" => "Fn::Cidr",
        "GetAZs" => "Fn::GetAZs",
        "Equals" => "Fn::Equals",
        "And" => "Fn::And",
        "Or" => "Fn::Or",
        "Not" => "Fn::Not",
        "Transform" => "Fn::Transform",
        "ToJsonString" => "Fn::ToJsonString",
        "Length" => "Fn::Length",
        "ForEach" => "Fn::ForEach",
        // The functions of a template's `Rules` section.
        "Contains" => "Fn::Contains",
        "EachMemberEquals" => "Fn::EachMemberEquals",
        "EachMemberIn" => "Fn::EachMemberIn",
        "RefAll" => "Fn::RefAll",
        "ValueOf" => "Fn::ValueOf",
        "ValueOfAll" => "Fn::ValueOfAll",
        _ => return None,
    })
}

/// Where a scalar's text lies in the source when it is there byte for byte: a plain or quoted
/// scalar without escapes or line breaks, found after its tag within the event's span (which
/// starts at the tag and, for quoted scalars, may run past the closing quote). This is what
/// lets `!GetAtt Res.Attr` give its two parts their own places.
fn content_span(
    source: &str,
    offset: usize,
    text: &str,
    style: ScalarStyle,
    span: Span,
) -> Option<Span> {
    let quoted = matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted);
    if !(quoted || style == ScalarStyle::Plain)
        || text.is_empty()
        || text.contains(['\n', '\\', '\'', '"'])
    {
        return None;
    }
    let (from, to) = (
        (span.start as usize).checked_sub(offset)?,
        (span.end as usize).checked_sub(offset)?,
    );
    let written = source.get(from..to)?;
    // Past the tag (`!GetAtt `) and an opening quote.
    let body = written.find(char::is_whitespace).map_or(0, |i| i + 1);
    let at = body + written.get(body..)?.find(text)?;
    Some(Span::new(
        span.start as usize + at,
        span.start as usize + at + text.len(),
    ))
}

/// Rewrites a short-form tagged node (`!Sub x`) into its long form (`{"Fn::Sub": x}`);
/// `content` is where a scalar's own text is, when known.
fn wrap_tag(
    node: Node,
    tag: Option<&Tag>,
    span: Span,
    content: Option<Span>,
) -> Result<Node, LoadError> {
    let Some(tag) = tag else { return Ok(node) };
    // `!` alone is YAML's non-specific tag: the node stays what it is.
    let non_specific = (tag.handle == "!" && tag.suffix.is_empty())
        || (tag.handle.is_empty() && tag.suffix == "!");
    if tag.is_yaml_core_schema() || non_specific {
        return Ok(node);
    }
    let Some(key) = (tag.handle == "!")
        .then(|| intrinsic_key(&tag.suffix))
        .flatten()
    else {
        return Err(LoadError::at(span, format!("unknown tag `{tag}`"))
            .with_help("CloudFormation knows the short forms !Ref, !Sub, !GetAtt, !Join, !If, !Select, !Split, !FindInMap, !ImportValue, !Base64, !Cidr, !GetAZs, !Equals, !And, !Or, !Not, !Condition"));
    };
    let argument = match (key, node.value) {
        // `!GetAtt Resource.Attribute.Path` splits at the first dot, as CloudFormation does.
        ("Fn::GetAtt", Value::String(s)) => match s.split_once('.') {
            Some((res, attr)) => {
                // Without the text's own place, both parts point at the whole tagged scalar.
                let (res_span, attr_span) = match content {
                    Some(c) => {
                        let res_end = c.start as usize + res.len();
                        (
                            Span::new(c.start as usize, res_end),
                            Span::new(res_end + 1, c.end as usize),
                        )
                    }
                    None => (span, span),
                };
                Node::new(
                    span,
                    Value::Seq(vec![
                        Node::new(res_span, Value::String(res.into())),
                        Node::new(attr_span, Value::String(attr.into())),
                    ]),
                )
            }
            None => Node::new(span, Value::String(s)),
        },
        (_, value) => Node::new(node.span, value),
    };
    let key_span = Span::new(
        span.start as usize,
        span.start as usize + tag.suffix.len() + 1,
    );
    Ok(Node::new(
        span,
        Value::Map(Map::from_entries(vec![Entry {
            key: key.into(),
            key_span,
            value: argument,
        }])),
    ))
}

/// Resolves a scalar with the YAML 1.2 core schema, keeping leading-zero digits (account IDs) as strings.
fn scalar_value(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    span: Span,
) -> Result<Value, LoadError> {
    if let Some(tag) = tag.filter(|t| t.is_yaml_core_schema()) {
        return match tag.suffix.as_str() {
            "str" | "binary" | "timestamp" => Ok(Value::String(text.into())),
            "null" => Ok(Value::Null),
            _ => Ok(plain_value(text).unwrap_or_else(|| Value::String(text.into()))),
        };
    }
    if style != ScalarStyle::Plain || tag.is_some() {
        return Ok(Value::String(text.into()));
    }
    let _ = span;
    Ok(plain_value(text).unwrap_or_else(|| Value::String(text.into())))
}

fn plain_value(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Some(Value::Number(f64::INFINITY)),
        "-.inf" | "-.Inf" | "-.INF" => return Some(Value::Number(f64::NEG_INFINITY)),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return None;
    }
    let digits = text.trim_start_matches(['-', '+']);
    if digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.") {
        if let Some(hex) = digits.strip_prefix("0x") {
            return i64::from_str_radix(hex, 16)
                .ok()
                .map(|v| Value::Number(v as f64));
        }
        if let Some(oct) = digits.strip_prefix("0o") {
            return i64::from_str_radix(oct, 8)
                .ok()
                .map(|v| Value::Number(v as f64));
        }
        return None;
    }
    let numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    if !numeric || digits.len() > 15 {
        return None;
    }
    text.parse::<f64>().ok().map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two parts of `!GetAtt Res.Attr`, as their source text.
    fn parts(src: &str) -> Vec<String> {
        let root = parse(src, 0).expect("loads");
        let arg = (root.get("V").and_then(|v| v.get("Fn::GetAtt"))).expect("a GetAtt");
        let items = arg.as_seq().expect("split into [resource, attribute]");
        let text = |n: &Node| src[n.span.start as usize..n.span.end as usize].to_string();
        items.iter().map(text).collect()
    }

    #[test]
    fn short_form_get_att_parts_point_at_their_own_text() {
        assert_eq!(
            parts("V: !GetAtt Db.Endpoint.Address\n"),
            ["Db", "Endpoint.Address"]
        );
        assert_eq!(parts("V: !GetAtt 'Db.Arn'\n"), ["Db", "Arn"]);
        assert_eq!(parts("V: !GetAtt \"Db.Arn\"  # note\n"), ["Db", "Arn"]);
    }

    #[test]
    fn escaped_get_att_falls_back_to_the_whole_scalar() {
        assert_eq!(
            parts("V: !GetAtt \"Db.\\u0041rn\"\n"),
            ["!GetAtt \"Db.\\u0041rn\"", "!GetAtt \"Db.\\u0041rn\""]
        );
    }
}
