//! The conflict logic on tiny sources, in the manner of ruff's `apply_fixes` tests: which
//! edits may share a round, which fix wins a clash, and what the text becomes.

use super::*;
use crate::model::node::{Node, Span};
use crate::rules::Settings;
use crate::rules::plan::FixPlan;
use serde_json::json;

/// A replacement of `start..end`.
fn rep(start: usize, end: usize) -> TextEdit {
    TextEdit::new(start, end, "r")
}

/// An insertion into the list or mapping `container` that creates no key (an append).
fn ins(at: usize, container: &str) -> TextEdit {
    TextEdit {
        container: Some(vec![container.to_string()]),
        ..TextEdit::new(at, at, "i")
    }
}

/// An insertion of the new key `key` into the mapping `container`.
fn ins_key(at: usize, container: &str, key: &str) -> TextEdit {
    TextEdit {
        creates: Some(vec![container.to_string(), key.to_string()]),
        ..ins(at, container)
    }
}

/// `clash` must not depend on which edit comes first.
fn assert_clash(a: &TextEdit, b: &TextEdit, expected: bool) {
    assert_eq!(clash(a, b), expected, "clash({a:?}, {b:?})");
    assert_eq!(clash(b, a), expected, "clash({b:?}, {a:?})");
}

#[test]
fn disjoint_replacements_do_not_clash() {
    assert_clash(&rep(0, 2), &rep(5, 7), false);
}

#[test]
fn adjacent_replacements_do_not_clash() {
    assert_clash(&rep(0, 3), &rep(3, 5), false);
}

#[test]
fn overlapping_replacements_clash() {
    assert_clash(&rep(0, 4), &rep(3, 6), true);
    // One byte of overlap is enough.
    assert_clash(&rep(0, 4), &rep(3, 4), true);
}

#[test]
fn nested_and_identical_replacements_clash() {
    assert_clash(&rep(0, 10), &rep(2, 4), true);
    assert_clash(&rep(0, 10), &rep(0, 10), true);
    assert_clash(&rep(2, 5), &rep(2, 5), true);
}

#[test]
fn an_insertion_on_either_edge_of_a_replacement_clashes() {
    let r = rep(3, 6);
    assert_clash(&ins(3, "m"), &r, true);
    assert_clash(&ins(6, "m"), &r, true);
    assert_clash(&ins(4, "m"), &r, true);
    assert_clash(&ins(2, "m"), &r, false);
    assert_clash(&ins(7, "m"), &r, false);
}

#[test]
fn edits_at_offset_zero_and_at_the_end_of_the_text() {
    // A ten-byte text: 0 and 10 are its ends.
    assert_clash(&ins(0, "m"), &rep(0, 4), true);
    assert_clash(&ins(10, "m"), &rep(6, 10), true);
    assert_clash(&ins(0, "m"), &rep(6, 10), false);
    assert_clash(&rep(0, 5), &rep(5, 10), false);
    assert_clash(&ins_key(0, "m", "a"), &ins_key(10, "m", "a"), false);
}

#[test]
fn insertions_at_one_point_into_one_container_share_a_round() {
    assert_clash(&ins_key(5, "m", "a"), &ins_key(5, "m", "b"), false);
    assert_clash(&ins(5, "list"), &ins(5, "list"), false);
    assert_clash(&ins(5, "m"), &ins_key(5, "m", "a"), false);
}

#[test]
fn insertions_at_one_point_that_create_the_same_key_clash() {
    assert_clash(&ins_key(5, "m", "a"), &ins_key(5, "m", "a"), true);
}

#[test]
fn insertions_at_one_point_into_different_or_unknown_containers_clash() {
    assert_clash(&ins(5, "inner"), &ins(5, "outer"), true);
    let unknown = TextEdit::new(5, 5, "i");
    assert_clash(&unknown, &unknown.clone(), true);
    assert_clash(&unknown, &ins(5, "m"), true);
}

#[test]
fn insertions_at_different_points_never_clash() {
    assert_clash(&ins_key(4, "m", "a"), &ins_key(5, "m", "a"), false);
    assert_clash(&ins(4, "inner"), &ins(5, "outer"), false);
}

