//! `--statistics`: how many findings each rule produced, most frequent first.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::finding::FileReport;
use crate::rules::Applicability;

/// Per-rule counts, collected as files stream past (a few bytes per rule, never per finding).
#[derive(Debug, Default)]
pub struct Statistics {
    /// Code to (name, findings, findings with an automatic fix).
    counts: BTreeMap<String, (String, usize, usize)>,
}

impl Statistics {
    /// Counts one file's findings.
    pub fn add(&mut self, report: &FileReport) {
        for f in &report.findings {
            let entry = self
                .counts
                .entry(f.code.clone())
                .or_insert_with(|| (f.name.clone(), 0, 0));
            entry.1 += 1;
            if f.fix
                .as_ref()
                .is_some_and(|x| x.applicability != Applicability::DisplayOnly)
            {
                entry.2 += 1;
            }
        }
    }

    /// Writes `count  code  name  [*]` lines, most frequent first, ties by code.
    pub fn write(&self, mut out: impl Write) -> io::Result<()> {
        let mut rows: Vec<_> = self.counts.iter().collect();
        rows.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(b.0)));
        let width = rows
            .iter()
            .map(|r| r.1.1.to_string().len())
            .max()
            .unwrap_or(1);
        for (code, (name, count, fixable)) in rows {
            let mark = if *fixable > 0 { " [*]" } else { "" };
            writeln!(out, "{count:>width$}  {code:<7} {name}{mark}")?;
        }
        if self.counts.values().any(|c| c.2 > 0) {
            writeln!(
                out,
                "[*] some findings of this rule are fixable with `--fix`"
            )?;
        }
        Ok(())
    }
}
