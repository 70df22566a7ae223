//! Every name a resource or output refers to, as written: `Ref`, `Fn::GetAtt`, `Fn::Sub`
//! variables, `DependsOn`, `Condition` and `Fn::If` condition names, `Fn::FindInMap` map names.
//! Unlike [`Template::references`](super::template::Template::references), which keeps only the
//! references that resolve to a resource, this keeps every name with the node it is written at,
//! so a rule can ask whether it names anything.

use super::node::{Node, Value};
use super::pointer;
use super::template::sub_variables;

/// How a name is referred to; a rule selects the kinds it checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    /// `Ref: X`: a resource, parameter or pseudo parameter.
    Ref,
    /// `Fn::GetAtt: [X, Attr]` or `X.Attr`: a resource.
    GetAtt,
    /// `${X}` or `${X.Attr}` in `Fn::Sub`: a resource, parameter, pseudo parameter or variable.
    Sub,
    /// A `DependsOn` entry: a resource.
    DependsOn,
    /// A resource's or output's `Condition`, or the first argument of `Fn::If`: a condition.
    Condition,
    /// The first argument of `Fn::FindInMap`: a mapping.
    FindInMap,
}

impl RefKind {
    /// Every kind, for rules that check them all.
    pub const ALL: [RefKind; 6] = [
        RefKind::Ref,
        RefKind::GetAtt,
        RefKind::Sub,
        RefKind::DependsOn,
        RefKind::Condition,
        RefKind::FindInMap,
    ];

    /// The name rule files use (`ref`, `getatt`, `sub`, `depends_on`, `condition`, `find_in_map`).
    pub fn from_name(name: &str) -> Option<RefKind> {
        RefKind::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            RefKind::Ref => "ref",
            RefKind::GetAtt => "getatt",
            RefKind::Sub => "sub",
            RefKind::DependsOn => "depends_on",
            RefKind::Condition => "condition",
            RefKind::FindInMap => "find_in_map",
        }
    }

    /// How the template spells it, for messages.
    pub fn spelling(self) -> &'static str {
        match self {
            RefKind::Ref => "Ref",
            RefKind::GetAtt => "Fn::GetAtt",
            RefKind::Sub => "Fn::Sub",
            RefKind::DependsOn => "DependsOn",
            RefKind::Condition => "Condition",
            RefKind::FindInMap => "Fn::FindInMap",
        }
    }
}

/// One step of the path from the item to a reference: kept borrowed while walking, encoded as a
/// JSON pointer only for the few references a rule reports.
#[derive(Clone, Copy, Debug)]
pub enum Seg<'t> {
    Key(&'t str),
    Index(usize),
}

/// The JSON pointer (relative to the item) of a path of segments.
pub fn encode(path: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => pointer::push(&mut out, k),
            Seg::Index(i) => pointer::push_index(&mut out, *i),
        }
    }
    out
}

/// One name referred to.
#[derive(Clone, Copy, Debug)]
pub struct Reference<'t> {
    pub kind: RefKind,
    /// The logical name (for `GetAtt` and `Sub`, the part before the first `.`).
    pub name: &'t str,
    /// The attribute of a `GetAtt` or `${X.Attr}`, if any.
    pub attribute: Option<&'t str>,
    /// The attribute's own node, when it has one (`[X, Attr]` and YAML's `!GetAtt X.Attr`): it
    /// sits at index 1 beside the name.
    pub attribute_node: Option<&'t Node>,
    /// Where it is written: the string node holding it (for `Fn::Sub`, the whole text).
    pub node: &'t Node,
    /// How the template writes it (`Condition` or `Fn::If` for a condition), for messages.
    pub written: &'static str,
    /// For `Fn::Sub` variables: the names its own variable map defines, which shadow the
    /// template's.
    pub shadowed: bool,
}