/// A finding named `name` whose fix is titled `name` (no operations: these tests give the
/// edits directly).
fn finding(name: &str) -> RawFinding {
    RawFinding {
        rule: 0,
        resource: name.to_string(),
        pointer: String::new(),
        span: Span::default(),
        message: String::new(),
        cdk_path: None,
        fix: None,
        plan: Some(FixPlan {
            applicability: Applicability::Safe,
            title: format!("fix {name}"),
            cdk: None,
            ops: Vec::new(),
        }),
        severity: None,
    }
}

fn yaml(text: &str) -> Node {
    load::parse(text.as_bytes(), Syntax::Yaml).expect("the test source parses")
}

fn candidate(finding: &RawFinding, edits: Vec<TextEdit>) -> Candidate<'_> {
    Candidate::new(finding, edits)
}

fn names(cs: &[Candidate<'_>]) -> Vec<String> {
    cs.iter().map(|c| c.finding.resource.clone()).collect()
}

/// The text after applying what `select` kept, as `apply_checked` would.
fn applied(text: &str, kept: &[Candidate<'_>]) -> String {
    let mut edits: Vec<&TextEdit> = kept.iter().flat_map(|c| c.edits.iter()).collect();
    apply(text, &mut edits)
}

const BUCKET: &str = "\
Resources:
  B:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: x
";

/// The edits of operations on `BUCKET`, rendered as the fixer does.
fn rendered(src: &Source<'_>, ops: &[(&str, serde_json::Value)]) -> Vec<TextEdit> {
    ops.iter()
        .map(|(pointer, v)| Op {
            pointer: crate::model::pointer::split(pointer),
            kind: crate::rules::plan::OpKind::Set(v.clone()),
        })
        .map(|op| {
            edit::render(src, &op)
                .expect("the operation renders")
                .expect("the operation changes something")
        })
        .collect()
}

#[test]
fn select_keeps_fixes_that_do_not_clash_in_source_order() {
    let root = yaml(BUCKET);
    let src = Source::new(BUCKET, &root, Syntax::Yaml);
    let (a, b, c) = (finding("a"), finding("b"), finding("c"));
    let kept = select(
        vec![
            candidate(&c, vec![rep(20, 22)]),
            candidate(&a, vec![rep(0, 2)]),
            candidate(&b, vec![rep(2, 4)]),
        ],
        &src,
    );
    assert_eq!(names(&kept), ["a", "b", "c"]);
}

#[test]
fn in_a_clash_the_fix_that_starts_first_in_the_source_wins() {
    let root = yaml(BUCKET);
    let src = Source::new(BUCKET, &root, Syntax::Yaml);
    let (late, early) = (finding("late"), finding("early"));
    let kept = select(
        vec![
            candidate(&late, vec![rep(5, 9)]),
            candidate(&early, vec![rep(2, 6)]),
        ],
        &src,
    );
    assert_eq!(names(&kept), ["early"]);
}

#[test]
fn in_a_clash_at_the_same_start_the_earlier_candidate_wins() {
    let root = yaml(BUCKET);
    let src = Source::new(BUCKET, &root, Syntax::Yaml);
    let (first, second) = (finding("first"), finding("second"));
    let kept = select(
        vec![
            candidate(&first, vec![rep(2, 4)]),
            candidate(&second, vec![rep(2, 8)]),
        ],
        &src,
    );
    assert_eq!(names(&kept), ["first"]);
}

#[test]
fn a_fix_is_kept_whole_or_not_at_all() {
    let root = yaml(BUCKET);
    let src = Source::new(BUCKET, &root, Syntax::Yaml);
    let (host, two) = (finding("host"), finding("two"));
    // `two`'s second edit clashes; its first, disjoint one must not be applied alone.
    let kept = select(
        vec![
            candidate(&host, vec![rep(10, 12)]),
            candidate(&two, vec![rep(20, 22), rep(11, 11)]),
        ],
        &src,
    );
    assert_eq!(names(&kept), ["host"]);
    assert_eq!(kept[0].edits, [rep(10, 12)]);
}

#[test]
fn a_fix_sorts_by_its_first_edit_in_the_source() {
    let root = yaml(BUCKET);
    let src = Source::new(BUCKET, &root, Syntax::Yaml);
    let (spread, middle) = (finding("spread"), finding("middle"));
    // `spread` starts at 1: it goes first and so wins over `middle`, whose edit sits
    // on the edge of `spread`'s second one.
    let kept = select(
        vec![
            candidate(&middle, vec![ins(12, "m")]),
            candidate(&spread, vec![rep(30, 31), rep(1, 2), rep(10, 12)]),
        ],
        &src,
    );
    assert_eq!(names(&kept), ["spread"]);
}

#[test]
fn two_new_keys_at_one_point_go_in_together_in_candidate_order() {
    let root = yaml(BUCKET);
    let src = Source::new(BUCKET, &root, Syntax::Yaml);
    let (second, first) = (finding("second"), finding("first"));
    let candidates = vec![
        candidate(
            &first,
            rendered(&src, &[("/Resources/B/Properties/One", json!(1))]),
        ),
        candidate(
            &second,
            rendered(&src, &[("/Resources/B/Properties/Two", json!("two"))]),
        ),
    ];
    let kept = select(candidates, &src);
    assert_eq!(names(&kept), ["first", "second"]);
    assert_eq!(
        applied(BUCKET, &kept),
        "\
Resources:
  B:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: x
      One: 1
      Two: two
"
    );
}

#[test]
fn two_fixes_creating_the_same_key_are_merged_into_one_insertion() {
    let root = yaml(BUCKET);
    let src = Source::new(BUCKET, &root, Syntax::Yaml);
    let (a, c) = (finding("a"), finding("c"));
    let candidates = vec![
        candidate(
            &a,
            rendered(&src, &[("/Resources/B/Properties/Encryption/A", json!(1))]),
        ),
        candidate(
            &c,
            rendered(&src, &[("/Resources/B/Properties/Encryption/C", json!(2))]),
        ),
    ];
    let kept = select(candidates, &src);
    // Both count as applied; the second's text now lives in the first's insertion.
    assert_eq!(names(&kept), ["a", "c"]);
    assert!(kept[1].edits.is_empty());
    assert_eq!(kept[0].edits[0].inserted, Some(json!({"A": 1, "C": 2})));
    assert_eq!(
        applied(BUCKET, &kept),
        "\
Resources:
  B:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: x
      Encryption:
        A: 1
        C: 2
"
    );
}

#[test]
fn three_fixes_creating_the_same_key_all_merge_into_the_first() {
    let root = yaml(BUCKET);
    let src = Source::new(BUCKET, &root, Syntax::Yaml);
    let (a, b, c) = (finding("a"), finding("b"), finding("c"));
    let candidates = vec![
        candidate(
            &a,
            rendered(&src, &[("/Resources/B/Properties/Tags/A", json!("x"))]),
        ),
        candidate(
            &b,
            rendered(&src, &[("/Resources/B/Properties/Tags/B", json!("y"))]),
        ),
        // The same value as `a` under the same key: nothing disagrees.
        candidate(
            &c,
            rendered(&src, &[("/Resources/B/Properties/Tags/A", json!("x"))]),
        ),
    ];
    let kept = select(candidates, &src);
    assert_eq!(names(&kept), ["a", "b", "c"]);
    assert_eq!(
        applied(BUCKET, &kept),
        "\
Resources:
  B:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: x
      Tags:
        A: x
        B: y
"
    );
}

#[test]
fn fixes_that_disagree_under_the_same_new_key_wait_for_the_next_round() {
    let root = yaml(BUCKET);
    let src = Source::new(BUCKET, &root, Syntax::Yaml);
    let (one, two) = (finding("one"), finding("two"));
    let candidates = vec![
        candidate(
            &one,
            rendered(&src, &[("/Resources/B/Properties/Encryption/A", json!(1))]),
        ),
        candidate(
            &two,
            rendered(&src, &[("/Resources/B/Properties/Encryption/A", json!(2))]),
        ),
    ];
    let kept = select(candidates, &src);
    assert_eq!(names(&kept), ["one"]);
    assert_eq!(kept[0].edits[0].inserted, Some(json!({"A": 1})));
}

#[test]
fn a_fix_with_an_edit_that_cannot_merge_is_not_absorbed() {
    let root = yaml(BUCKET);
    let src = Source::new(BUCKET, &root, Syntax::Yaml);
    let (host, mixed) = (finding("host"), finding("mixed"));
    let mut edits = rendered(&src, &[("/Resources/B/Properties/Encryption/C", json!(2))]);
    // A plain replacement of the bucket's name: it creates no key, so it cannot merge.
    let name = BUCKET.find("x\n").expect("the name is there");
    edits.push(TextEdit::new(name, name + 1, "y"));
    // The host also edits the first byte, so it comes first in source order.
    let mut host_edits = rendered(&src, &[("/Resources/B/Properties/Encryption/A", json!(1))]);
    host_edits.push(TextEdit::new(0, 1, "R"));
    let candidates = vec![candidate(&mixed, edits), candidate(&host, host_edits)];
    let kept = select(candidates, &src);
    assert_eq!(names(&kept), ["host"]);
}

#[test]
fn insertions_into_different_containers_at_one_point_wait_for_the_next_round() {
    // The end of `Tags` is also the end of `Properties`.
    let text = "\
Resources:
  B:
    Type: T
    Properties:
      Tags:
        Key: x
";
    let root = yaml(text);
    let src = Source::new(text, &root, Syntax::Yaml);
    let (outer, inner) = (finding("outer"), finding("inner"));
    let candidates = vec![
        candidate(
            &outer,
            rendered(&src, &[("/Resources/B/Properties/Name", json!("n"))]),
        ),
        candidate(
            &inner,
            rendered(&src, &[("/Resources/B/Properties/Tags/Value", json!("v"))]),
        ),
    ];
    assert_eq!(candidates[0].edits[0].start, candidates[1].edits[0].start);
    let kept = select(candidates, &src);
    assert_eq!(names(&kept), ["outer"]);
    assert_eq!(
        applied(text, &kept),
        "\
Resources:
  B:
    Type: T
    Properties:
      Tags:
        Key: x
      Name: n
"
    );
}

#[test]
fn apply_works_back_to_front_and_keeps_insertions_in_candidate_order() {
    let text = "abcdef";
    let (start, mid, end) = (
        TextEdit::new(0, 0, "<"),
        TextEdit::new(2, 4, "CD"),
        TextEdit::new(6, 6, ">"),
    );
    let (one, two) = (TextEdit::new(4, 4, "1"), TextEdit::new(4, 4, "2"));
    let mut edits = vec![&end, &one, &mid, &two, &start];
    assert_eq!(apply(text, &mut edits), "<abCD12ef>");
    let mut swapped = vec![&two, &one];
    assert_eq!(apply(text, &mut swapped), "abcd21ef");
}

#[test]
fn apply_of_adjacent_replacements_and_a_deletion() {
    let text = "abcdef";
    let (a, b, gone) = (
        TextEdit::new(0, 2, "AB"),
        TextEdit::new(2, 3, "C"),
        TextEdit::new(3, 6, ""),
    );
    let mut edits = vec![&gone, &a, &b];
    assert_eq!(apply(text, &mut edits), "ABC");
}

const DOC: &str = r#"{"Resources": {"A": {"Type": "T"}}}"#;

fn rules() -> RuleSet {
    RuleSet::builtin(&Settings::default()).expect("the built-in pack loads")
}

#[test]
fn apply_checked_keeps_every_fix_when_the_result_parses() {
    let (a, b) = (finding("a"), finding("b"));
    // After `"T"` (byte 32) and after the `A` mapping (byte 33).
    let accepted = vec![
        candidate(&a, vec![TextEdit::new(32, 32, r#", "X": 1"#)]),
        candidate(&b, vec![TextEdit::new(33, 33, r#", "B": {"Type": "U"}"#)]),
    ];
    let mut dropped = Vec::new();
    let (text, parsed, kept) = apply_checked(DOC, Syntax::Json, accepted, &rules(), &mut dropped);
    assert_eq!(
        text,
        r#"{"Resources": {"A": {"Type": "T", "X": 1}, "B": {"Type": "U"}}}"#
    );
    let parsed = parsed.expect("the tree of the text comes back with it");
    assert_eq!(parsed.items.len(), 2);
    assert_eq!(names(&kept), ["a", "b"]);
    assert!(dropped.is_empty(), "{dropped:?}");
}

#[test]
fn apply_checked_drops_the_fixes_that_break_the_file_and_says_so() {
    let (a, broken, c) = (finding("a"), finding("broken"), finding("c"));
    let accepted = vec![
        candidate(&a, vec![TextEdit::new(32, 32, r#", "X": 1"#)]),
        candidate(&broken, vec![TextEdit::new(33, 33, ",,")]),
        candidate(&c, vec![TextEdit::new(0, 0, " ")]),
    ];
    let set = rules();
    let mut dropped = Vec::new();
    let (text, parsed, kept) = apply_checked(DOC, Syntax::Json, accepted, &set, &mut dropped);
    assert_eq!(text, r#" {"Resources": {"A": {"Type": "T", "X": 1}}}"#);
    // The text was put together one fix at a time: the caller parses it again.
    assert!(parsed.is_none());
    assert_eq!(names(&kept), ["a", "c"]);
    let code = &set.rules()[0].code;
    assert_eq!(
        dropped,
        [format!(
            "{code} on broken: fix broken (it would break the file)"
        )]
    );
}

#[test]
fn apply_checked_with_every_fix_breaking_the_file_leaves_it_as_it_was() {
    let (a, b) = (finding("a"), finding("b"));
    let accepted = vec![
        candidate(&a, vec![TextEdit::new(0, 1, "[")]),
        candidate(&b, vec![TextEdit::new(35, 35, "}")]),
    ];
    let mut dropped = Vec::new();
    let (text, parsed, kept) = apply_checked(DOC, Syntax::Json, accepted, &rules(), &mut dropped);
    assert_eq!(text, DOC);
    assert!(parsed.is_none());
    assert!(kept.is_empty());
    assert_eq!(dropped.len(), 2, "{dropped:?}");
}

#[test]
fn apply_checked_drops_a_fix_that_breaks_the_file_only_with_an_earlier_one() {
    // Each insertion alone parses; together they write the key `X` twice, which the loader
    // rejects as CloudFormation does. The earlier fix is kept, the later one dropped.
    let (a, b) = (finding("a"), finding("b"));
    let accepted = vec![
        candidate(&a, vec![TextEdit::new(32, 32, r#", "X": 1"#)]),
        candidate(&b, vec![TextEdit::new(32, 32, r#", "X": 2"#)]),
    ];
    let mut dropped = Vec::new();
    let (text, _, kept) = apply_checked(DOC, Syntax::Json, accepted, &rules(), &mut dropped);
    assert_eq!(text, r#"{"Resources": {"A": {"Type": "T", "X": 1}}}"#);
    assert_eq!(names(&kept), ["a"]);
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    assert!(dropped[0].contains("on b: fix b"), "{dropped:?}");
}

#[test]
fn apply_checked_drops_a_merged_fix_with_the_host_that_breaks_the_file() {
    let (host, merged, other) = (finding("host"), finding("merged"), finding("other"));
    let mut absorbed = candidate(&merged, Vec::new());
    absorbed.hosts.push(&host);
    let accepted = vec![
        candidate(&host, vec![TextEdit::new(33, 33, ",,")]),
        absorbed,
        candidate(&other, vec![TextEdit::new(32, 32, r#", "X": 1"#)]),
    ];
    let mut dropped = Vec::new();
    let (text, _, kept) = apply_checked(DOC, Syntax::Json, accepted, &rules(), &mut dropped);
    assert_eq!(text, r#"{"Resources": {"A": {"Type": "T", "X": 1}}}"#);
    assert_eq!(names(&kept), ["other"]);
    assert_eq!(dropped.len(), 2, "{dropped:?}");
    assert!(
        dropped[1].contains("on merged: fix merged (merged into a fix"),
        "{dropped:?}"
    );
}
