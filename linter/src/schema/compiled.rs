//! A resource schema compiled into an arena of nodes: `$ref`s become indices (recursive
//! definitions such as WAF statements are cycles of indices, not infinite trees), and the
//! keywords the validator reads become typed fields, so validation never looks at JSON again.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value as Json};

/// An index into [`Schema::nodes`].
pub type NodeId = usize;

/// A compiled resource schema; node 0 is the resource's `Properties` object.
#[derive(Debug, Default)]
pub struct Schema {
    pub nodes: Vec<SchemaNode>,
    /// `readOnlyProperties`, as property names from `Properties` down.
    pub read_only: Vec<Vec<String>>,
    /// `createOnlyProperties`, as property names from `Properties` down: changing one of
    /// these replaces the resource (a new physical resource, the old one deleted).
    pub create_only: Vec<Vec<String>>,
    /// What `Fn::GetAtt` may read, dotted (`Endpoint.Address`); empty when the schema lists no
    /// read-only properties (then nothing is known about its attributes).
    pub attributes: Vec<Box<str>>,
}

/// Types whose attributes are open-ended under a prefix: a nested stack's (or provisioned
/// product's) `Outputs.<Name>` are whatever the other template outputs.
const OPEN_ATTRIBUTES: [(&str, &str); 2] = [
    ("AWS::CloudFormation::Stack", "Outputs."),
    (
        "AWS::ServiceCatalog::CloudFormationProvisionedProduct",
        "Outputs.",
    ),
];

impl Schema {
    /// Whether `Fn::GetAtt` can read `attribute` of a resource of this schema's type; `None`
    /// when the schema does not say.
    ///
    /// An attribute is a read-only property, a member of one (`Endpoint.Address` when only
    /// `Endpoint` is listed), or a top-level property: the registry lets older types return
    /// some written properties too (`QueueName`, a subnet's `AvailabilityZone`), and with no
    /// list of which, accepting every property keeps the check free of false errors.
    /// Whether writing the property at `path` (names below `Properties`) replaces the
    /// resource: it is, or lies inside, a create-only property.
    pub fn replaces(&self, path: &[String]) -> bool {
        self.create_only
            .iter()
            .any(|c| !c.is_empty() && path.starts_with(c))
    }

    pub fn has_attribute(&self, kind: &str, attribute: &str) -> Option<bool> {
        if (OPEN_ATTRIBUTES.iter()).any(|(k, prefix)| *k == kind && attribute.starts_with(prefix)) {
            return Some(true);
        }
        if self.attributes.is_empty() {
            return None;
        }
        let listed = self.attributes.iter().any(|a| {
            attribute == &**a
                || (attribute.strip_prefix(&**a)).is_some_and(|rest| rest.starts_with('.'))
        });
        let property = self.nodes.first().is_some_and(|root| {
            let first = attribute.split('.').next().unwrap_or(attribute);
            root.property(first).is_some()
        });
        Some(listed || property)
    }
}

/// The JSON types a schema admits (a bit per type).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TypeSet(pub u8);

impl TypeSet {
    pub const STRING: u8 = 1;
    pub const NUMBER: u8 = 2;
    pub const INTEGER: u8 = 4;
    pub const BOOLEAN: u8 = 8;
    pub const ARRAY: u8 = 16;
    pub const OBJECT: u8 = 32;
    pub const NULL: u8 = 64;
    const NAMES: [(u8, &'static str); 7] = [
        (Self::STRING, "string"),
        (Self::NUMBER, "number"),
        (Self::INTEGER, "integer"),
        (Self::BOOLEAN, "boolean"),
        (Self::ARRAY, "array"),
        (Self::OBJECT, "object"),
        (Self::NULL, "null"),
    ];

    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    /// The type names, for messages (`string or number`).
    pub fn describe(self) -> String {
        let names: Vec<&str> = (Self::NAMES.iter())
            .filter(|(bit, _)| self.has(*bit))
            .map(|(_, n)| *n)
            .collect();
        names.join(" or ")
    }

    fn parse(json: &Json) -> Option<TypeSet> {
        let bit = |name: &str| {
            Self::NAMES
                .iter()
                .find(|(_, n)| *n == name)
                .map(|(b, _)| *b)
        };
        match json {
            Json::String(s) => bit(s).map(TypeSet),
            Json::Array(list) => {
                let bits = list.iter().filter_map(Json::as_str).filter_map(bit);
                Some(TypeSet(bits.fold(0, |a, b| a | b))).filter(|t| t.0 != 0)
            }
            _ => None,
        }
    }
}

/// What an object accepts besides its declared properties.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Additional {
    /// Anything (the default, and `additionalProperties: true`).
    #[default]
    Any,
    /// Nothing: an undeclared key is an unknown property.
    Forbidden,
    /// Values must match this schema.
    Schema(NodeId),
}

/// A `format` the validator checks: a CIDR block, the value of a security group rule's
/// `CidrIp` or a subnet's `CidrBlock`, where a parameter's name written without `!Ref` is a
/// common slip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Ipv4Network,
    Ipv6Network,
}

