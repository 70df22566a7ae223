//! Why a file could not be loaded: the one problem type of loading (syntax, limits) and of
//! building the template model (shape), so the model needs nothing from the loaders.

use super::node::Span;

/// Why a file could not be loaded, with the place when there is one.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct LoadError {
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where, when the problem is at a place in the file.
    pub span: Option<Span>,
    /// How to fix it.
    pub help: Option<String>,
    /// A second place that explains the first (where a duplicate key was first written).
    pub related: Option<(Span, &'static str)>,
}

impl LoadError {
    /// An error at a place.
    pub fn at(span: Span, message: impl Into<String>) -> Self {
        LoadError {
            message: message.into(),
            span: Some(span),
            help: None,
            related: None,
        }
    }

    /// An error about the file as a whole.
    pub fn whole(message: impl Into<String>) -> Self {
        LoadError {
            message: message.into(),
            span: None,
            help: None,
            related: None,
        }
    }

    /// Adds a `help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}
