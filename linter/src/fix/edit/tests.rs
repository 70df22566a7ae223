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
fn yaml_insert_after_a_block_scalar_goes_after_its_last_line() {
    for (block, rest) in [
        ("UserData: |\n    #!/bin/bash\n    echo hi\n", ""),
        ("UserData: !Sub |\n    echo ${AWS::Region}\n", ""),
        ("UserData:\n    Fn::Base64: !Sub >\n      echo hi\n\n", ""),
        ("UserData: |\n    echo hi\n", "Next:\n  x: 1\n"),
    ] {
        let text = format!("Top:\n  {block}{rest}");
        let out = yaml(&text, set("/Top/Tokens", json!("required")));
        assert!(out.contains("\n  Tokens: required\n"), "{out}");
        assert!(out.ends_with(&format!("Tokens: required\n{rest}")), "{out}");
    }
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
