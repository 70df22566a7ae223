//! Rendering findings: human (codespan snippets) and JSON; CI formats build on the same records.

pub mod baseline;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod outputs;
pub mod sarif;
pub mod statistics;

use serde::Serialize;

use crate::finding::FileReport;
use crate::rules::Severity;

/// Totals for the end of a run.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Summary {
    /// Files linted (including ones that failed to load).
    pub files: usize,
    pub findings: usize,
    /// Errors (unreadable or invalid files, skipped resources).
    pub errors: usize,
    /// Findings with severity error.
    pub error_findings: usize,
    /// Findings with severity warning.
    pub warning_findings: usize,
    /// Findings with severity info.
    pub info_findings: usize,
    /// Findings with a safe or unsafe automatic fix.
    pub fixable: usize,
}

impl Summary {
    /// Counts one file's report.
    pub fn add(&mut self, r: &FileReport) {
        self.files += 1;
        self.findings += r.findings.len();
        self.errors += r.errors.len();
        for f in &r.findings {
            match f.severity {
                Severity::Error => self.error_findings += 1,
                Severity::Warning => self.warning_findings += 1,
                Severity::Info => self.info_findings += 1,
            }
            if f.fix
                .as_ref()
                .is_some_and(|x| x.applicability != crate::rules::Applicability::DisplayOnly)
            {
                self.fixable += 1;
            }
        }
    }

    /// Findings at or above a severity.
    pub fn at_or_above(&self, level: Severity) -> usize {
        match level {
            Severity::Error => self.error_findings,
            Severity::Warning => self.error_findings + self.warning_findings,
            Severity::Info => self.findings,
        }
    }
}
