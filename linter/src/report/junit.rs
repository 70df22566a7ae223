//! `--format junit`: one test suite per template, one test case per rule, findings as failures.

use std::io::{self, Write};

use crate::finding::{FileReport, Finding};
use crate::rules::RuleSet;

/// Writes a JUnit XML document, one `<testsuite>` per file as it arrives.
pub struct JunitWriter<W: Write> {
    out: W,
    /// (code, name) of every rule a template is tested against.
    rules: Vec<(String, String)>,
}

impl<W: Write> JunitWriter<W> {
    /// Starts the document; every template is tested against the rules in force and meta rules.
    pub fn new(mut out: W, rules: &RuleSet) -> io::Result<Self> {
        let mut list: Vec<(String, String)> = rules
            .in_force()
            .map(|r| (r.code.to_string(), r.name.to_string()))
            .collect();
        list.sort();
        writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(out, "<testsuites name=\"tap-lint\">")?;
        Ok(JunitWriter { out, rules: list })
    }

    /// Writes one template's test suite.
    pub fn file(&mut self, report: &FileReport) -> io::Result<()> {
        let file = escape(&report.file);
        let failed = self
            .rules
            .iter()
            .filter(|(code, _)| report.findings.iter().any(|f| &f.code == code))
            .count();
        let errors = usize::from(!report.errors.is_empty());
        writeln!(
            self.out,
            "  <testsuite name=\"{file}\" tests=\"{}\" failures=\"{failed}\" errors=\"{errors}\" skipped=\"0\">",
            self.rules.len() + errors
        )?;
        if !report.errors.is_empty() {
            let text: Vec<String> = report
                .errors
                .iter()
                .map(|e| {
                    let at = e
                        .line
                        .map_or_else(String::new, |l| format!("{l}:{}: ", e.column.unwrap_or(1)));
                    let help = e
                        .help
                        .as_ref()
                        .map_or_else(String::new, |h| format!(" (help: {h})"));
                    format!("{at}{}{help}", e.message)
                })
                .collect();
            writeln!(
                self.out,
                "    <testcase classname=\"{file}\" name=\"load\">\n      <error message=\"{}\">{}</error>\n    </testcase>",
                escape(&report.errors[0].message),
                escape(&text.join("\n"))
            )?;
        }
        for (code, name) in &self.rules {
            let findings: Vec<&Finding> =
                report.findings.iter().filter(|f| &f.code == code).collect();
            let case = format!(
                "classname=\"{file}\" name=\"{} {}\"",
                escape(code),
                escape(name)
            );
            let Some(worst) = findings.iter().map(|f| f.severity).max() else {
                writeln!(self.out, "    <testcase {case}/>")?;
                continue;
            };
            let body: Vec<String> = findings
                .iter()
                .map(|f| {
                    format!(
                        "{}:{}:{}: {} [{}] {}",
                        f.file, f.line, f.column, f.resource, f.pointer, f.message
                    )
                })
                .collect();
            writeln!(
                self.out,
                "    <testcase {case}>\n      <failure message=\"{} finding(s)\" type=\"{}\">{}</failure>\n    </testcase>",
                findings.len(),
                worst.as_str(),
                escape(&body.join("\n"))
            )?;
        }
        writeln!(self.out, "  </testsuite>")
    }

    pub fn finish(mut self) -> io::Result<W> {
        writeln!(self.out, "</testsuites>")?;
        Ok(self.out)
    }
}

/// Escapes text for XML attributes and content; characters XML 1.0 cannot carry become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push_str(&format!("&#{};", c as u32)),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
