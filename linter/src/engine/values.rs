//! Value helpers shared by the tests: coercing comparisons, display, suffix detection, relations.

use std::borrow::Cow;

use serde_json::Value as Json;

use crate::model::node::{Node, Value};
use crate::model::resolve::{self, ENV_INVARIANT_PSEUDO, Part, Scalar};
use crate::model::template::Template;
use crate::rules::check::{TypeGlob, any_glob};

/// How a value reads in a message: resolved when known, else the intrinsic's name.
pub fn display(t: &Template, node: &Node) -> String {
    match resolve::resolve(t, node) {
        Some(Scalar::Block(_)) | None => match node.intrinsic() {
            // A Sub's template string says more than its name (`${AWS::AccountId}-logs`).
            Some(("Fn::Sub", arg)) if arg.as_str().is_some() => {
                arg.as_str().unwrap_or_default().to_string()
            }
            Some(("Ref", arg)) if arg.as_str().is_some() => {
                format!("Ref {}", arg.as_str().unwrap_or_default())
            }
            Some((name, _)) => format!("{{{name}: ...}}"),
            None => node.value.to_string(),
        },
        Some(s) => text(&s),
    }
}

/// A scalar as text, the way CloudFormation would stringify it.
pub fn text(s: &Scalar<'_>) -> String {
    match s {
        Scalar::Null => String::new(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Num(n) => Value::Number(*n).to_string(),
        Scalar::Str(s) => s.to_string(),
        Scalar::Block(b) => b.value.to_string(),
    }
}

/// A scalar as a number, accepting numeric strings as CloudFormation does.
pub fn number(s: &Scalar<'_>) -> Option<f64> {
    match s {
        Scalar::Num(n) => Some(*n),
        Scalar::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Equality with CloudFormation's coercions (`"true"` is true, `"5"` is 5).
pub fn equals(s: &Scalar<'_>, v: &Json) -> bool {
    match (s, v) {
        (Scalar::Null, Json::Null) => true,
        (Scalar::Bool(a), Json::Bool(b)) => a == b,
        (Scalar::Str(a), Json::Bool(b)) => {
            a.eq_ignore_ascii_case(if *b { "true" } else { "false" })
        }
        (Scalar::Num(_) | Scalar::Str(_), Json::Number(b)) => {
            number(s).zip(b.as_f64()).is_some_and(|(a, b)| a == b)
        }
        (Scalar::Str(a), Json::String(b)) => a == b,
        (Scalar::Num(_) | Scalar::Bool(_), Json::String(b)) => text(s) == *b,
        (Scalar::Block(node), other) => node.to_json() == *other,
        _ => false,
    }
}

/// List membership or substring; `None` when an unknown element could be the one.
pub fn contains(t: &Template, node: &Node, v: &Json) -> Option<bool> {
    match resolve::resolve(t, node)? {
        Scalar::Block(block) => {
            let items = block.as_seq()?;
            let mut unknown = false;
            for item in items {
                match resolve::resolve(t, item) {
                    Some(s) if equals(&s, v) => return Some(true),
                    Some(_) => {}
                    None => unknown = true,
                }
            }
            (!unknown).then_some(false)
        }
        Scalar::Str(s) => Some(v.as_str().is_some_and(|needle| s.contains(needle))),
        _ => Some(false),
    }
}

/// Whether a name carries the environment suffix: `Some(true)` yes, `Some(false)` no, `None` cannot tell.
pub fn mentions_suffix(
    t: &Template,
    node: &Node,
    parameter: &str,
    literal: Option<&str>,
) -> Option<bool> {
    let mut parts = Vec::new();
    resolve::text_parts(t, node, &mut parts);
    let mut text = String::new();
    let mut unknown = false;
    for part in &parts {
        match part {
            Part::Param(name) if name.eq_ignore_ascii_case(parameter) => return Some(true),
            Part::Param(name) if ENV_INVARIANT_PSEUDO.contains(name) => {}
            Part::Param(name) => match resolve::parameter_default(t, name) {
                Some(s @ (Scalar::Str(_) | Scalar::Num(_))) => text.push_str(&self::text(&s)),
                _ => unknown = true,
            },
            Part::Lit(s) => text.push_str(s),
            Part::Unknown => unknown = true,
        }
    }
    if literal.is_some_and(|suffix| text.contains(suffix)) {
        return Some(true);
    }
    if unknown { None } else { Some(false) }
}

/// The literal text of a string value for scanning (code, regions): known pieces joined, unknown
/// pieces left out (a line break each); `None` for values that are not strings at all.
pub fn scannable_text<'t>(t: &Template, node: &'t Node) -> Option<Cow<'t, str>> {
    match &node.value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        _ => joined_text(t, node, '\n').map(Cow::Owned),
    }
}

