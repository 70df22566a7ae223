//! One file in, its findings and errors out; many files in parallel with deterministic order.

use std::path::Path;

use rayon::prelude::*;

use crate::engine;
use crate::finding::{
    About, FileError, FileReport, Finding, FixInfo, LineIndex, Replacement, RuleMeta,
};
use crate::fix;
use crate::io::discover::Target;
use crate::load;
use crate::model::error::LoadError;
use crate::model::template::Template;
use crate::rules::RuleSet;

/// A report of one error about a whole file (it could not be found, read or used).
pub fn failed(file: &str, message: String, help: Option<String>) -> FileReport {
    let mut report = FileReport {
        file: file.to_string(),
        ..FileReport::default()
    };
    report.push_error(message, help);
    report
}

/// Options that shape what is kept per file.
#[derive(Clone, Copy, Debug, Default)]
pub struct LintOptions {
    /// Keep each file's text in its report, for human output's snippets.
    pub keep_source: bool,
    /// Render each fixable finding's text edits (SARIF `fixes` need them; other formats do not,
    /// and they cost about a tenth of the run).
    pub fix_edits: bool,
}

/// Lints one template file.
pub fn lint_file(path: &Path, rules: &RuleSet, opts: LintOptions) -> FileReport {
    let file = path.display().to_string();
    let bytes = match crate::io::read::read_limited(path) {
        Ok(b) => b,
        Err(e) => {
            let help = e.help().map(str::to_string);
            return failed(&file, e.message(), help);
        }
    };
    lint_bytes(&file, &bytes, rules, opts)
}

/// Lints template bytes (the file name is used for syntax detection and reporting).
pub fn lint_bytes(file: &str, bytes: &[u8], rules: &RuleSet, opts: LintOptions) -> FileReport {
    let text = String::from_utf8_lossy(bytes);
    let syntax = load::detect_syntax(Path::new(file), text.trim_start_matches('\u{feff}'));
    let root = match &text {
        std::borrow::Cow::Borrowed(valid) => load::parse_text(valid, syntax),
        // Not UTF-8: `parse` says where.
        std::borrow::Cow::Owned(_) => load::parse(bytes, syntax),
    };
    match root.and_then(Template::new) {
        Ok(t) => {
            let plans = if opts.fix_edits {
                engine::Plans::Resolve
            } else {
                engine::Plans::Skip
            };
            let raws = engine::evaluate(&t, &text, rules, plans);
            report_of(file, &text, syntax, Ok((&t, raws)), rules, opts)
        }
        Err(e) => report_of(file, &text, syntax, Err(e), rules, opts),
    }
}

/// The report for a template that is already parsed and evaluated (`--fix` reuses its last
/// round's evaluation this way), or for one that failed to load.
pub fn report_of(
    file: &str,
    text: &str,
    syntax: load::Syntax,
    evaluated: Result<(&Template, Vec<engine::RawFinding>), LoadError>,
    rules: &RuleSet,
    opts: LintOptions,
) -> FileReport {
    let index = LineIndex::new(text);
    let mut report = FileReport {
        file: file.to_string(),
        ..FileReport::default()
    };
    let error = |e: LoadError| {
        let pos = e.span.map(|s| index.position(s.start as usize));
        let mut message = e.message;
        if let Some((span, label)) = e.related {
            let (line, column) = index.position(span.start as usize);
            message = format!("{message} ({label} at {line}:{column})");
        }
        FileError {
            file: file.to_string(),
            line: pos.map(|p| p.0),
            column: pos.map(|p| p.1),
            message,
            help: e.help,
            span: e.span,
        }
    };
    match evaluated {
        Err(e) => report.errors.push(error(e)),
        Ok((t, raws)) => {
            report.errors.extend(t.problems.iter().cloned().map(error));
            let source = fix::edit::Source::new(text, &t.root, syntax);
            for raw in raws {
                let edits = match (&raw.plan, opts.fix_edits) {
                    (Some(plan), true) => replacements(&source, &index, plan),
                    _ => Vec::new(),
                };
                let rule = rules.rule(raw.rule);
                let meta = RuleMeta {
                    code: &rule.code,
                    name: &rule.name,
                    severity: raw.severity.unwrap_or(rules.severity_at(raw.rule)),
                };
                let about = About {
                    resource: raw.resource,
                    pointer: raw.pointer,
                    cdk_path: raw.cdk_path,
                };
                let fix = raw.fix.map(|(applicability, title)| FixInfo {
                    applicability,
                    title,
                });
                report.findings.push(
                    Finding::new(meta, file, &index, raw.span, about, raw.message)
                        .with_fix(fix, edits),
                );
            }
            crate::suppress::apply(t, rules, &index, file, &mut report.findings);
        }
    }
    if opts.keep_source && (!report.findings.is_empty() || !report.errors.is_empty()) {
        report.source = Some(text.into());
    }
    report
}

/// A fix plan's text edits, positioned; empty when an operation cannot be rendered here.
fn replacements(
    source: &fix::edit::Source<'_>,
    index: &LineIndex<'_>,
    plan: &crate::rules::plan::FixPlan,
) -> Vec<Replacement> {
    let mut out = Vec::new();
    for op in &plan.ops {
        match fix::edit::render(source, op) {
            Ok(Some(e)) => {
                let (start_line, start_column) = index.position(e.start);
                let (end_line, end_column) = index.position(e.end);
                out.push(Replacement {
                    start_line,
                    start_column,
                    end_line,
                    end_column,
                    text: e.text,
                });
            }
            Ok(None) => {}
            Err(_) => return Vec::new(),
        }
    }
    out
}

/// Files handled in parallel per chunk: enough to keep every core busy, few enough to keep memory
/// flat.
pub const CHUNK: usize = 512;

/// Lints many files in parallel and hands each report to `sink` in target order (deterministic
/// output); at most two chunks of reports are alive at a time, so memory does not grow with the run.
pub fn lint_stream(
    targets: &[Target],
    rules: &RuleSet,
    opts: LintOptions,
    mut sink: impl FnMut(FileReport),
) {
    ordered_chunks(
        targets,
        CHUNK,
        |t| lint_file(&t.path, rules, opts),
        |reports| reports.into_iter().for_each(&mut sink),
    );
}

/// Maps `items` in parallel chunk by chunk and hands each chunk's results to `consume` in order.
/// While the consumer handles the oldest chunk, the workers go on with the next two, so one slow
/// file at the end of a chunk does not idle the other cores, and the consumer's serial work
/// (writing reports, writing fixed files) overlaps the parallel work. At most three chunks of
/// results are alive at once.
pub fn ordered_chunks<'a, T: Sync, R: Send>(
    items: &'a [T],
    chunk: usize,
    map: impl Fn(&'a T) -> R + Sync,
    mut consume: impl FnMut(Vec<R>),
) {
    const IN_FLIGHT: usize = 2;
    let compute = |c: &'a [T]| c.par_iter().map(&map).collect::<Vec<R>>();
    std::thread::scope(|s| {
        let mut pending = std::collections::VecDeque::new();
        let mut wait = |pending: &mut std::collections::VecDeque<
            std::thread::ScopedJoinHandle<'_, Vec<R>>,
        >| {
            if let Some(handle) = pending.pop_front() {
                consume(
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
            }
        };
        for next in items.chunks(chunk.max(1)) {
            let compute = &compute;
            pending.push_back(s.spawn(move || compute(next)));
            if pending.len() > IN_FLIGHT {
                wait(&mut pending);
            }
        }
        while !pending.is_empty() {
            wait(&mut pending);
        }
    });
}
