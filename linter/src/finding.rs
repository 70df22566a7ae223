//! The record every output format renders: a finding (or an error) tied to its file and its
//! exact place, built in one way by one constructor, whoever found it (a rule of the pack or
//! a suppression check).

use serde::Serialize;

use crate::model::node::Span;
use crate::rules::{Applicability, Severity};

/// A finding tied to its file and position: the stable record every output format renders.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Finding {
    pub code: String,
    pub name: String,
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
    pub message: String,
    pub fix: Option<FixInfo>,
    /// Byte span (not serialised; renderers use it).
    #[serde(skip)]
    pub span: Span,
    /// The text edits the fix makes, for SARIF `fixes` (not in the JSON report: `--diff` shows
    /// them).
    #[serde(skip)]
    pub edits: Vec<Replacement>,
}

/// The rule a finding comes from, as the finding records it.
#[derive(Clone, Copy, Debug)]
pub struct RuleMeta<'a> {
    pub code: &'a str,
    pub name: &'a str,
    /// The severity in force (the rule's own, or the configuration's override).
    pub severity: Severity,
}

/// What in the template a finding is about.
#[derive(Clone, Debug, Default)]
pub struct About {
    /// Logical ID (empty for the template as a whole).
    pub resource: String,
    /// RFC 6901 pointer.
    pub pointer: String,
    /// CDK construct path.
    pub cdk_path: Option<String>,
}

impl Finding {
    /// The one way to make a finding: its positions come from its span through the file's
    /// line index, so every finding, whoever found it, agrees with the source it points at.
    pub fn new(
        rule: RuleMeta<'_>,
        file: &str,
        index: &LineIndex<'_>,
        span: Span,
        about: About,
        message: String,
    ) -> Finding {
        let (line, column) = index.position(span.start as usize);
        let (end_line, end_column) = index.position(span.end as usize);
        Finding {
            code: rule.code.to_string(),
            name: rule.name.to_string(),
            severity: rule.severity,
            file: file.to_string(),
            line,
            column,
            end_line,
            end_column,
            resource: about.resource,
            pointer: about.pointer,
            cdk_path: about.cdk_path,
            message,
            fix: None,
            span,
            edits: Vec::new(),
        }
    }

    /// Adds what `--fix` can do about it, and the fix's text edits when they were rendered.
    pub fn with_fix(mut self, fix: Option<FixInfo>, edits: Vec<Replacement>) -> Finding {
        self.fix = fix;
        self.edits = edits;
        self
    }
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
    pub text: String,
}

/// What `--fix` could do about a finding.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FixInfo {
    /// `safe`, `unsafe` or `display-only`.
    pub applicability: Applicability,
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
    pub errors: Vec<FileError>,
    /// The file's text, kept when human output will render snippets from it. The sink renders
    /// them, after the baseline has dropped the findings it knows: a rendering made in the
    /// worker, before that, showed baselined findings the summary no longer counted.
    pub source: Option<std::sync::Arc<str>>,
}

impl FileReport {
    /// Adds an error about the file as a whole, found after the file was linted (fixing or
    /// writing it failed). It has no place in the source.
    pub fn push_error(&mut self, message: String, help: Option<String>) -> &FileError {
        self.errors.push(FileError {
            file: self.file.clone(),
            line: None,
            column: None,
            message,
            help,
            span: None,
        });
        &self.errors[self.errors.len() - 1]
    }
}

/// Byte offsets to 1-based line and character columns.
///
/// Columns count characters, so non-ASCII text needs characters counted up to the offset;
/// counting from the line start for every finding would make a minified (one-line) template
/// quadratic. Instead, the characters before every `CHECKPOINT`th byte are counted once, and
/// a position counts at most that many bytes. The tables are built on the first position
/// asked: most files of a linted tree have no finding and never need them.
pub struct LineIndex<'a> {
    text: &'a str,
    tables: std::cell::OnceCell<Tables>,
}

struct Tables {
    starts: Vec<usize>,
    /// `(byte offset, characters before it)` at char boundaries about `CHECKPOINT` bytes
    /// apart; empty for ASCII text, where a column is a byte distance.
    checkpoints: Vec<(usize, usize)>,
}

/// Bytes between two character-count checkpoints of non-ASCII text.
const CHECKPOINT: usize = 1024;

/// The byte offset where each line of `text` starts (the first is 0).
pub fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
    starts
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        LineIndex {
            text,
            tables: std::cell::OnceCell::new(),
        }
    }

    /// Line starts (and character counts, for non-ASCII text).
    fn tables(&self) -> &Tables {
        self.tables.get_or_init(|| {
            let text = self.text;
            let starts = line_starts(text);
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
            Tables {
                starts,
                checkpoints,
            }
        })
    }

    /// Characters before a byte offset (on a char boundary).
    fn chars_before(&self, checkpoints: &[(usize, usize)], offset: usize) -> usize {
        let i = checkpoints.partition_point(|&(b, _)| b <= offset) - 1;
        let (byte, chars) = checkpoints[i];
        chars + self.text[byte..offset].chars().count()
    }

    /// Line and column (both 1-based) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let Tables {
            starts,
            checkpoints,
        } = self.tables();
        let offset = offset.min(self.text.len());
        let line = starts.partition_point(|&s| s <= offset) - 1;
        let start = starts[line];
        let column = if checkpoints.is_empty() || !self.text.is_char_boundary(offset) {
            offset - start
        } else {
            self.chars_before(checkpoints, offset) - self.chars_before(checkpoints, start)
        };
        (line + 1, column + 1)
    }
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