/// Calls `f` with every reference under an item's node (a resource's or output's mapping), with
/// the path to it from the item ([`encode`] makes it a pointer). `Metadata` is skipped except
/// `AWS::CloudFormation::Init`, the one part of it CloudFormation resolves.
pub fn each_reference<'t>(item: &'t Node, f: &mut dyn FnMut(Reference<'t>, &[Seg<'t>])) {
    let Some(map) = item.as_map() else { return };
    let mut path = Vec::new();
    for e in &map.entries {
        path.clear();
        path.push(Seg::Key(&e.key));
        match &*e.key {
            "DependsOn" => depends_on(&e.value, &mut path, f),
            "Condition" => {
                if let Some(name) = e.value.as_str() {
                    f(reference(RefKind::Condition, name, &e.value), &path);
                }
            }
            "Metadata" => {
                if let Some(init) = e.value.get("AWS::CloudFormation::Init") {
                    path.push(Seg::Key("AWS::CloudFormation::Init"));
                    walk(init, &mut path, f);
                }
            }
            _ => walk(&e.value, &mut path, f),
        }
    }
}

/// Calls `f` with every reference inside an expression that is not an item (a condition's
/// or a rule's body), with the path to it from that node.
pub fn each_reference_in<'t>(node: &'t Node, f: &mut dyn FnMut(Reference<'t>, &[Seg<'t>])) {
    walk(node, &mut Vec::new(), f);
}

fn reference<'t>(kind: RefKind, name: &'t str, node: &'t Node) -> Reference<'t> {
    Reference {
        kind,
        name,
        attribute: None,
        attribute_node: None,
        node,
        written: kind.spelling(),
        shadowed: false,
    }
}

fn depends_on<'t>(
    value: &'t Node,
    path: &mut Vec<Seg<'t>>,
    f: &mut dyn FnMut(Reference<'t>, &[Seg<'t>]),
) {
    match &value.value {
        Value::String(name) => f(reference(RefKind::DependsOn, name, value), path),
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(name) = item.as_str() {
                    path.push(Seg::Index(i));
                    f(reference(RefKind::DependsOn, name, item), path);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}

fn walk<'t>(node: &'t Node, path: &mut Vec<Seg<'t>>, f: &mut dyn FnMut(Reference<'t>, &[Seg<'t>])) {
    match &node.value {
        Value::Map(m) => {
            // An intrinsic is a one-key mapping; anything else is data whose keys are not
            // function names (a policy's `Condition` block is not a condition reference).
            let intrinsic = m.entries.len() == 1;
            for e in &m.entries {
                path.push(Seg::Key(&e.key));
                match (intrinsic, &*e.key) {
                    (true, "Ref") => match e.value.as_str() {
                        Some(name) => f(reference(RefKind::Ref, name, &e.value), path),
                        None => walk(&e.value, path, f),
                    },
                    (true, "Fn::GetAtt") => get_att(&e.value, path, f),
                    (true, "Fn::Sub") => sub(&e.value, path, f),
                    (true, "Fn::If") => if_(&e.value, path, f),
                    (true, "Fn::FindInMap") => find_in_map(&e.value, path, f),
                    _ => walk(&e.value, path, f),
                }
                path.pop();
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                walk(item, path, f);
                path.pop();
            }
        }
        _ => {}
    }
}

fn get_att<'t>(
    arg: &'t Node,
    path: &mut Vec<Seg<'t>>,
    f: &mut dyn FnMut(Reference<'t>, &[Seg<'t>]),
) {
    let (name, attribute, at) = match &arg.value {
        Value::String(s) => match s.split_once('.') {
            Some((name, attr)) => (name, Some(attr), arg),
            None => (&**s, None, arg),
        },
        Value::Seq(parts) => match parts.first() {
            Some(
                first @ Node {
                    value: Value::String(name),
                    ..
                },
            ) => {
                // The attribute may itself be computed (`!Ref AttrName`): walk it.
                if let Some(rest) = parts.get(1) {
                    path.push(Seg::Index(1));
                    walk(rest, path, f);
                    path.pop();
                }
                path.push(Seg::Index(0));
                let attribute_node = parts.get(1).filter(|n| n.as_str().is_some());
                let r = Reference {
                    attribute: attribute_node.and_then(Node::as_str),
                    attribute_node,
                    ..reference(RefKind::GetAtt, name, first)
                };
                f(r, path);
                path.pop();
                return;
            }
            _ => return walk(arg, path, f),
        },
        _ => return walk(arg, path, f),
    };
    f(
        Reference {
            attribute,
            ..reference(RefKind::GetAtt, name, at)
        },
        path,
    );
}

