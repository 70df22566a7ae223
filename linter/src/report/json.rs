//! `--format json`: one stable document, streamed so memory stays flat on huge runs.

use std::io::{self, Write};

use serde::Serialize;

use super::Summary;
use crate::finding::{FileError, FileReport};

/// The schema version of the JSON document; bump on any incompatible change.
pub const VERSION: u32 = 1;

/// Writes `{"version":1,"findings":[...],"errors":[...],"summary":{...}}` incrementally.
pub struct JsonWriter<W: Write> {
    out: W,
    first: bool,
    errors: Vec<FileError>,
}

impl<W: Write> JsonWriter<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        write!(out, "{{\n  \"version\": {VERSION},\n  \"findings\": [")?;
        Ok(JsonWriter {
            out,
            first: true,
            errors: Vec::new(),
        })
    }

    /// Adds one file's findings (errors are written after all findings).
    pub fn file(&mut self, report: &FileReport) -> io::Result<()> {
        for f in &report.findings {
            if !self.first {
                self.out.write_all(b",")?;
            }
            self.first = false;
            self.out.write_all(b"\n    ")?;
            serde_json::to_writer(&mut self.out, f)?;
        }
        self.errors.extend(report.errors.iter().cloned());
        Ok(())
    }

    /// Ends the document with the errors and the summary.
    pub fn finish(mut self, summary: &Summary) -> io::Result<W> {
        #[derive(Serialize)]
        struct Tail<'a> {
            errors: &'a [FileError],
            summary: &'a Summary,
        }
        self.out
            .write_all(if self.first { b"]," } else { b"\n  ]," })?;
        let tail = serde_json::to_string_pretty(&Tail {
            errors: &self.errors,
            summary,
        })?;
        // Splice the tail object's fields into the open document.
        self.out
            .write_all(tail.trim_start_matches('{').as_bytes())?;
        self.out.write_all(b"\n")?;
        Ok(self.out)
    }
}
