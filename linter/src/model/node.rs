//! The span-carrying value tree every template and rule file is loaded into.

use std::collections::HashMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

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
    Bool(bool),
    /// A number; CloudFormation never needs more precision than f64 gives.
    Number(f64),
    String(Box<str>),
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Map),
}

/// A mapping that keeps source order and key spans.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map {
    /// The entries in source order; keys are unique (duplicates are rejected on load).
    pub entries: Entries,
}

/// One `key: value` pair of a mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Box<str>,
    /// Where the key was written: findings on a whole block underline its key.
    pub key_span: Span,
    pub value: Node,
}

/// Mappings up to this size are searched by scanning their keys: that is as fast as hashing one
/// key, needs no memory, and nearly every mapping of a real template (properties, tags, policy
/// statements, a top level) is smaller. Past it, lookups use a hash index, so a template with
/// 200,000 resources or a 40,000-key mapping costs linear time instead of quadratic.
pub const SMALL_MAP: usize = 32;

/// The entries of a mapping, in source order, plus a key index once the mapping is large.
///
/// It reads like a `Vec<Entry>` (through `Deref` to a slice, `push`, `retain`, `collect`), so code
/// that builds or edits mappings needs no change. The index is built on the first lookup of a
/// large mapping and kept up to date by `push`, so it can never disagree with the entries:
/// anything that could change a key (`retain`, mutable access to the entries) drops it, and the
/// mapping goes back to scanning for good. Code that edits in place (fix/tree.rs) alternates
/// lookups with such edits, and rebuilding after each would cost far more than the scans;
/// [`Map::get_mut`] changes a value and keeps the index.
#[derive(Default)]
pub struct Entries {
    list: Vec<Entry>,
    /// `Some` once there are more than [`SMALL_MAP`] entries, unless dropped. Boxed so that small mappings, and
    /// so every `Node`, stay as small as a plain `Vec` makes them (the tree's memory is mostly
    /// nodes); a `OnceLock` so that a lookup through `&self` can build it.
    index: Option<Box<OnceLock<KeyIndex>>>,
}

/// Key to the position of its first entry.
type KeyIndex = HashMap<Box<str>, usize>;

impl Entries {
    /// No entries (usable in a `static`).
    pub const fn new() -> Self {
        Entries {
            list: Vec::new(),
            index: None,
        }
    }

    /// The entries as a slice.
    pub fn as_slice(&self) -> &[Entry] {
        &self.list
    }

    /// Appends an entry, keeping the index (when built) current so that a loader checking each
    /// new key for a duplicate stays linear.
    pub fn push(&mut self, entry: Entry) {
        if let Some(index) = self.index.as_deref_mut().and_then(OnceLock::get_mut) {
            index.entry(entry.key.clone()).or_insert(self.list.len());
        }
        self.list.push(entry);
        // Only on growing past the threshold: a mapping whose index was dropped stays without.
        if self.list.len() == SMALL_MAP + 1 && self.index.is_none() {
            self.index = Some(Box::default());
        }
    }

    /// Keeps the entries `keep` accepts; positions move, so the index is dropped.
    pub fn retain(&mut self, keep: impl FnMut(&Entry) -> bool) {
        self.forget_index();
        self.list.retain(keep);
    }

    /// The position of the first entry with this key.
    pub fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(cell) if self.list.len() > SMALL_MAP => {
                cell.get_or_init(|| index_of(&self.list)).get(key).copied()
            }
            _ => self.list.iter().position(|e| &*e.key == key),
        }
    }

    fn forget_index(&mut self) {
        self.index = None;
    }
}

fn index_of(list: &[Entry]) -> KeyIndex {
    let mut index = KeyIndex::with_capacity(list.len());
    for (i, e) in list.iter().enumerate() {
        index.entry(e.key.clone()).or_insert(i);
    }
    index
}

impl From<Vec<Entry>> for Entries {
    fn from(list: Vec<Entry>) -> Self {
        let index = (list.len() > SMALL_MAP).then(Box::default);
        Entries { list, index }
    }
}

impl FromIterator<Entry> for Entries {
    fn from_iter<I: IntoIterator<Item = Entry>>(iter: I) -> Self {
        Vec::from_iter(iter).into()
    }
}

/// A copy starts without an index (built again if the copy is ever searched): YAML aliases copy
/// anchored mappings, and most copies are never searched.
impl Clone for Entries {
    fn clone(&self) -> Self {
        self.list.clone().into()
    }
}

impl PartialEq for Entries {
    fn eq(&self, other: &Self) -> bool {
        self.list == other.list
    }
}

impl fmt::Debug for Entries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.list.fmt(f)
    }
}

impl Deref for Entries {
    type Target = [Entry];

    fn deref(&self) -> &[Entry] {
        &self.list
    }
}

/// Mutable access could rename a key, so it drops the index (lookups scan from then on); to
/// change a value in a large mapping and keep the index, use [`Map::get_mut`].
impl DerefMut for Entries {
    fn deref_mut(&mut self) -> &mut [Entry] {
        self.forget_index();
        &mut self.list
    }
}

impl<'a> IntoIterator for &'a Entries {
    type Item = &'a Entry;
    type IntoIter = std::slice::Iter<'a, Entry>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl<'a> IntoIterator for &'a mut Entries {
    type Item = &'a mut Entry;
    type IntoIter = std::slice::IterMut<'a, Entry>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl Map {
    /// A mapping of these entries, in this order.
    pub fn from_entries(entries: Vec<Entry>) -> Self {
        Map {
            entries: entries.into(),
        }
    }

    /// Looks a key up by exact name.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Looks an entry (key span included) up by exact name.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.position(key).map(|i| &self.entries.list[i])
    }

    /// The value of a key, to change in place: keys stay as they are, so the index is kept.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        let i = self.entries.position(key)?;
        Some(&mut self.entries.list[i].value)
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
