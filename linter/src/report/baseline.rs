//! `--baseline`/`--write-baseline`: adopt tap-lint on a legacy stack by reporting only new findings.
//!
//! A finding is keyed by file (relative to the baseline's folder), resource, rule and JSON pointer,
//! never by line, so unrelated edits do not resurrect old findings.

// A SourceError carries the file text for miette; it is built at most once per run, on the way
// out, so its size on the error path costs nothing worth boxing for.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::finding::{FileReport, Finding};
use crate::io::absolute;
use crate::load::spanned::{FileKind, SourceError, deserialize, span_of};
use crate::load::{self, Syntax};

/// The format version written and accepted.
pub const VERSION: u32 = 1;

/// What identifies a finding across edits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Key {
    /// File path relative to the baseline's folder, with `/` separators.
    pub file: String,
    /// Logical ID (empty for template-wide findings).
    pub resource: String,
    pub rule: String,
    /// RFC 6901 pointer.
    pub pointer: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    version: u32,
    findings: Vec<Key>,
}

/// Relates finding files to a baseline's folder.
#[derive(Debug, Clone)]
struct Keyer {
    dir: PathBuf,
}

impl Keyer {
    fn for_file(baseline: &Path) -> Keyer {
        let abs = absolute(baseline);
        Keyer {
            dir: abs.parent().map_or_else(PathBuf::new, Path::to_path_buf),
        }
    }

    fn file(&self, file: &str) -> String {
        let abs = absolute(Path::new(file));
        let rel = abs.strip_prefix(&self.dir).unwrap_or(&abs);
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    }

    fn key(&self, f: &Finding) -> Key {
        Key {
            file: self.file(&f.file),
            resource: f.resource.clone(),
            rule: f.code.clone(),
            pointer: f.pointer.clone(),
        }
    }
}

/// A baseline read from disk: the findings still expected, counted down as they are seen.
#[derive(Debug)]
pub struct Baseline {
    keyer: Keyer,
    remaining: BTreeMap<Key, usize>,
    files_seen: BTreeSet<String>,
    /// Findings hidden because the baseline has them.
    pub baselined: usize,
}

impl Baseline {
    /// Reads a baseline; a malformed one is an error pointing at the bad entry.
    pub fn load(path: &Path) -> Result<Baseline, SourceError> {
        let name = path.display().to_string();
        let text = crate::io::read::read_text(path).map_err(|e| {
            SourceError::new(
                FileKind::Baseline,
                &name,
                "",
                None,
                format!("cannot read the baseline: {e}"),
                Some("create it with `tap-lint --write-baseline FILE`".into()),
            )
        })?;
        let root = load::parse(text.as_bytes(), Syntax::Json).map_err(|e| {
            SourceError::new(FileKind::Baseline, &name, &text, e.span, e.message, e.help)
        })?;
        let bad = |keys: &[String], message: String| {
            SourceError::new(
                FileKind::Baseline,
                &name,
                &text,
                Some(span_of(&root, keys)),
                format!("not a tap-lint baseline: {message}"),
                Some("rewrite it with `tap-lint --write-baseline FILE`".into()),
            )
        };
        // Entries one by one, so an error about an entry (a missing field) points at that entry.
        let mut findings = Vec::new();
        if let Some(list) = root.get("findings").and_then(|f| f.as_seq()) {
            for (i, entry) in list.iter().enumerate() {
                let key: Key = deserialize(&entry.to_json()).map_err(|e| {
                    let mut keys = vec!["findings".to_string(), i.to_string()];
                    keys.extend(e.keys);
                    bad(&keys, e.message)
                })?;
                findings.push(key);
            }
        }
        let mut json = root.to_json();
        if let Some(obj) = json
            .as_object_mut()
            .filter(|o| o.get("findings").is_some_and(|f| f.is_array()))
        {
            obj.insert("findings".into(), serde_json::Value::Array(Vec::new()));
        }
        let mut doc: Document = deserialize(&json).map_err(|e| bad(&e.keys, e.message))?;
        doc.findings = findings;
        if doc.version != VERSION {
            return Err(SourceError::new(
                FileKind::Baseline,
                &name,
                &text,
                Some(span_of(&root, &["version".to_string()])),
                format!(
                    "baseline version {} is not supported (expected {VERSION})",
                    doc.version
                ),
                Some("rewrite it with `tap-lint --write-baseline FILE`".into()),
            ));
        }
        let mut remaining = BTreeMap::new();
        for key in doc.findings {
            *remaining.entry(key).or_insert(0) += 1;
        }
        Ok(Baseline {
            keyer: Keyer::for_file(path),
            remaining,
            files_seen: BTreeSet::new(),
            baselined: 0,
        })
    }

    /// Drops the findings the baseline already has from a file's report.
    pub fn filter(&mut self, report: &mut FileReport) {
        self.files_seen.insert(self.keyer.file(&report.file));
        let before = report.findings.len();
        report.findings.retain(|f| {
            let key = self.keyer.key(f);
            match self.remaining.get_mut(&key) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            }
        });
        self.baselined += before - report.findings.len();
    }

    /// Baselined findings that did not show up again in the files linted: they were fixed.
    pub fn fixed(&self) -> usize {
        self.remaining
            .iter()
            .filter(|(k, _)| self.files_seen.contains(&k.file))
            .map(|(_, n)| n)
            .sum()
    }
}

/// Collects the keys of every finding for `--write-baseline` (a few short strings per finding).
#[derive(Debug)]
pub struct BaselineWriter {
    path: PathBuf,
    keyer: Keyer,
    keys: Vec<Key>,
}

impl BaselineWriter {
    /// Prepares to write a baseline at `path`.
    pub fn new(path: &Path) -> BaselineWriter {
        BaselineWriter {
            path: path.to_path_buf(),
            keyer: Keyer::for_file(path),
            keys: Vec::new(),
        }
    }

    /// Records one file's findings.
    pub fn add(&mut self, report: &FileReport) {
        self.keys
            .extend(report.findings.iter().map(|f| self.keyer.key(f)));
    }

    /// Writes the sorted baseline atomically; returns how many findings it records.
    pub fn write(mut self) -> std::io::Result<usize> {
        self.keys.sort();
        let count = self.keys.len();
        let doc = Document {
            version: VERSION,
            findings: self.keys,
        };
        let mut bytes = serde_json::to_vec_pretty(&doc)?;
        bytes.push(b'\n');
        crate::io::write::write_atomic(&self.path, &bytes)?;
        Ok(count)
    }
}
