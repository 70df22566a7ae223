//! `--fix`: declared operations rendered as text edits in the file's own syntax, applied in
//! rounds until nothing more applies, checked against the same operations on the parsed tree,
//! and written atomically.

pub mod edit;
pub mod render;
pub mod tree;

use std::path::Path;

use crate::rules::plan::Op;
use edit::{Source, TextEdit};

use crate::engine::{self, RawFinding};
use crate::load::{self, Syntax};
use crate::model::template::Template;
use crate::rules::{Applicability, RuleSet};

/// Most rounds of fix, re-parse, re-evaluate before giving up on convergence.
pub const MAX_ROUNDS: usize = 20;

/// Which fixes to apply.
#[derive(Clone, Copy, Debug, Default)]
pub struct FixOptions {
    /// Also apply fixes that change behaviour.
    pub unsafe_fixes: bool,
}

impl FixOptions {
    /// Whether a fix of this applicability is applied.
    pub fn allows(self, a: Applicability) -> bool {
        a == Applicability::Safe || (self.unsafe_fixes && a == Applicability::Unsafe)
    }
}

/// A fix that was applied.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AppliedFix {
    /// Rule code.
    pub code: String,
    /// Logical ID.
    pub resource: String,
    /// What the fix did.
    pub title: String,
    /// The CDK construct path, when CDK generated the resource.
    pub cdk_path: Option<String>,
    /// What to change in the CDK source so the next synth keeps the fix.
    pub cdk: Option<String>,
}

/// The result of fixing one file's text.
#[derive(Debug, Default)]
pub struct Fixed {
    /// The fixed text (equal to the input when nothing applied).
    pub text: String,
    /// Fixes applied, in order.
    pub applied: Vec<AppliedFix>,
    /// Fixes that could not be applied, with why.
    pub dropped: Vec<String>,
    /// The fixed text parsed and evaluated (the last round's work): what remains to report.
    pub evaluated: Option<(Template, Vec<RawFinding>)>,
}

struct Candidate<'a> {
    finding: &'a RawFinding,
    edits: Vec<TextEdit>,
}

/// Applies every allowed fix to a template's text; errors mean nothing should be written.
pub fn fix_text(
    file: &str,
    text: &str,
    rules: &RuleSet,
    opts: FixOptions,
) -> Result<Fixed, String> {
    // As lint_bytes does: a BOM before `{` must not make a JSON file look like YAML.
    let syntax = load::detect_syntax(Path::new(file), text.trim_start_matches('\u{feff}'));
    let mut current = text.to_string();
    // Each round's text is parsed once: by the previous round's validity check, or here.
    let mut parsed = Some(parse(text, syntax)?);
    let mut original: Option<crate::model::node::Node> = None;
    let mut applied_ops: Vec<Op> = Vec::new();
    let mut out = Fixed::default();
    let mut converged = false;
    let mut last = None;
    for _ in 0..MAX_ROUNDS {
        let template = match parsed.take() {
            Some(t) => t,
            None => parse(&current, syntax)?,
        };
        let findings = engine::evaluate(&template, rules, engine::Plans::Resolve);
        let source = Source::new(&current, &template.root, syntax);
        let mut candidates = Vec::new();
        for f in &findings {
            let Some(plan) = f.plan.as_ref().filter(|p| opts.allows(p.applicability)) else {
                continue;
            };
            let mut edits = Vec::new();
            let mut failed = None;
            for op in &plan.ops {
                match edit::render(&source, op) {
                    Ok(Some(e)) => edits.push(e),
                    Ok(None) => {}
                    Err(why) => failed = Some(why),
                }
            }
            match failed {
                Some(why) => {
                    let note = format!(
                        "{} on {}: {} ({why})",
                        rules.rule(f.rule).code,
                        f.resource,
                        plan.title
                    );
                    if !out.dropped.contains(&note) {
                        out.dropped.push(note);
                    }
                }
                None if !edits.is_empty() => candidates.push(Candidate { finding: f, edits }),
                None => {}
            }
        }
        let accepted = select(candidates, &source);
        if accepted.is_empty() {
            drop(accepted);
            converged = true;
            last = Some((template, findings));
            break;
        }
        let (next, next_parsed, kept) =
            apply_checked(&current, syntax, accepted, rules, &mut out.dropped);
        if kept.is_empty() {
            drop(kept);
            converged = true;
            last = Some((template, findings));
            break;
        }
        // The first round's tree is the base of the final check: moved, not cloned.
        if original.is_none() {
            original = Some(template.root);
        }
        for c in &kept {
            let plan = c.finding.plan.as_ref().expect("candidates have plans");
            applied_ops.extend(plan.ops.iter().cloned());
            out.applied.push(AppliedFix {
                code: rules.rule(c.finding.rule).code.clone(),
                resource: c.finding.resource.clone(),
                title: plan.title.clone(),
                cdk_path: c.finding.cdk_path.clone(),
                cdk: plan.cdk.clone(),
            });
        }
        drop(findings);
        current = next;
        parsed = next_parsed;
    }
    if !converged {
        return Err(format!(
            "fixes did not converge after {MAX_ROUNDS} rounds; nothing was written"
        ));
    }
    // The text edits must mean exactly what the operations mean on the parsed tree (nothing to
    // compare when nothing was applied).
    if let (Some(mut expected), Some((last, _))) = (original, &last) {
        for op in &applied_ops {
            tree::apply(&mut expected, op);
        }
        if !tree::same(&expected, &last.root) {
            return Err("the fixed text does not match the fix operations applied to the parsed tree; nothing was written (please report this)".into());
        }
    }
    out.text = current;
    out.evaluated = last;
    Ok(out)
}