impl Format {
    fn parse(name: &str) -> Option<Format> {
        match name {
            "ipv4-network" => Some(Format::Ipv4Network),
            "ipv6-network" => Some(Format::Ipv6Network),
            _ => None,
        }
    }

    /// Whether the text is such a network: an address with an optional prefix length (host bits
    /// may be set; AWS normalises them). Surrounding whitespace is not trimmed: AWS rejects it.
    pub fn accepts(self, text: &str) -> bool {
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let (parsed, max) = match self {
            Format::Ipv4Network => (address.parse::<std::net::Ipv4Addr>().is_ok(), 32),
            Format::Ipv6Network => (address.parse::<std::net::Ipv6Addr>().is_ok(), 128),
        };
        let prefix_ok = prefix.is_none_or(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| n <= max)
        });
        parsed && prefix_ok
    }

    pub fn describe(self) -> &'static str {
        match self {
            Format::Ipv4Network => "an IPv4 CIDR block (such as 10.0.0.0/16)",
            Format::Ipv6Network => "an IPv6 CIDR block (such as 2001:db8::/56)",
        }
    }
}

/// A regular expression compiled on first use: most patterns of a schema are never needed.
#[derive(Debug)]
pub struct Pattern {
    pub source: Box<str>,
    regex: OnceLock<Option<Regex>>,
}

impl Pattern {
    fn new(source: &str) -> Self {
        Pattern {
            source: source.into(),
            regex: OnceLock::new(),
        }
    }

    /// The compiled regex; `None` when the Rust engine cannot compile it (then nothing is
    /// checked against it).
    pub fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| Regex::new(&self.source).ok())
            .as_ref()
    }
}

/// One schema node, with the keywords the validator reads.
#[derive(Debug, Default)]
pub struct SchemaNode {
    pub types: Option<TypeSet>,
    /// A `$ref` (applied together with the node's own keywords).
    pub reference: Option<NodeId>,
    pub properties: Vec<(Box<str>, NodeId)>,
    pub pattern_properties: Vec<(Pattern, NodeId)>,
    pub additional: Additional,
    pub required: Vec<Box<str>>,
    pub enumeration: Option<Vec<Json>>,
    pub enum_case_insensitive: bool,
    pub pattern: Option<Pattern>,
    pub format: Option<Format>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: Option<f64>,
    pub exclusive_maximum: Option<f64>,
    pub items: Option<NodeId>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub all_of: Vec<NodeId>,
    pub any_of: Vec<NodeId>,
    pub one_of: Vec<NodeId>,
    /// `dependentRequired` and draft-4 `dependencies` with a list: key → keys it needs.
    pub dependent_required: Vec<(Box<str>, Vec<Box<str>>)>,
    /// `dependentExcluded`: key → keys it forbids.
    pub dependent_excluded: Vec<(Box<str>, Vec<Box<str>>)>,
    /// `requiredXor`: exactly one of these.
    pub required_xor: Vec<Box<str>>,
    /// `requiredOr`: at least one of these.
    pub required_or: Vec<Box<str>>,
}

impl SchemaNode {
    /// The declared property schema for a key.
    pub fn property(&self, key: &str) -> Option<NodeId> {
        (self.properties.iter())
            .find(|(k, _)| &**k == key)
            .map(|(_, id)| *id)
    }

    /// An object whose shape the schema does not describe (a policy document, a tag map).
    pub fn free_form(&self) -> bool {
        self.properties.is_empty()
            && self.pattern_properties.is_empty()
            && self.additional != Additional::Forbidden
            && self.reference.is_none()
    }
}

struct Compiler<'a> {
    root: &'a Json,
    nodes: Vec<SchemaNode>,
    refs: HashMap<&'a str, NodeId>,
}

impl Schema {
    /// Parses and compiles one embedded schema; `None` if the data is malformed.
    pub fn parse(json: &str) -> Option<Schema> {
        let root: Json = serde_json::from_str(json).ok()?;
        let mut c = Compiler {
            root: &root,
            nodes: Vec::new(),
            refs: HashMap::new(),
        };
        c.node(&root);
        let listed = (root.get("readOnlyProperties").and_then(Json::as_array))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let create_only = (root.get("createOnlyProperties").and_then(Json::as_array))
            .map(|list| list.iter().filter_map(property_path).collect())
            .unwrap_or_default();
        Some(Schema {
            nodes: c.nodes,
            create_only,
            read_only: listed.iter().filter_map(property_path).collect(),
            attributes: listed.iter().filter_map(attribute_name).collect(),
        })
    }
}

/// `/properties/Endpoint/properties/Address` as `Endpoint.Address`; a path through a list
/// (`/properties/Volumes/*/Status`) names the list, which is what `Fn::GetAtt` returns.
fn attribute_name(pointer: &Json) -> Option<Box<str>> {
    let rest = pointer.as_str()?.strip_prefix("/properties/")?;
    let segs: Vec<&str> = (rest.split('/'))
        .filter(|s| *s != "properties")
        .take_while(|s| *s != "*")
        .collect();
    (!segs.is_empty()).then(|| segs.join(".").into())
}

