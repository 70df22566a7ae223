//! One file in, its findings and errors out; many files in parallel with deterministic order.

use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::discover::Target;
use crate::engine;
use crate::fix;
use crate::load::{self, LoadError};
use crate::model::node::Span;
use crate::model::template::Template;
use crate::report;
use crate::rules::{Applicability, RuleSet, Severity};

/// A finding tied to its file and position: the stable record every output format renders.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Finding {
    /// Rule code.
    pub code: String,
    /// Rule name.
    pub name: String,
    /// Severity.
    pub severity: Severity,
    /// File path as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// 1-based end line.
    pub end_line: usize,
    /// 1-based end column, exclusive.
    pub end_column: usize,
    /// Logical ID.
    pub resource: String,
    /// RFC 6901 pointer.
    pub pointer: String,
    /// CDK construct path.
    pub cdk_path: Option<String>,
    /// Rendered message.
    pub message: String,
    /// The available fix.
    pub fix: Option<FixInfo>,
    /// Byte span (not serialised; renderers use it).
    #[serde(skip)]
    pub span: Span,
    /// The text edits the fix makes, for SARIF `fixes` (not in the JSON report: `--diff` shows
    /// them).
    #[serde(skip)]
    pub edits: Vec<Replacement>,
}

/// One text replacement of a fix, positioned like findings (1-based, end exclusive).
#[derive(Clone, Debug, PartialEq)]
pub struct Replacement {
    /// First line replaced.
    pub start_line: usize,
    /// First column replaced.
    pub start_column: usize,
    /// Line where the replaced text ends.
    pub end_line: usize,
    /// Column where the replaced text ends (exclusive).
    pub end_column: usize,
    /// The new text.
    pub text: String,
}

/// What `--fix` could do about a finding.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FixInfo {
    /// `safe`, `unsafe` or `display-only`.
    pub applicability: Applicability,
    /// What it does.
    pub title: String,
}

/// A file that could not be linted (or a resource in it that was skipped).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FileError {
    /// File path as given.
    pub file: String,
    /// 1-based line, when the error has a place.
    pub line: Option<usize>,
    /// 1-based column, when the error has a place.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Byte span (not serialised).
    #[serde(skip)]
    pub span: Option<Span>,
}

/// Everything known about one file after linting.
#[derive(Debug, Default)]
pub struct FileReport {
    /// File path as given.
    pub file: String,
    /// Findings, in source order.
    pub findings: Vec<Finding>,
    /// Errors.
    pub errors: Vec<FileError>,
    /// Human-readable rendering with snippets, made in the worker so the source can be dropped.
    pub rendered: String,
}

impl FileReport {
    /// A report of one error about a whole file (it could not be found, read or used).
    pub fn failed(
        file: &str,
        message: String,
        help: Option<String>,
        human: Option<report::human::Style>,
    ) -> FileReport {
        let mut report = FileReport {
            file: file.to_string(),
            ..FileReport::default()
        };
        report.push_error(message, help, human);
        report
    }

    /// Adds an error about the file as a whole, found after the file was linted (fixing or
    /// writing it failed). It has no place in the source, so it is rendered without it.
    pub fn push_error(
        &mut self,
        message: String,
        help: Option<String>,
        human: Option<report::human::Style>,
    ) {
        let error = FileError {
            file: self.file.clone(),
            line: None,
            column: None,
            message,
            help,
            span: None,
        };
        if let Some(style) = human {
            let alone = FileReport {
                file: self.file.clone(),
                errors: vec![error.clone()],
                ..FileReport::default()
            };
            self.rendered
                .push_str(&report::human::render(&alone, "", style));
        }
        self.errors.push(error);
    }
}

/// Byte offsets to 1-based line and character columns.
///
/// Columns count characters, so non-ASCII text needs characters counted up to the offset;
/// counting from the line start for every finding would make a minified (one-line) template
/// quadratic. Instead, the characters before every [`CHECKPOINT`]th byte are counted once, and
/// a position counts at most that many bytes.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// `(byte offset, characters before it)` at char boundaries about [`CHECKPOINT`] bytes
    /// apart; empty for ASCII text, where a column is a byte distance.
    checkpoints: Vec<(usize, usize)>,
}

/// Bytes between two character-count checkpoints of non-ASCII text.
const CHECKPOINT: usize = 1024;