fn parse(text: &str, syntax: Syntax) -> Result<Template, String> {
    load::parse(text.as_bytes(), syntax)
        .and_then(Template::new)
        .map_err(|e| e.message)
}

/// Whether two edits cannot be applied in the same round: they overlap, or an insertion sits on
/// a replaced range's edge (its place would be ambiguous). Insertions at the same point are fine
/// when they go into the same mapping or list and do not create the same key: they are applied
/// in candidate order. (Insertions into different containers, say the end of a list that ends a
/// mapping, must wait for the next round: their order would decide where each one lands.)
fn clash(a: &TextEdit, b: &TextEdit) -> bool {
    match (a.start == a.end, b.start == b.end) {
        (true, true) => {
            a.start == b.start
                && (a.container.is_none()
                    || a.container != b.container
                    || (a.creates.is_some() && a.creates == b.creates))
        }
        (true, false) => b.start <= a.start && a.start <= b.end,
        (false, true) => a.start <= b.start && b.start <= a.end,
        (false, false) => a.start < b.end && b.start < a.end,
    }
}

/// Keeps the fixes whose edits do not clash with an earlier fix's, in source order. A fix whose
/// every edit creates a key that an accepted fix creates at the same place is merged into it
/// (one insertion of both values), which saves the round it would otherwise wait for.
fn select<'a>(mut candidates: Vec<Candidate<'a>>, src: &Source<'_>) -> Vec<Candidate<'a>> {
    candidates.sort_by_key(|c| c.edits.iter().map(|e| e.start).min().unwrap_or(0));
    let mut out: Vec<Candidate<'a>> = Vec::new();
    for mut c in candidates {
        let clashes = c
            .edits
            .iter()
            .any(|e| out.iter().flat_map(|o| o.edits.iter()).any(|t| clash(e, t)));
        if !clashes {
            out.push(c);
        } else if let Some(updates) = absorb(&out, &c, src) {
            for (ci, ei, edit) in updates {
                out[ci].edits[ei] = edit;
            }
            // Its operations still count (tree check, applied list); its text now lives in the host.
            c.edits.clear();
            out.push(c);
        }
    }
    out
}

