//! The files tap-lint reads besides templates (rule files, `.tap-lint.yaml`, baselines) are
//! loaded like templates, so every value keeps its span, then deserialised with serde; every
//! mistake is shown inside the file at the key it concerns (the cargo-deny habit). This module
//! is that one pipeline and its one error type.

// A SourceError carries the file's text for miette; it is built at most once per run, on the way
// out, so its size on the error path costs nothing worth boxing for.
#![allow(clippy::result_large_err)]

use std::fmt;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::model::node::{Node, Span};

/// Which kind of file a [`SourceError`] is about; it becomes the diagnostic's code, so users
/// can tell a broken rule folder from a broken config at a glance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Rule,
    Config,
    Baseline,
}

/// A mistake in a rule file, config or baseline, shown inside the file with miette.
#[derive(Debug)]
pub struct SourceError {
    /// What is wrong, prefixed with the file name.
    pub message: String,
    kind: FileKind,
    src: NamedSource<String>,
    span: Option<Span>,
    help: Option<String>,
}

impl SourceError {
    /// An error at a place in a file (or about the whole file when `span` is None).
    pub fn new(
        kind: FileKind,
        file: &str,
        text: &str,
        span: Option<Span>,
        message: String,
        help: Option<String>,
    ) -> Self {
        SourceError {
            message: format!("{file}: {message}"),
            kind,
            src: NamedSource::new(file, text.to_string()),
            span,
            help,
        }
    }
}

impl SourceError {
    /// The byte offset the error points at, if it points anywhere.
    pub fn span_start(&self) -> Option<usize> {
        self.span.map(|s| s.start as usize)
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SourceError {}

impl Diagnostic for SourceError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(match self.kind {
            FileKind::Rule => "tap_lint::rule_file",
            FileKind::Config => "tap_lint::run::config",
            FileKind::Baseline => "tap_lint::report::baseline",
        }))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.src)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        let label = LabeledSpan::new_with_span(Some("here".into()), span.range());
        Some(Box::new(std::iter::once(label)))
    }
}

/// A serde error placed in the document: the key path to the value it concerns.
#[derive(Debug)]
pub struct Misplaced {
    /// Keys (and list indices) from the deserialised value down to the offending one.
    pub keys: Vec<String>,
    pub message: String,
}

/// Deserialises a value, keeping the key path of any error; an unknown field's path ends at
/// that field (serde names it only in its message), so the error points at the key itself.
pub fn deserialize<T: DeserializeOwned>(json: &Json) -> Result<T, Misplaced> {
    serde_path_to_error::deserialize(json).map_err(|e| {
        let mut keys: Vec<String> = e
            .path()
            .iter()
            .map(|seg| {
                seg.to_string()
                    .trim_matches(|c| c == '[' || c == ']')
                    .to_string()
            })
            .filter(|k| k != ".")
            .collect();
        let message = e.inner().to_string();
        if let Some(field) = message
            .strip_prefix("unknown field `")
            .and_then(|m| m.split('`').next())
        {
            keys.push(field.to_string());
        }
        Misplaced { keys, message }
    })
}

/// The span of the deepest node that exists along a key path (keys are labelled at their key).
pub fn span_of(root: &Node, keys: &[String]) -> Span {
    let mut node = root;
    let mut span = root.span;
    for key in keys {
        if let Some(entry) = node.as_map().and_then(|m| m.entry(key)) {
            span = entry.key_span;
            node = &entry.value;
        } else if let Some(item) = node
            .as_seq()
            .and_then(|s| key.parse::<usize>().ok().and_then(|i| s.get(i)))
        {
            span = item.span;
            node = item;
        } else {
            break;
        }
    }
    span
}
