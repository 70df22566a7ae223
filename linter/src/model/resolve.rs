//! Static evaluation of values: what a property is when it can be known without deploying.
//!
//! Anything that depends on deploy-time input (a parameter without a default, a resource
//! attribute, an import) resolves to "unknown", which makes checks skip instead of guessing.

use std::borrow::Cow;

use crate::model::node::{Node, Value};
use crate::model::template::Template;

/// A resolved scalar (or an untouched block, for structural tests).
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar<'a> {
    /// null.
    Null,
    Bool(bool),
    Num(f64),
    /// A string, possibly assembled from `Fn::Sub`/`Fn::Join`.
    Str(Cow<'a, str>),
    /// A list or mapping that is not an intrinsic function.
    Block(&'a Node),
}

/// One piece of a string value.
#[derive(Clone, Debug, PartialEq)]
pub enum Part<'a> {
    /// Text written in the template.
    Lit(Cow<'a, str>),
    /// A `Ref`/`${}` to a parameter or pseudo parameter, by name.
    Param(&'a str),
    /// Something only known at deploy time (a resource attribute, an import, a condition).
    Unknown,
}

/// Pseudo parameters that are the same for every environment deployed to one account and region.
pub const ENV_INVARIANT_PSEUDO: [&str; 4] = [
    "AWS::AccountId",
    "AWS::Region",
    "AWS::Partition",
    "AWS::URLSuffix",
];

/// Resolves a node to a scalar, following parameter defaults; `None` when it is not knowable.
pub fn resolve<'a>(t: &'a Template, node: &'a Node) -> Option<Scalar<'a>> {
    match &node.value {
        Value::Null => Some(Scalar::Null),
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        Value::Number(n) => Some(Scalar::Num(*n)),
        Value::String(s) => Some(Scalar::Str(Cow::Borrowed(s))),
        Value::Seq(_) => Some(Scalar::Block(node)),
        Value::Map(_) => match node.intrinsic() {
            None => Some(Scalar::Block(node)),
            Some(("Ref", arg)) => {
                let default = t.parameter(arg.as_str()?)?.get("Default")?;
                match &default.value {
                    Value::Map(_) => None,
                    _ => resolve(t, default),
                }
            }
            Some(("Fn::Sub" | "Fn::Join", _)) => known_text(t, node).map(Scalar::Str),
            Some(_) => None,
        },
    }
}

/// The full text of a string value when every part of it is known.
pub fn known_text<'a>(t: &'a Template, node: &'a Node) -> Option<Cow<'a, str>> {
    let mut parts = Vec::new();
    text_parts(t, node, &mut parts);
    let mut out = String::new();
    for part in &parts {
        match part {
            Part::Lit(s) => out.push_str(s),
            Part::Param(name) => match parameter_default(t, name)? {
                Scalar::Str(s) => out.push_str(&s),
                Scalar::Num(n) => out.push_str(&Value::Number(n).to_string()),
                Scalar::Bool(b) => out.push_str(&b.to_string()),
                _ => return None,
            },
            Part::Unknown => return None,
        }
    }
    if let [Part::Lit(Cow::Borrowed(s))] = parts.as_slice() {
        return Some(Cow::Borrowed(s));
    }
    Some(Cow::Owned(out))
}

/// The default of a template parameter, resolved; `None` for pseudo parameters and no default.
pub fn parameter_default<'a>(t: &'a Template, name: &str) -> Option<Scalar<'a>> {
    let default = t.parameter(name)?.get("Default")?;
    match &default.value {
        Value::Map(_) | Value::Seq(_) => None,
        _ => resolve(t, default),
    }
}

/// Splits a string-valued node into literal text, parameter references and unknowns.
pub fn text_parts<'a>(t: &'a Template, node: &'a Node, out: &mut Vec<Part<'a>>) {
    match &node.value {
        Value::String(s) => out.push(Part::Lit(Cow::Borrowed(s))),
        Value::Number(_) | Value::Bool(_) => {
            out.push(Part::Lit(Cow::Owned(node.value.to_string())))
        }
        Value::Map(_) => match node.intrinsic() {
            Some(("Ref", arg)) => match arg.as_str() {
                Some(name) if t.resource(name).is_none() => out.push(Part::Param(name)),
                _ => out.push(Part::Unknown),
            },
            Some(("Fn::Sub", arg)) => sub_parts(t, arg, out),
            Some(("Fn::Join", arg)) => join_parts(t, arg, out),
            Some(("Fn::Base64", arg)) => text_parts(t, arg, out),
            _ => out.push(Part::Unknown),
        },
        Value::Null | Value::Seq(_) => out.push(Part::Unknown),
    }
}

fn join_parts<'a>(t: &'a Template, arg: &'a Node, out: &mut Vec<Part<'a>>) {
    let Some([delimiter, items]) = arg.as_seq().and_then(|s| <&[Node; 2]>::try_from(s).ok()) else {
        out.push(Part::Unknown);
        return;
    };
    let (Some(delimiter), Some(items)) = (delimiter.as_str(), items.as_seq()) else {
        out.push(Part::Unknown);
        return;
    };
    for (i, item) in items.iter().enumerate() {
        if i > 0 && !delimiter.is_empty() {
            out.push(Part::Lit(Cow::Borrowed(delimiter)));
        }
        text_parts(t, item, out);
    }
}

fn sub_parts<'a>(t: &'a Template, arg: &'a Node, out: &mut Vec<Part<'a>>) {
    let (text, vars) = match &arg.value {
        Value::String(s) => (&**s, None),
        Value::Seq(items) => match (items.first().and_then(Node::as_str), items.get(1)) {
            (Some(s), vars) => (s, vars),
            _ => {
                out.push(Part::Unknown);
                return;
            }
        },
        _ => {
            out.push(Part::Unknown);
            return;
        }
    };
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            out.push(Part::Lit(Cow::Borrowed(&rest[..start])));
        }
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push(Part::Lit(Cow::Borrowed(&rest[start..])));
            return;
        };
        let var = after[..end].trim();
        if let Some(literal) = var.strip_prefix('!') {
            out.push(Part::Lit(Cow::Owned(format!("${{{literal}}}"))));
        } else if let Some(value) = vars.and_then(|v| v.get(var)) {
            text_parts(t, value, out);
        } else if var.contains('.') || t.resource(var).is_some() {
            out.push(Part::Unknown);
        } else {
            out.push(Part::Param(var));
        }
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        out.push(Part::Lit(Cow::Borrowed(rest)));
    }
}
