//! The span-carrying value tree every template and rule file is loaded into.

use std::fmt;

/// A byte range in the source text; every node and key keeps one so findings point at the exact place.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// Inclusive start byte offset.
    pub start: u32,
    /// Exclusive end byte offset.
    pub end: u32,
}

impl Span {
    /// Builds a span from byte offsets, saturating instead of panicking on oversized inputs.
    pub fn new(start: usize, end: usize) -> Self {
        let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Span {
            start: clamp(start),
            end: clamp(end.max(start)),
        }
    }

    /// The span as a `usize` range, for slicing the source.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One node of a loaded document: a value plus where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where the value was written (for YAML short-form tags, the tagged node).
    pub span: Span,
    /// The value itself, with short-form intrinsics already normalised to the long form.
    pub value: Value,
}

/// The JSON data model: YAML is reduced to it on load.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`, `~` or an empty YAML value.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number; CloudFormation never needs more precision than f64 gives.
    Number(f64),
    /// A string.
    String(Box<str>),
    /// A list.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Map),
}

/// A mapping that keeps source order and key spans (templates are small per map, so a Vec is fastest).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map {
    /// The entries in source order; keys are unique (duplicates are rejected on load).
    pub entries: Vec<Entry>,
}

/// One `key: value` pair of a mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key text.
    pub key: Box<str>,
    /// Where the key was written: findings on a whole block underline its key.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

impl Map {
    /// Looks a key up by exact name.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Looks an entry (key span included) up by exact name.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| &*e.key == key)
    }

    /// The only entry, when the map has exactly one (the shape of every intrinsic function).
    pub fn single(&self) -> Option<&Entry> {
        match self.entries.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }
}

impl Node {
    /// Builds a node.
    pub fn new(span: Span, value: Value) -> Self {
        Node { span, value }
    }

    /// The mapping inside, if this node is one.
    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The list inside, if this node is one.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The string inside, if this node is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Looks up a key when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// The intrinsic function this node is (`Ref`, `Fn::Sub`, `Condition`...), with its argument.
    pub fn intrinsic(&self) -> Option<(&str, &Node)> {
        let entry = self.as_map()?.single()?;
        let name = &*entry.key;
        (name == "Ref" || name == "Condition" || name.starts_with("Fn::"))
            .then_some((name, &entry.value))
    }

    /// Whether the node is a scalar (underlined itself) rather than a block (underlined at its key).
    pub fn is_scalar(&self) -> bool {
        !matches!(self.value, Value::Seq(_) | Value::Map(_))
    }

    /// Converts to `serde_json::Value` so rule files can be deserialised with serde.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => J::String(s.to_string()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(m) => J::Object(
                m.entries
                    .iter()
                    .map(|e| (e.key.to_string(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}

fn number_to_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

impl fmt::Display for Value {
    /// Renders a value the way a message should quote it (scalars plain, blocks abbreviated).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{}", number_to_json(*n)),
            Value::String(s) => f.write_str(s),
            Value::Seq(_) => f.write_str("[...]"),
            Value::Map(_) => f.write_str("{...}"),
        }
    }
}
