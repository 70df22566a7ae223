//! rustc/ruff-style output: file:line:col, code and name, the snippet underlined, CDK path, help.

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity as Level};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor};

use crate::lint::{FileReport, Finding};
use crate::model::node::Span;
use crate::rules::{Applicability, Severity};

/// How to render.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// ANSI colours.
    pub color: bool,
}

/// Renders one file's findings and errors with snippets.
pub fn render(report: &FileReport, source: &str, style: Style) -> String {
    let file = SimpleFile::new(report.file.as_str(), source);
    let config = term::Config::default();
    let mut buffer = if style.color {
        termcolor::Buffer::ansi()
    } else {
        termcolor::Buffer::no_color()
    };
    for error in &report.errors {
        let mut d = Diagnostic::error().with_message(&error.message);
        if let Some(span) = error.span {
            d = d.with_labels(vec![
                Label::primary((), first_line(source, span)).with_message("here"),
            ]);
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
    file: &SimpleFile<&str, &str>,
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
    Diagnostic::new(level)
        .with_code(&f.code)
        .with_message(format!("{}: {}", f.name, f.message))
        .with_labels(vec![
            Label::primary((), first_line(source, f.span)).with_message(f.resource.as_str()),
        ])
        .with_notes(notes)
}

/// Clamps a span to its first line so a block finding underlines one line, not fifty.
fn first_line(source: &str, span: Span) -> std::ops::Range<usize> {
    let start = (span.start as usize).min(source.len());
    let end = (span.end as usize).clamp(start, source.len());
    let end = source[start..end].find('\n').map_or(end, |nl| start + nl);
    let end = if end == start {
        (start + 1).min(source.len())
    } else {
        end
    };
    // Keep both ends on char boundaries (spans from lossy-decoded input may not be).
    let fix = |mut i: usize| {
        while i > 0 && !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    fix(start)..fix(end).max(fix(start))
}