/// The re-rendered host edits that take in every edit of `c`, or `None` if one cannot merge.
fn absorb(
    out: &[Candidate<'_>],
    c: &Candidate<'_>,
    src: &Source<'_>,
) -> Option<Vec<(usize, usize, TextEdit)>> {
    let mut updates: Vec<(usize, usize, TextEdit)> = Vec::new();
    for e in &c.edits {
        let value = e.inserted.as_ref()?;
        e.creates.as_ref()?;
        let mut host = None;
        for (ci, o) in out.iter().enumerate() {
            for (ei, t) in o.edits.iter().enumerate() {
                if t.start == e.start && t.creates == e.creates && t.inserted.is_some() {
                    host = Some((ci, ei));
                } else if clash(e, t) {
                    return None;
                }
            }
        }
        let (ci, ei) = host?;
        if updates.iter().any(|(a, b, _)| (*a, *b) == (ci, ei)) {
            return None;
        }
        let current = &out[ci].edits[ei];
        let merged = edit::merge(current.inserted.as_ref()?, value)?;
        updates.push((ci, ei, edit::reinsert(src, current, merged).ok()?));
    }
    Some(updates)
}

/// Applies edits given in candidate order: back to front, and among insertions at the same
/// point the later candidate first, so the text ends up in candidate order.
fn apply(text: &str, edits: &mut [&TextEdit]) -> String {
    let mut ordered: Vec<(usize, &TextEdit)> = edits.iter().copied().enumerate().collect();
    ordered.sort_by_key(|(i, e)| std::cmp::Reverse((e.start, *i)));
    let mut out = text.to_string();
    for (_, e) in ordered {
        out.replace_range(e.start..e.end, &e.text);
    }
    out
}

/// Applies a round's fixes; if the result does not parse, applies them one at a time and drops
/// the ones that break the file.
fn apply_checked<'a>(
    text: &str,
    syntax: Syntax,
    accepted: Vec<Candidate<'a>>,
    rules: &RuleSet,
    dropped: &mut Vec<String>,
) -> (String, Option<Template>, Vec<Candidate<'a>>) {
    let mut all: Vec<&TextEdit> = accepted.iter().flat_map(|c| c.edits.iter()).collect();
    let together = apply(text, &mut all);
    if let Ok(t) = parse(&together, syntax) {
        return (together, Some(t), accepted);
    }
    let mut kept: Vec<Candidate<'a>> = Vec::new();
    for c in accepted {
        let mut trial: Vec<&TextEdit> = kept
            .iter()
            .chain(std::iter::once(&c))
            .flat_map(|c| c.edits.iter())
            .collect();
        if parse(&apply(text, &mut trial), syntax).is_ok() {
            kept.push(c);
        } else {
            let title = c.finding.plan.as_ref().map_or("", |p| p.title.as_str());
            dropped.push(format!(
                "{} on {}: {} (it would break the file)",
                rules.rule(c.finding.rule).code,
                c.finding.resource,
                title
            ));
        }
    }
    let mut edits: Vec<&TextEdit> = kept.iter().flat_map(|c| c.edits.iter()).collect();
    (apply(text, &mut edits), None, kept)
}

/// A unified diff of a fix, for `--diff`.
pub fn unified_diff(file: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(2)
        .header(&diff_name("a", file), &diff_name("b", file))
        .to_string()
}

/// What fixing one file did.
#[derive(Debug, Default)]
pub struct FileFix {
    /// File path as given.
    pub file: String,
    /// Fixes applied.
    pub applied: Vec<AppliedFix>,
    /// Fixes that could not be applied, with why.
    pub dropped: Vec<String>,
    /// Why nothing could be fixed (unreadable, unparsable, no convergence, failed check, failed
    /// write).
    pub error: Option<String>,
    /// The unified diff, when asked for.
    pub diff: Option<String>,
    /// The fixed bytes, when something changed: kept apart from the fixing so the caller can
    /// write them (`write_fixed`) while other files are still being fixed.
    pub fixed: Option<Vec<u8>>,
    /// The bytes the fix was made from, while `fixed` waits to be written: the file must still
    /// hold them when it is replaced, or another program's change would be lost.
    pub original: Vec<u8>,
    /// The fixed text as parsed and evaluated by the last round (saves linting it again).
    pub evaluated: Option<(String, Template, Vec<RawFinding>)>,
    /// What remains to report, when the caller asked for it (`--fix` reports in the same pass).
    pub report: Option<crate::finding::FileReport>,
}

impl FileFix {
    /// Records that the fixed bytes were not written: the file is as it was, so nothing counts
    /// as applied (and a report made from the fixed text no longer describes it).
    pub fn write_failed(&mut self, why: impl std::fmt::Display) {
        self.error = Some(format!("cannot write the fixed file: {why}"));
        self.applied.clear();
        self.fixed = None;
    }
}

/// What became of one file's fixed bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// The file now holds its fix (or there was nothing to write).
    Done,
    /// The file changed after it was read and was left alone: fix it again from what it holds.
    Changed,
    /// The write failed; `FileFix::error` says why.
    Failed,
}