/// `/properties/Endpoint/Address` as `[Endpoint, Address]` (for read-only and create-only
/// lists); paths through lists (`*`) are left out, since which element they mean is not a
/// template path.
fn property_path(pointer: &Json) -> Option<Vec<String>> {
    let rest = pointer.as_str()?.strip_prefix("/properties/")?;
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| *s != "properties")
        .map(str::to_string)
        .collect();
    (!segs.iter().any(|s| s == "*")).then_some(segs)
}

fn strings(json: Option<&Json>) -> Vec<Box<str>> {
    (json.and_then(Json::as_array).into_iter().flatten())
        .filter_map(Json::as_str)
        .map(Into::into)
        .collect()
}

fn string_lists(json: Option<&Json>) -> Vec<(Box<str>, Vec<Box<str>>)> {
    (json.and_then(Json::as_object).into_iter().flatten())
        .filter(|(_, v)| v.is_array())
        .map(|(k, v)| (k.as_str().into(), strings(Some(v))))
        .collect()
}

impl<'a> Compiler<'a> {
    /// Compiles a schema object into a new node and returns its index.
    fn node(&mut self, json: &'a Json) -> NodeId {
        let id = self.nodes.len();
        self.nodes.push(SchemaNode::default());
        let Some(map) = json.as_object() else {
            return id;
        };
        let node = SchemaNode {
            types: map.get("type").and_then(TypeSet::parse),
            reference: (map.get("$ref").and_then(Json::as_str)).and_then(|r| self.reference(r)),
            properties: self.named(map.get("properties")),
            pattern_properties: (self.named(map.get("patternProperties")).into_iter())
                .map(|(k, v)| (Pattern::new(&k), v))
                .collect(),
            additional: match map.get("additionalProperties") {
                Some(Json::Bool(false)) => Additional::Forbidden,
                Some(s @ Json::Object(_)) => Additional::Schema(self.node(s)),
                _ => Additional::Any,
            },
            required: strings(map.get("required")),
            enumeration: map.get("enum").and_then(Json::as_array).cloned(),
            enum_case_insensitive: map.get("enumCaseInsensitive") == Some(&Json::Bool(true)),
            pattern: (map.get("pattern").and_then(Json::as_str)).map(Pattern::new),
            format: (map.get("format").and_then(Json::as_str)).and_then(Format::parse),
            items: map
                .get("items")
                .filter(|i| i.is_object())
                .map(|i| self.node(i)),
            all_of: self.list(map.get("allOf")),
            any_of: self.list(map.get("anyOf")),
            one_of: self.list(map.get("oneOf")),
            required_xor: strings(map.get("requiredXor")),
            required_or: strings(map.get("requiredOr")),
            ..bounds(map)
        };
        self.nodes[id] = node;
        id
    }

    fn named(&mut self, json: Option<&'a Json>) -> Vec<(Box<str>, NodeId)> {
        let Some(map) = json.and_then(Json::as_object) else {
            return Vec::new();
        };
        map.iter()
            .map(|(k, v)| (k.as_str().into(), self.node(v)))
            .collect()
    }

    fn list(&mut self, json: Option<&'a Json>) -> Vec<NodeId> {
        (json.and_then(Json::as_array).into_iter().flatten())
            .map(|s| self.node(s))
            .collect()
    }

    /// A `#/...` reference, compiled once however often (and however recursively) it is used.
    fn reference(&mut self, target: &'a str) -> Option<NodeId> {
        if let Some(id) = self.refs.get(target) {
            return Some(*id);
        }
        let pointer = target.strip_prefix('#')?;
        let json = self.root.pointer(pointer)?;
        // Reserve the slot first: a definition that refers to itself finds it.
        let id = self.nodes.len();
        self.refs.insert(target, id);
        let compiled = self.node(json);
        debug_assert_eq!(compiled, id);
        Some(id)
    }
}

/// The numeric keywords and the dependency lists, which need no recursion.
fn bounds(map: &Map<String, Json>) -> SchemaNode {
    let uint = |k: &str| map.get(k).and_then(Json::as_u64);
    let num = |k: &str| map.get(k).and_then(Json::as_f64);
    let mut dependent_required = string_lists(map.get("dependentRequired"));
    dependent_required.extend(string_lists(map.get("dependencies")));
    SchemaNode {
        min_length: uint("minLength"),
        max_length: uint("maxLength"),
        minimum: num("minimum"),
        maximum: num("maximum"),
        exclusive_minimum: num("exclusiveMinimum"),
        exclusive_maximum: num("exclusiveMaximum"),
        min_items: uint("minItems"),
        max_items: uint("maxItems"),
        dependent_required,
        dependent_excluded: string_lists(map.get("dependentExcluded")),
        ..SchemaNode::default()
    }
}
