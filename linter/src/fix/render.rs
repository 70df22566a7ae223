//! Rendering values in the file's own syntax: JSON with the file's indentation, YAML in block
//! style with CloudFormation's short-form tags.

use serde_json::Value as Json;

/// How the file is laid out.
#[derive(Clone, Debug)]
pub struct Layout {
    /// One level of indentation (CDK's JSON uses one space).
    pub unit: String,
    /// `\n` or `\r\n`.
    pub newline: &'static str,
}

impl Layout {
    /// Detects indentation and line endings from the source.
    pub fn detect(src: &str) -> Layout {
        let newline = if src.contains("\r\n") { "\r\n" } else { "\n" };
        let unit = src
            .lines()
            .map(|l| l.len() - l.trim_start_matches(' ').len())
            .filter(|&n| n > 0)
            .min()
            .unwrap_or(2);
        Layout {
            unit: " ".repeat(unit),
            newline,
        }
    }
}

/// A JSON value, multi-line objects/arrays indented from `indent`.
pub fn json(v: &Json, indent: &str, layout: &Layout) -> String {
    match v {
        Json::Object(m) if !m.is_empty() => {
            let inner = format!("{indent}{}", layout.unit);
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{inner}{}: {}",
                        Json::String(k.clone()),
                        json(v, &inner, layout)
                    )
                })
                .collect();
            format!(
                "{{{nl}{}{nl}{indent}}}",
                items.join(&format!(",{}", layout.newline)),
                nl = layout.newline
            )
        }
        Json::Array(a) if !a.is_empty() => {
            let inner = format!("{indent}{}", layout.unit);
            let items: Vec<String> = a
                .iter()
                .map(|v| format!("{inner}{}", json(v, &inner, layout)))
                .collect();
            format!(
                "[{nl}{}{nl}{indent}]",
                items.join(&format!(",{}", layout.newline)),
                nl = layout.newline
            )
        }
        other => other.to_string(),
    }
}

/// A YAML key: plain when that is unambiguous, else double-quoted.
pub fn yaml_key(k: &str) -> String {
    if plain_ok(k) {
        k.to_string()
    } else {
        Json::String(k.to_string()).to_string()
    }
}

fn plain_ok(s: &str) -> bool {
    let reserved = matches!(
        s.to_ascii_lowercase().as_str(),
        "" | "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
    );
    let first_ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '/');
    let numeric = s.parse::<f64>().is_ok();
    !reserved
        && !numeric
        && first_ok
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || "_-./@".contains(c) || (c == ':' && !s.contains(": "))
        })
        && !s.ends_with(':')
}

/// The short-form tag for an intrinsic-function key.
fn short_tag(key: &str) -> Option<&str> {
    match key {
        "Ref" | "Condition" => Some(key),
        _ => key.strip_prefix("Fn::").filter(|k| !k.contains("::")),
    }
}

/// A YAML value that fits on the current line (scalars, short-form intrinsics, flow collections).
pub fn yaml_inline(v: &Json) -> String {
    match v {
        Json::String(s) if plain_ok(s) => s.clone(),
        Json::String(s) => Json::String(s.clone()).to_string(),
        Json::Object(m) if m.len() == 1 => {
            let (k, arg) = m
                .iter()
                .next()
                .map(|(k, v)| (k.as_str(), v))
                .unwrap_or(("", &Json::Null));
            match (short_tag(k), arg) {
                (Some("GetAtt"), Json::Array(parts))
                    if parts.len() == 2 && parts.iter().all(Json::is_string) =>
                {
                    format!(
                        "!GetAtt {}.{}",
                        parts[0].as_str().unwrap_or_default(),
                        parts[1].as_str().unwrap_or_default()
                    )
                }
                (Some(tag), arg) => format!("!{tag} {}", yaml_inline(arg)),
                (None, _) => flow_map(m),
            }
        }
        Json::Object(m) => flow_map(m),
        Json::Array(items) => format!(
            "[{}]",
            items.iter().map(yaml_inline).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

fn flow_map(m: &serde_json::Map<String, Json>) -> String {
    let items: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{}: {}", yaml_key(k), yaml_inline(v)))
        .collect();
    format!("{{{}}}", items.join(", "))
}

fn is_inline(v: &Json) -> bool {
    match v {
        Json::Object(m) => {
            m.is_empty()
                || (m.len() == 1 && m.keys().next().is_some_and(|k| short_tag(k).is_some()))
        }
        Json::Array(a) => a.is_empty(),
        _ => true,
    }
}

/// The text after `key:` for a value in block context whose key sits at `indent`.
pub fn yaml_after_key(v: &Json, indent: &str, layout: &Layout) -> String {
    if is_inline(v) {
        return format!(" {}", yaml_inline(v));
    }
    let inner = format!("{indent}{}", layout.unit);
    format!("{}{}", layout.newline, yaml_block(v, &inner, layout))
}

/// A block collection whose lines start at `indent` (no leading newline, no trailing newline).
pub fn yaml_block(v: &Json, indent: &str, layout: &Layout) -> String {
    match v {
        Json::Object(m) if !is_inline(v) => m
            .iter()
            .map(|(k, v)| {
                format!(
                    "{indent}{}:{}",
                    yaml_key(k),
                    yaml_after_key(v, indent, layout)
                )
            })
            .collect::<Vec<_>>()
            .join(layout.newline),
        Json::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| format!("{indent}- {}", yaml_item(item, indent, layout)))
            .collect::<Vec<_>>()
            .join(layout.newline),
        other => format!("{indent}{}", yaml_inline(other)),
    }
}

/// A list item after its `- `: a mapping's first entry shares the dash's line.
pub fn yaml_item(v: &Json, dash_indent: &str, layout: &Layout) -> String {
    match v {
        Json::Object(m) if !is_inline(v) => {
            let inner = format!("{dash_indent}  ");
            m.iter()
                .enumerate()
                .map(|(i, (k, v))| {
                    let lead = if i == 0 { String::new() } else { inner.clone() };
                    format!(
                        "{lead}{}:{}",
                        yaml_key(k),
                        yaml_after_key(v, &inner, layout)
                    )
                })
                .collect::<Vec<_>>()
                .join(layout.newline)
        }
        Json::Array(_) if !is_inline(v) => yaml_inline(v),
        other => yaml_inline(other),
    }
}