/// Writes the fixed bytes of many files with one flush to disk (`write::write_batch`), each to
/// its destination (`None`: a destination `--fix` must not write, which fails that file), and
/// only over a file that still holds what its fix was made from; returns, in order, what became
/// of each file.
pub fn write_fixed<'a>(
    files: impl IntoIterator<Item = (Option<&'a Path>, &'a mut FileFix)>,
) -> Vec<Written> {
    let mut files: Vec<(Option<&Path>, &mut FileFix)> = files.into_iter().collect();
    let jobs: Vec<crate::io::write::Job<'_>> = files
        .iter()
        .filter_map(|(path, fix)| {
            Some(crate::io::write::Job {
                path: (*path)?,
                bytes: fix.fixed.as_deref()?,
                expected: Some(&fix.original),
            })
        })
        .collect();
    let mut results = crate::io::write::write_batch(&jobs).into_iter();
    drop(jobs);
    files
        .iter_mut()
        .map(|(path, fix)| {
            if fix.fixed.is_none() {
                return Written::Done;
            }
            if path.is_none() {
                fix.write_failed(
                    "it is a symbolic link to a file outside the folders being linted, which `--fix` does not write through; fix the file it points to directly",
                );
                return Written::Failed;
            }
            match results.next() {
                Some(Ok(())) => {
                    fix.fixed = None;
                    fix.original = Vec::new();
                    Written::Done
                }
                Some(Err(crate::io::write::WriteError::Changed)) => Written::Changed,
                Some(Err(e)) => {
                    fix.write_failed(e);
                    Written::Failed
                }
                None => {
                    fix.write_failed("the write was lost");
                    Written::Failed
                }
            }
        })
        .collect()
}

/// Fixes one file in memory: the fixed bytes (when something changed) wait in `fixed` for
/// `write_fixed`; with `diff`, the unified diff is made too.
pub fn fix_file(path: &Path, rules: &RuleSet, opts: FixOptions, diff: bool) -> FileFix {
    let file = path.display().to_string();
    let mut out = FileFix {
        file: file.clone(),
        ..FileFix::default()
    };
    let bytes = match crate::io::read::read_limited(path) {
        Ok(b) => b,
        Err(e) => {
            out.error = Some(e.message());
            return out;
        }
    };
    let (text, bom) = match load::decode(&bytes) {
        Ok(decoded) => decoded,
        Err(e) => {
            out.error = Some(e.message);
            return out;
        }
    };
    match fix_text(&file, text, rules, opts) {
        Err(e) => out.error = Some(e),
        Ok(fixed) => {
            // A diff is all `--diff` keeps: it writes nothing, so it needs neither the new bytes
            // nor the original they would be checked against.
            if fixed.text != text {
                if diff {
                    out.diff = Some(unified_diff(&file, text, &fixed.text));
                } else {
                    let mut new_bytes = bytes[..bom].to_vec();
                    new_bytes.extend_from_slice(fixed.text.as_bytes());
                    out.fixed = Some(new_bytes);
                }
            }
            out.applied = fixed.applied;
            out.dropped = fixed.dropped;
            out.evaluated = fixed.evaluated.map(|(t, raws)| (fixed.text, t, raws));
        }
    }
    if out.fixed.is_some() {
        out.original = bytes;
    }
    out
}

/// `a/path` for relative paths (as git writes them), the path itself for absolute ones.
fn diff_name(side: &str, file: &str) -> String {
    if file.starts_with('/') {
        file.to_string()
    } else {
        format!("{side}/{file}")
    }
}