/// Whether the literal pieces of a `Fn::Sub`/`Fn::Join`/`Fn::Base64` text whose value is not
/// known hold a match of `re` that lies wholly inside one piece: whatever the unknown pieces
/// turn out to be, the deployed text contains that match. An unknown piece becomes a NUL and a
/// match that spans one is refused; anchors and word boundaries see the NUL as a non-word
/// character that is not the end, so `^`/`$` only match where the text truly starts or ends.
pub fn known_match(t: &Template, node: &Node, re: &regex::Regex) -> bool {
    joined_text(t, node, '\0')
        .is_some_and(|text| re.find_iter(&text).any(|m| !m.as_str().contains('\0')))
}

/// The pieces of a `Fn::Sub`/`Fn::Join`/`Fn::Base64` text joined, parameter defaults filled in,
/// `unknown` for each piece known only at deploy time; `None` for any other node.
fn joined_text(t: &Template, node: &Node, unknown: char) -> Option<String> {
    if !matches!(
        node.intrinsic(),
        Some(("Fn::Sub" | "Fn::Join" | "Fn::Base64", _))
    ) {
        return None;
    }
    let mut parts = Vec::new();
    resolve::text_parts(t, node, &mut parts);
    let mut out = String::new();
    for part in &parts {
        match part {
            Part::Lit(s) => out.push_str(s),
            Part::Param(name) => match resolve::parameter_default(t, name) {
                Some(s @ (Scalar::Str(_) | Scalar::Num(_))) => out.push_str(&text(&s)),
                _ => out.push(unknown),
            },
            Part::Unknown => out.push(unknown),
        }
    }
    Some(out)
}

/// Moved to the model, which indexes resources by physical name; re-exported for the engine.
pub use crate::model::template::name_property;

/// Resources of the given types that a subtree references, by Ref/GetAtt/Sub or by literal name/ARN.
pub fn related(t: &Template, node: &Node, types: &[TypeGlob], out: &mut Vec<usize>) {
    let mut found = Vec::new();
    t.references(node, &mut found);
    out.extend(
        found
            .into_iter()
            .filter(|&i| any_glob(types, &t.items[i].kind)),
    );
    let literals: Vec<&str> = match &node.value {
        Value::String(s) => vec![s],
        Value::Seq(items) => items.iter().filter_map(Node::as_str).collect(),
        _ => Vec::new(),
    };
    for literal in literals {
        // A literal names a resource when it is the name, or ends with it after a `:` or `/` (an
        // ARN or a path): look each such tail up instead of comparing against every resource.
        let tails = std::iter::once(0).chain(
            literal
                .bytes()
                .enumerate()
                .filter(|(_, b)| matches!(b, b':' | b'/'))
                .map(|(i, _)| i + 1),
        );
        let mut named: Vec<usize> = tails
            .flat_map(|start| t.named(&literal[start..]))
            .copied()
            .filter(|&item| any_glob(types, &t.items[item].kind))
            .collect();
        // In source order and once each, as a pass over the resources would find them.
        named.sort_unstable();
        named.dedup();
        out.extend(named);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{self, Syntax};

    /// `known_match` on the `Value` of the only resource's properties.
    fn known(value: &str, pattern: &str) -> bool {
        let text = format!(
            "Parameters:\n  Free: {{Type: String}}\n  Named: {{Type: String, Default: eu}}\n\
             Resources:\n  R:\n    Type: T\n    Properties:\n      Value: {value}\n"
        );
        let root = load::parse(text.as_bytes(), Syntax::Yaml).expect("the test template parses");
        let t = Template::new(root).expect("it is a template");
        let node = t.node(0).get("Properties").and_then(|p| p.get("Value"));
        let re = regex::Regex::new(pattern).expect("the test pattern compiles");
        node.is_some_and(|n| known_match(&t, n, &re))
    }

    #[test]
    fn a_match_counts_only_inside_the_literal_pieces_of_a_text() {
        let arn = r#"!Join ["", ["arn:", !Ref AWS::Partition, ":iam::aws:policy/Admin"]]"#;
        assert!(known(arn, ":iam::aws:policy/Admin$"));
        // The unknown piece could be anything: no match may span it, or stand at its end.
        assert!(!known(arn, "arn:.*:iam"));
        assert!(!known(r#"!Sub "${Free}-west""#, "^eu-west"));
        assert!(!known(r#"!Sub "policy/Admin${Free}""#, "Admin$"));
        // A parameter default is known text.
        assert!(known(r#"!Sub "${Named}-west""#, "^eu-west$"));
        // A plain string is not this function's business: `matches` reads it directly.
        assert!(!known("plain", "plain"));
    }
}
