//! `--format github`: GitHub Actions workflow commands, so findings show inline on pull requests.

use std::io::{self, Write};

use crate::finding::FileReport;
use crate::rules::Severity;

/// Writes one `::error file=...::message` line per finding and per load error.
pub struct GithubWriter<W: Write> {
    out: W,
}

impl<W: Write> GithubWriter<W> {
    pub fn new(out: W) -> Self {
        GithubWriter { out }
    }

    /// Writes one file's findings and errors.
    pub fn file(&mut self, report: &FileReport) -> io::Result<()> {
        for e in &report.errors {
            let mut props = format!("file={}", property(&e.file));
            if let Some(line) = e.line {
                props.push_str(&format!(",line={line},col={}", e.column.unwrap_or(1)));
            }
            let message = match &e.help {
                Some(h) => format!("{}\nhelp: {h}", e.message),
                None => e.message.clone(),
            };
            writeln!(
                self.out,
                "::error {props},title={}::{}",
                property("tap-lint"),
                data(&message)
            )?;
        }
        for f in &report.findings {
            let command = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let mut message = f.message.clone();
            if let Some(path) = &f.cdk_path {
                message.push_str(&format!("\ncdk path: {path}"));
            }
            writeln!(
                self.out,
                "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                property(&f.file),
                f.line,
                f.column,
                f.end_line,
                f.end_column,
                property(&format!("{} {}", f.code, f.name)),
                data(&message)
            )?;
        }
        Ok(())
    }

    /// Hands the output back.
    pub fn finish(self) -> W {
        self.out
    }
}

/// Escapes a command's message as the runner expects (`%`, CR, LF).
pub fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property: as [`data`], plus `:` and `,` which delimit properties.
pub fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}