#[cfg(test)]
mod tests {
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
                Candidate {
                    finding: &c,
                    edits: vec![rep(20, 22)],
                },
                Candidate {
                    finding: &a,
                    edits: vec![rep(0, 2)],
                },
                Candidate {
                    finding: &b,
                    edits: vec![rep(2, 4)],
                },
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
                Candidate {
                    finding: &late,
                    edits: vec![rep(5, 9)],
                },
                Candidate {
                    finding: &early,
                    edits: vec![rep(2, 6)],
                },
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
                Candidate {
                    finding: &first,
                    edits: vec![rep(2, 4)],
                },
                Candidate {
                    finding: &second,
                    edits: vec![rep(2, 8)],
                },
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
                Candidate {
                    finding: &host,
                    edits: vec![rep(10, 12)],
                },
                Candidate {
                    finding: &two,
                    edits: vec![rep(20, 22), rep(11, 11)],
                },
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
                Candidate {
                    finding: &middle,
                    edits: vec![ins(12, "m")],
                },
                Candidate {
                    finding: &spread,
                    edits: vec![rep(30, 31), rep(1, 2), rep(10, 12)],
                },
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
            Candidate {
                finding: &first,
                edits: rendered(&src, &[("/Resources/B/Properties/One", json!(1))]),
            },
            Candidate {
                finding: &second,
                edits: rendered(&src, &[("/Resources/B/Properties/Two", json!("two"))]),
            },
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
            Candidate {
                finding: &a,
                edits: rendered(&src, &[("/Resources/B/Properties/Encryption/A", json!(1))]),
            },
            Candidate {
                finding: &c,
                edits: rendered(&src, &[("/Resources/B/Properties/Encryption/C", json!(2))]),
            },
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
            Candidate {
                finding: &a,
                edits: rendered(&src, &[("/Resources/B/Properties/Tags/A", json!("x"))]),
            },
            Candidate {
                finding: &b,
                edits: rendered(&src, &[("/Resources/B/Properties/Tags/B", json!("y"))]),
            },
            Candidate {
                finding: &c,
                // The same value as `a` under the same key: nothing disagrees.
                edits: rendered(&src, &[("/Resources/B/Properties/Tags/A", json!("x"))]),
            },
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
            Candidate {
                finding: &one,
                edits: rendered(&src, &[("/Resources/B/Properties/Encryption/A", json!(1))]),
            },
            Candidate {
                finding: &two,
                edits: rendered(&src, &[("/Resources/B/Properties/Encryption/A", json!(2))]),
            },
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
        let candidates = vec![
            Candidate {
                finding: &mixed,
                edits,
            },
            Candidate {
                finding: &host,
                edits: host_edits,
            },
        ];
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
            Candidate {
                finding: &outer,
                edits: rendered(&src, &[("/Resources/B/Properties/Name", json!("n"))]),
            },
            Candidate {
                finding: &inner,
                edits: rendered(&src, &[("/Resources/B/Properties/Tags/Value", json!("v"))]),
            },
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
            Candidate {
                finding: &a,
                edits: vec![TextEdit::new(32, 32, r#", "X": 1"#)],
            },
            Candidate {
                finding: &b,
                edits: vec![TextEdit::new(33, 33, r#", "B": {"Type": "U"}"#)],
            },
        ];
        let mut dropped = Vec::new();
        let (text, parsed, kept) =
            apply_checked(DOC, Syntax::Json, accepted, &rules(), &mut dropped);
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
            Candidate {
                finding: &a,
                edits: vec![TextEdit::new(32, 32, r#", "X": 1"#)],
            },
            Candidate {
                finding: &broken,
                edits: vec![TextEdit::new(33, 33, ",,")],
            },
            Candidate {
                finding: &c,
                edits: vec![TextEdit::new(0, 0, " ")],
            },
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
            Candidate {
                finding: &a,
                edits: vec![TextEdit::new(0, 1, "[")],
            },
            Candidate {
                finding: &b,
                edits: vec![TextEdit::new(35, 35, "}")],
            },
        ];
        let mut dropped = Vec::new();
        let (text, parsed, kept) =
            apply_checked(DOC, Syntax::Json, accepted, &rules(), &mut dropped);
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
            Candidate {
                finding: &a,
                edits: vec![TextEdit::new(32, 32, r#", "X": 1"#)],
            },
            Candidate {
                finding: &b,
                edits: vec![TextEdit::new(32, 32, r#", "X": 2"#)],
            },
        ];
        let mut dropped = Vec::new();
        let (text, _, kept) = apply_checked(DOC, Syntax::Json, accepted, &rules(), &mut dropped);
        assert_eq!(text, r#"{"Resources": {"A": {"Type": "T", "X": 1}}}"#);
        assert_eq!(names(&kept), ["a"]);
        assert_eq!(dropped.len(), 1, "{dropped:?}");
        assert!(dropped[0].contains("on b: fix b"), "{dropped:?}");
    }
}
