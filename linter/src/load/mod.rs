//! Bytes to a span-carrying [`Node`] tree, for JSON and YAML, with hard limits against hostile input.

mod json;
pub mod spanned;
mod yaml;

use crate::model::error::LoadError;
use crate::model::node::{Node, Span};

/// Deepest nesting accepted: real templates stay under 30 levels, and the limit keeps recursion safe.
pub const MAX_DEPTH: usize = 200;
pub use crate::io::read::MAX_FILE_BYTES;
/// Most nodes a YAML file may expand to through aliases before it is treated as an alias bomb.
pub const MAX_ALIAS_NODES: usize = 1_000_000;
/// Most text (string and key bytes) YAML aliases may copy in one file. The node budget alone
/// let a 4 MiB string aliased 500 times take 2 GiB, and larger ones abort the whole run on an
/// allocation failure. Aliases may add as much text again as the largest file read
/// ([`MAX_FILE_BYTES`]), so a file's tree stays within a small multiple of the biggest accepted
/// template, while any real use of aliases (CloudFormation templates rarely have any, and repeat
/// small values when they do) stays far below it.
pub const MAX_ALIAS_BYTES: usize = MAX_FILE_BYTES;

/// The syntax a file is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// JSON (what `cdk synth` writes).
    Json,
    /// YAML, with CloudFormation short-form tags.
    Yaml,
}

/// Picks the syntax from the extension, else from the first significant character.
pub fn detect_syntax(path: &std::path::Path, text: &str) -> Syntax {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("json") => Syntax::Json,
        Some("yaml" | "yml") => Syntax::Yaml,
        _ if text.trim_start().starts_with('{') => Syntax::Json,
        _ => Syntax::Yaml,
    }
}

/// Checks size and encoding, then returns the text without a BOM (and the BOM's length, for spans).
pub fn decode(bytes: &[u8]) -> Result<(&str, usize), LoadError> {
    check_size(bytes.len())?;
    let (body, bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, 3),
        None => (bytes, 0),
    };
    match std::str::from_utf8(body) {
        Ok(text) => Ok((text, bom)),
        Err(e) => {
            let at = e.valid_up_to() + bom;
            Err(
                LoadError::at(Span::new(at, at + 1), "file is not valid UTF-8")
                    .with_help("CloudFormation templates must be UTF-8; re-save the file as UTF-8"),
            )
        }
    }
}

fn check_size(len: usize) -> Result<(), LoadError> {
    if len > MAX_FILE_BYTES {
        return Err(LoadError::whole(format!(
            "file is {} MiB, larger than the {} MiB tap-lint reads",
            len / (1024 * 1024),
            MAX_FILE_BYTES / (1024 * 1024)
        ))
        .with_help("CloudFormation accepts templates of at most 1 MB; split the stack"));
    }
    Ok(())
}

/// Parses a whole file into a tree; spans are byte offsets into `bytes` (the BOM included).
pub fn parse(bytes: &[u8], syntax: Syntax) -> Result<Node, LoadError> {
    let (text, offset) = decode(bytes)?;
    parse_body(text, offset, syntax)
}

/// [`parse`] for a file already known to be UTF-8: the lint pipeline has checked it once
/// for its own use, and checking every file twice was 2% of a lint run.
pub fn parse_text(text: &str, syntax: Syntax) -> Result<Node, LoadError> {
    let (body, offset) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, 3),
        None => (text, 0),
    };
    check_size(text.len())?;
    parse_body(body, offset, syntax)
}

fn parse_body(text: &str, offset: usize, syntax: Syntax) -> Result<Node, LoadError> {
    match syntax {
        Syntax::Json => json::parse(text, offset),
        Syntax::Yaml => yaml::parse(text, offset),
    }
}
