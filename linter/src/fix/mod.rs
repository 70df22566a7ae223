//! `--fix`: declared operations rendered as text edits in the file's own syntax, applied in
//! rounds until nothing more applies, checked against the same operations on the parsed tree,
//! and written atomically.

pub mod edit;
pub mod render;
pub mod tree;

use std::path::Path;

use crate::rules::plan::{FixPlan, Op};
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
    /// For a fix merged into others' insertions: the findings whose edits now carry its text.
    /// If one of them is dropped, so is this one.
    hosts: Vec<&'a RawFinding>,
}

impl<'a> Candidate<'a> {
    fn new(finding: &'a RawFinding, edits: Vec<TextEdit>) -> Self {
        Candidate {
            finding,
            edits,
            hosts: Vec::new(),
        }
    }
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
        let findings = engine::evaluate(&template, &current, rules, engine::Plans::Resolve);
        let source = Source::new(&current, &template.root, syntax);
        let candidates = candidates(&findings, &source, rules, opts, &mut out.dropped);
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
            out.applied.push(applied(c.finding, plan, rules));
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

/// Renders each allowed plan into text edits. A plan with an operation that cannot be rendered
/// is dropped whole (with a note, once): half a fix could leave the resource worse than before.
fn candidates<'a>(
    findings: &'a [RawFinding],
    source: &Source,
    rules: &RuleSet,
    opts: FixOptions,
    dropped: &mut Vec<String>,
) -> Vec<Candidate<'a>> {
    let mut candidates = Vec::new();
    for f in findings {
        let Some(plan) = f.plan.as_ref().filter(|p| opts.allows(p.applicability)) else {
            continue;
        };
        let mut edits = Vec::new();
        let mut failed = None;
        for op in &plan.ops {
            match edit::render(source, op) {
                Ok(Some(e)) => edits.push(e),
                Ok(None) => {}
                Err(why) => failed = Some(why),
            }
        }
        match failed {
            Some(why) => note_dropped(dropped, rules, f, &why),
            None if !edits.is_empty() => candidates.push(Candidate::new(f, edits)),
            None => {}
        }
    }
    candidates
}

/// Notes a fix that was not applied, and why. Each round sees the same unfixable findings
/// again: a note is kept once.
fn note_dropped(dropped: &mut Vec<String>, rules: &RuleSet, finding: &RawFinding, why: &str) {
    let title = finding.plan.as_ref().map_or("", |p| p.title.as_str());
    let code = &rules.rule(finding.rule).code;
    let note = format!("{code} on {}: {title} ({why})", finding.resource);
    if !dropped.contains(&note) {
        dropped.push(note);
    }
}

fn applied(finding: &RawFinding, plan: &FixPlan, rules: &RuleSet) -> AppliedFix {
    AppliedFix {
        code: rules.rule(finding.rule).code.clone(),
        resource: finding.resource.clone(),
        title: plan.title.clone(),
        cdk_path: finding.cdk_path.clone(),
        cdk: plan.cdk.clone(),
    }
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
                c.hosts.push(out[ci].finding);
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
        let host_kept = |h: &&RawFinding| kept.iter().any(|k| std::ptr::eq(k.finding, *h));
        if !c.hosts.iter().all(host_kept) {
            // Its text went with a dropped host: applying it would claim a change not made.
            let why = "merged into a fix that would break the file";
            note_dropped(dropped, rules, c.finding, why);
            continue;
        }
        let mut trial: Vec<&TextEdit> = kept
            .iter()
            .chain(std::iter::once(&c))
            .flat_map(|c| c.edits.iter())
            .collect();
        if parse(&apply(text, &mut trial), syntax).is_ok() {
            kept.push(c);
        } else {
            note_dropped(dropped, rules, c.finding, "it would break the file");
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
mod tests;