impl<'a> LineIndex<'a> {
    /// Indexes line starts (and character counts, for non-ASCII text).
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        let mut checkpoints = Vec::new();
        if !text.is_ascii() {
            let (mut at, mut chars) = (0, 0);
            checkpoints.push((0, 0));
            for (i, _) in text.char_indices() {
                if i >= at + CHECKPOINT {
                    checkpoints.push((i, chars));
                    at = i;
                }
                chars += 1;
            }
        }
        LineIndex {
            text,
            starts,
            checkpoints,
        }
    }

    /// Characters before a byte offset (on a char boundary).
    fn chars_before(&self, offset: usize) -> usize {
        let i = self.checkpoints.partition_point(|&(b, _)| b <= offset) - 1;
        let (byte, chars) = self.checkpoints[i];
        chars + self.text[byte..offset].chars().count()
    }

    /// Line and column (both 1-based) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let column = if self.checkpoints.is_empty() || !self.text.is_char_boundary(offset) {
            offset - start
        } else {
            self.chars_before(offset) - self.chars_before(start)
        };
        (line + 1, column + 1)
    }
}

/// Options that shape what is kept per file.
#[derive(Clone, Copy, Debug, Default)]
pub struct LintOptions {
    /// Render human output with snippets (and whether in colour) while the source is at hand.
    pub human: Option<report::human::Style>,
    /// Render each fixable finding's text edits (SARIF `fixes` need them; other formats do not,
    /// and they cost about a tenth of the run).
    pub fix_edits: bool,
}

/// Lints one template file.
pub fn lint_file(path: &Path, rules: &RuleSet, opts: LintOptions) -> FileReport {
    let file = path.display().to_string();
    let fail = |message: String, help: Option<&str>| {
        FileReport::failed(&file, message, help.map(str::to_string), opts.human)
    };
    let bytes = match crate::read::read_limited(path) {
        Ok(b) => b,
        Err(e @ crate::read::ReadError::Io(_)) => {
            return fail(format!("cannot read the file: {e}"), e.help());
        }
        Err(e) => return fail(e.to_string(), e.help()),
    };
    lint_bytes(&file, &bytes, rules, opts)
}

/// Lints template bytes (the file name is used for syntax detection and reporting).
pub fn lint_bytes(file: &str, bytes: &[u8], rules: &RuleSet, opts: LintOptions) -> FileReport {
    let text = String::from_utf8_lossy(bytes);
    let syntax = load::detect_syntax(Path::new(file), text.trim_start_matches('\u{feff}'));
    match load::parse(bytes, syntax).and_then(Template::new) {
        Ok(t) => {
            let raws = engine::evaluate(&t, rules);
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
                let rule = &rules.rules[raw.rule];
                let (line, column) = index.position(raw.span.start as usize);
                let (end_line, end_column) = index.position(raw.span.end as usize);
                report.findings.push(Finding {
                    code: rule.code.clone(),
                    name: rule.name.clone(),
                    severity: raw.severity.unwrap_or(rule.severity),
                    file: file.to_string(),
                    line,
                    column,
                    end_line,
                    end_column,
                    resource: raw.resource,
                    pointer: raw.pointer,
                    cdk_path: raw.cdk_path,
                    message: raw.message,
                    fix: raw.fix.map(|(applicability, title)| FixInfo {
                        applicability,
                        title,
                    }),
                    span: raw.span,
                    edits,
                });
            }
            crate::suppress::apply(t, rules, &index, file, &mut report.findings);
        }
    }
    if let Some(style) = opts.human
        && (!report.findings.is_empty() || !report.errors.is_empty())
    {
        report.rendered = report::human::render(&report, text, style);
    }
    report
}

/// A fix plan's text edits, positioned; empty when an operation cannot be rendered here.
fn replacements(
    source: &fix::edit::Source<'_>,
    index: &LineIndex<'_>,
    plan: &fix::ops::FixPlan,
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

#[cfg(test)]
mod tests {
    use super::LineIndex;

    /// The checkpoints must give what counting characters from the line start gives, at every
    /// offset: inside long lines, across checkpoints, on multi-byte characters and between
    /// their bytes.
    #[test]
    fn positions_match_a_plain_character_count() {
        let line = "Ünïcödé {\"k\": \"日本語\"}, ".repeat(200);
        let text = format!("ascii first line\n{line}\n\n€ last\n{line}");
        let index = LineIndex::new(&text);
        for offset in 0..=text.len() {
            let before = &text.as_bytes()[..offset];
            let line_no = before.iter().filter(|b| **b == b'\n').count();
            let start = before
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            let column = text
                .get(start..offset)
                .map_or(offset - start, |s| s.chars().count());
            assert_eq!(
                index.position(offset),
                (line_no + 1, column + 1),
                "offset {offset}"
            );
        }
        let ascii = LineIndex::new("ab\ncd");
        assert_eq!(ascii.position(4), (2, 2));
    }
}
