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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layout(unit: &str, newline: &'static str) -> Layout {
        Layout {
            unit: unit.to_string(),
            newline,
        }
    }

    #[test]
    fn detect_takes_the_smallest_indentation_and_the_line_ending() {
        let l = Layout::detect("a:\n    b:\n        c: 1\n");
        assert_eq!((l.unit.as_str(), l.newline), ("    ", "\n"));
        let l = Layout::detect("{\r\n \"a\": [\r\n  1\r\n ]\r\n}\r\n");
        assert_eq!((l.unit.as_str(), l.newline), (" ", "\r\n"));
        // Nothing indented yet: two spaces.
        let l = Layout::detect(r#"{"a": 1}"#);
        assert_eq!((l.unit.as_str(), l.newline), ("  ", "\n"));
    }

    #[test]
    fn json_scalars_and_empty_collections_stay_on_one_line() {
        let l = layout("  ", "\n");
        assert_eq!(json(&json!("a\"b"), "", &l), r#""a\"b""#);
        assert_eq!(json(&json!(1.5), "", &l), "1.5");
        assert_eq!(json(&json!(null), "", &l), "null");
        assert_eq!(json(&json!({}), "  ", &l), "{}");
        assert_eq!(json(&json!([]), "  ", &l), "[]");
    }

    #[test]
    fn json_nests_from_the_given_indent_without_trailing_commas() {
        let l = layout("  ", "\n");
        assert_eq!(
            json(&json!({"a": [1, {"b": true}], "c": "d"}), "  ", &l),
            "{\n    \"a\": [\n      1,\n      {\n        \"b\": true\n      }\n    ],\n    \"c\": \"d\"\n  }"
        );
    }

    #[test]
    fn json_uses_the_files_unit_and_line_ending() {
        let l = layout(" ", "\r\n");
        assert_eq!(
            json(&json!({"a": [1, 2]}), "", &l),
            "{\r\n \"a\": [\r\n  1,\r\n  2\r\n ]\r\n}"
        );
    }

    #[test]
    fn yaml_keys_are_plain_unless_they_would_read_otherwise() {
        assert_eq!(yaml_key("BucketName"), "BucketName");
        assert_eq!(yaml_key("aws:SourceArn"), "aws:SourceArn");
        assert_eq!(yaml_key("/path/to"), "/path/to");
        assert_eq!(yaml_key("true"), "\"true\"");
        assert_eq!(yaml_key("No"), "\"No\"");
        assert_eq!(yaml_key("10"), "\"10\"");
        assert_eq!(yaml_key(""), "\"\"");
        assert_eq!(yaml_key("a: b"), "\"a: b\"");
        assert_eq!(yaml_key("key:"), "\"key:\"");
        assert_eq!(yaml_key("-x"), "\"-x\"");
        assert_eq!(yaml_key("two words"), "\"two words\"");
    }

    #[test]
    fn yaml_inline_scalars() {
        assert_eq!(yaml_inline(&json!("plain")), "plain");
        assert_eq!(yaml_inline(&json!("yes")), "\"yes\"");
        assert_eq!(yaml_inline(&json!("1.5")), "\"1.5\"");
        assert_eq!(yaml_inline(&json!("~")), "\"~\"");
        assert_eq!(
            yaml_inline(&json!("arn:aws:s3:::b/*")),
            "\"arn:aws:s3:::b/*\""
        );
        assert_eq!(yaml_inline(&json!(30)), "30");
        assert_eq!(yaml_inline(&json!(false)), "false");
        assert_eq!(yaml_inline(&json!(null)), "null");
    }

    #[test]
    fn yaml_inline_intrinsics_take_the_short_form() {
        assert_eq!(yaml_inline(&json!({"Ref": "Bucket"})), "!Ref Bucket");
        assert_eq!(
            yaml_inline(&json!({"Condition": "IsProd"})),
            "!Condition IsProd"
        );
        assert_eq!(
            yaml_inline(&json!({"Fn::GetAtt": ["Role", "Arn"]})),
            "!GetAtt Role.Arn"
        );
        assert_eq!(
            yaml_inline(&json!({"Fn::GetAtt": ["A", "B", "C"]})),
            "!GetAtt [A, B, C]"
        );
        assert_eq!(
            yaml_inline(&json!({"Fn::Sub": "${Name}-x"})),
            "!Sub \"${Name}-x\""
        );
        assert_eq!(
            yaml_inline(&json!({"Fn::Join": ["-", ["a", {"Ref": "B"}]]})),
            "!Join [\"-\", [a, !Ref B]]"
        );
    }

    #[test]
    fn yaml_inline_collections_are_flow_style() {
        assert_eq!(
            yaml_inline(&json!({"a": 1, "b": "x y"})),
            "{a: 1, b: \"x y\"}"
        );
        assert_eq!(yaml_inline(&json!({"Key": "v"})), "{Key: v}");
        assert_eq!(yaml_inline(&json!({})), "{}");
        assert_eq!(yaml_inline(&json!([])), "[]");
        assert_eq!(yaml_inline(&json!([1, [2, 3]])), "[1, [2, 3]]");
    }

    #[test]
    fn yaml_after_key_keeps_short_values_on_the_keys_line() {
        let l = layout("  ", "\n");
        assert_eq!(yaml_after_key(&json!(5), "  ", &l), " 5");
        assert_eq!(yaml_after_key(&json!({}), "  ", &l), " {}");
        assert_eq!(yaml_after_key(&json!([]), "  ", &l), " []");
        assert_eq!(yaml_after_key(&json!({"Ref": "X"}), "  ", &l), " !Ref X");
    }

    #[test]
    fn yaml_after_key_puts_collections_on_indented_lines() {
        let l = layout("  ", "\n");
        assert_eq!(
            yaml_after_key(&json!({"A": {"B": 1}, "C": [1, 2]}), "", &l),
            "\n  A:\n    B: 1\n  C:\n    - 1\n    - 2"
        );
        let l = layout("    ", "\r\n");
        assert_eq!(
            yaml_after_key(&json!({"A": 1, "B": 2}), "    ", &l),
            "\r\n        A: 1\r\n        B: 2"
        );
    }

    #[test]
    fn yaml_block_of_a_list_of_mappings() {
        let l = layout("  ", "\n");
        assert_eq!(
            yaml_block(&json!([{"Key": "a", "Value": 1}, "b"]), "  ", &l),
            "  - Key: a\n    Value: 1\n  - b"
        );
        assert_eq!(yaml_block(&json!(5), "  ", &l), "  5");
    }

    #[test]
    fn yaml_item_puts_a_mappings_first_key_on_the_dash_line() {
        let l = layout("  ", "\n");
        assert_eq!(
            yaml_item(&json!({"A": 1, "B": {"C": 2}}), "  ", &l),
            "A: 1\n    B:\n      C: 2"
        );
        assert_eq!(yaml_item(&json!([1, 2]), "  ", &l), "[1, 2]");
        assert_eq!(yaml_item(&json!({"Ref": "X"}), "  ", &l), "!Ref X");
        assert_eq!(yaml_item(&json!("s"), "  ", &l), "s");
    }
}
