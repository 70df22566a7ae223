//! rustc/ruff-style output: file:line:col, code and name, the snippet underlined, CDK path, help.

use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity as Level};
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term::{self, termcolor};

use crate::finding::{FileReport, Finding, line_starts};
use crate::model::node::Span;
use crate::rules::{Applicability, Severity};

#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// ANSI colours.
    pub color: bool,
}

/// The file codespan renders snippets from. codespan's own `SimpleFile` finds line starts
/// with a `char` search, which cost a tenth of a whole-pack run over the corpus; memchr finds
/// them several times faster.
struct Source<'a> {
    name: &'a str,
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Source<'a> {
    fn new(name: &'a str, text: &'a str) -> Self {
        let starts = line_starts(text);
        Source { name, text, starts }
    }

    fn line_start(&self, line: usize) -> Result<usize, FilesError> {
        match self.starts.get(line) {
            Some(&start) => Ok(start),
            None if line == self.starts.len() => Ok(self.text.len()),
            None => Err(FilesError::LineTooLarge {
                given: line,
                max: self.starts.len() - 1,
            }),
        }
    }
}

impl<'a> Files<'a> for Source<'a> {
    type FileId = ();
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, (): ()) -> Result<&'a str, FilesError> {
        Ok(self.name)
    }

    fn source(&'a self, (): ()) -> Result<&'a str, FilesError> {
        Ok(self.text)
    }

    fn line_index(&'a self, (): (), byte_index: usize) -> Result<usize, FilesError> {
        Ok(self
            .starts
            .binary_search(&byte_index)
            .unwrap_or_else(|next| next - 1))
    }

    fn line_range(&'a self, (): (), line: usize) -> Result<Range<usize>, FilesError> {
        Ok(self.line_start(line)?..self.line_start(line + 1)?)
    }
}

/// Renders one file's findings and errors with snippets.
pub fn render(report: &FileReport, source: &str, style: Style) -> String {
    let file = Source::new(report.file.as_str(), source);
    let config = term::Config::default();
    let mut buffer = if style.color {
        termcolor::Buffer::ansi()
    } else {
        termcolor::Buffer::no_color()
    };
    for error in &report.errors {
        let mut d = Diagnostic::error().with_message(&error.message);
        match error.span.map(|span| first_line(source, span)) {
            Some(range) if showable(source, &range) => {
                d = d.with_labels(vec![Label::primary((), range).with_message("here")]);
            }
            Some(_) => {
                let (line, column) = (error.line.unwrap_or(1), error.column.unwrap_or(1));
                d = d.with_message(format!(
                    "{}:{line}:{column}: {}",
                    report.file, error.message
                ));
            }
            None => d = d.with_message(format!("{}: {}", report.file, error.message)),
        }
        if let Some(help) = &error.help {
            d = d.with_notes(vec![format!("help: {help}")]);
        }
        emit(
            &mut buffer,
            &config,
            &file,
            &d,
            report,
            error.line,
            error.column,
        );
    }
    for f in &report.findings {
        let d = diagnostic(f, source);
        emit(
            &mut buffer,
            &config,
            &file,
            &d,
            report,
            Some(f.line),
            Some(f.column),
        );
    }
    String::from_utf8_lossy(buffer.as_slice()).into_owned()
}

fn emit(
    buffer: &mut termcolor::Buffer,
    config: &term::Config,
    file: &Source<'_>,
    d: &Diagnostic<()>,
    report: &FileReport,
    line: Option<usize>,
    column: Option<usize>,
) {
    if term::emit_to_write_style(buffer, config, file, d).is_err() {
        // A span outside the file would be a bug; fall back to the one-line form rather than lose it.
        use std::io::Write as _;
        let _ = writeln!(
            buffer,
            "{}:{}:{}: {}",
            report.file,
            line.unwrap_or(1),
            column.unwrap_or(1),
            d.message
        );
    }
}

/// The diagnostic for one finding.
pub fn diagnostic(f: &Finding, source: &str) -> Diagnostic<()> {
    let level = match f.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Info => Level::Note,
    };
    let mut notes = Vec::new();
    if let Some(path) = &f.cdk_path {
        notes.push(format!("cdk path: {path}"));
    }
    notes.push(match &f.fix {
        Some(fix) if fix.applicability == Applicability::Safe => {
            format!("help: {} (fixable with `--fix`)", fix.title)
        }
        Some(fix) if fix.applicability == Applicability::Unsafe => {
            format!("help: {} (fixable with `--fix --unsafe-fixes`)", fix.title)
        }
        Some(fix) => format!("help: {} (no automatic fix)", fix.title),
        None => format!("help: see `tap-lint explain {}`", f.code),
    });
    let d = Diagnostic::new(level)
        .with_code(&f.code)
        .with_message(format!("{}: {}", f.name, f.message))
        .with_notes(notes);
    let range = first_line(source, f.span);
    if showable(source, &range) {
        d.with_labels(vec![
            Label::primary((), range).with_message(f.resource.as_str()),
        ])
    } else {
        let place = format!("{}:{}:{}", f.file, f.line, f.column);
        d.with_message(format!("{place}: {}: {}", f.name, f.message))
    }
}

/// Clamps a span to its first line so a block finding underlines one line, not fifty.
fn first_line(source: &str, span: Span) -> std::ops::Range<usize> {
    // Keep both ends on char boundaries: spans of lossily decoded input (invalid UTF-8) may not be.
    let boundary = |mut i: usize| {
        i = i.min(source.len());
        while i > 0 && !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = boundary(span.start as usize);
    let end = boundary((span.end as usize).max(start));
    let end = source[start..end].find('\n').map_or(end, |nl| start + nl);
    if end > start {
        start..end
    } else {
        start..boundary(start + source[start..].chars().next().map_or(0, char::len_utf8))
    }
}

/// Lines longer than this are not shown as snippets (minified or generated files).
const MAX_SNIPPET_LINE: usize = 400;

/// Whether the line holding a span is short enough to show.
fn showable(source: &str, span: &std::ops::Range<usize>) -> bool {
    let line_start = source[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[span.start..]
        .find('\n')
        .map_or(source.len(), |i| span.start + i);
    line_end - line_start <= MAX_SNIPPET_LINE
}