fn sub<'t>(arg: &'t Node, path: &mut Vec<Seg<'t>>, f: &mut dyn FnMut(Reference<'t>, &[Seg<'t>])) {
    let (text_node, vars) = match &arg.value {
        Value::String(_) => (arg, None),
        Value::Seq(parts) => match parts.first() {
            Some(
                t @ Node {
                    value: Value::String(_),
                    ..
                },
            ) => (t, parts.get(1)),
            _ => return walk(arg, path, f),
        },
        _ => return walk(arg, path, f),
    };
    let Some(text) = text_node.as_str() else {
        return;
    };
    if vars.is_some() {
        path.push(Seg::Index(0));
    }
    for var in sub_variables(text) {
        let (name, attribute) = match var.split_once('.') {
            Some((n, a)) => (n, Some(a)),
            None => (var, None),
        };
        let shadowed = vars.and_then(|v| v.get(name)).is_some();
        let r = Reference {
            attribute,
            shadowed,
            ..reference(RefKind::Sub, name, text_node)
        };
        f(r, path);
    }
    if let Some(v) = vars {
        path.pop();
        path.push(Seg::Index(1));
        walk(v, path, f);
        path.pop();
    }
}

fn if_<'t>(arg: &'t Node, path: &mut Vec<Seg<'t>>, f: &mut dyn FnMut(Reference<'t>, &[Seg<'t>])) {
    let Value::Seq(parts) = &arg.value else {
        return walk(arg, path, f);
    };
    for (i, part) in parts.iter().enumerate() {
        path.push(Seg::Index(i));
        match (i, part.as_str()) {
            (0, Some(name)) => {
                let r = Reference {
                    written: "Fn::If",
                    ..reference(RefKind::Condition, name, part)
                };
                f(r, path)
            }
            _ => walk(part, path, f),
        }
        path.pop();
    }
}

fn find_in_map<'t>(
    arg: &'t Node,
    path: &mut Vec<Seg<'t>>,
    f: &mut dyn FnMut(Reference<'t>, &[Seg<'t>]),
) {
    let Value::Seq(parts) = &arg.value else {
        return walk(arg, path, f);
    };
    for (i, part) in parts.iter().enumerate() {
        path.push(Seg::Index(i));
        match (i, part.as_str()) {
            (0, Some(name)) => f(reference(RefKind::FindInMap, name, part), path),
            _ => walk(part, path, f),
        }
        path.pop();
    }
}

/// Calls `f` with every string under an item that writes `${` outside an `Fn::Sub` template,
/// with the path to it: what a forgotten `Fn::Sub` leaves behind. `Metadata` is skipped
/// (cfn-init files and other tools' settings have `${...}` of their own), and so is the input
/// of `Fn::Transform` (a macro's to interpret).
pub fn each_plain_template<'t>(item: &'t Node, f: &mut dyn FnMut(&'t Node, &[Seg<'t>])) {
    let Some(map) = item.as_map() else { return };
    let mut path = Vec::new();
    for e in map.entries.iter().filter(|e| &*e.key != "Metadata") {
        path.push(Seg::Key(&e.key));
        plain(&e.value, &mut path, f);
        path.pop();
    }
}

fn plain<'t>(node: &'t Node, path: &mut Vec<Seg<'t>>, f: &mut dyn FnMut(&'t Node, &[Seg<'t>])) {
    match &node.value {
        Value::String(s) if s.contains("${") => f(node, path),
        Value::Map(m) if m.entries.len() == 1 && &*m.entries[0].key == "Fn::Transform" => {}
        Value::Map(m) if m.entries.len() == 1 && &*m.entries[0].key == "Fn::Sub" => {
            // The template is substituted; the variable map's values are not.
            if let Some(vars) = m.entries[0].value.as_seq().and_then(|p| p.get(1)) {
                path.extend([Seg::Key("Fn::Sub"), Seg::Index(1)]);
                plain(vars, path, f);
                path.truncate(path.len() - 2);
            }
        }
        Value::Map(m) => {
            for e in &m.entries {
                path.push(Seg::Key(&e.key));
                plain(&e.value, path, f);
                path.pop();
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                plain(item, path, f);
                path.pop();
            }
        }
        _ => {}
    }
}
