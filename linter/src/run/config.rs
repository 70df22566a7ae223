//! `.tap-lint.yaml`: rule selection, severities, settings, rule folders, file globs, `fail-on`.
//!
//! Parsed with the template loader so every value keeps its span, then deserialised with serde;
//! every mistake is shown inside the config file (the cargo-deny habit).

// A SourceError carries the file text for miette; it is built at most once per run, on the way
// out, so its size on the error path costs nothing worth boxing for.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{GlobSet, GlobSetBuilder};
use serde::Deserialize;
use serde_json::Value as Json;

use crate::io::absolute;
use crate::load::spanned::{FileKind, deserialize, span_of};
use crate::load::{self, Syntax};
use crate::model::node::{Node, Span};
use crate::rules::{RuleSet, Settings, Severity};

/// The file name looked for from the working directory upwards.
pub const FILE_NAME: &str = ".tap-lint.yaml";

pub use crate::load::spanned::SourceError;

fn config_error(
    file: &str,
    text: &str,
    span: Option<Span>,
    message: String,
    help: Option<String>,
) -> SourceError {
    SourceError::new(FileKind::Config, file, text, span, message, help)
}

/// The lowest severity that fails a run: one type for the configuration file and `--fail-on`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Only errors.
    Error,
    /// Warnings and errors (the default).
    #[default]
    Warning,
    /// Everything.
    Info,
    /// Never fail on findings.
    Never,
}

impl FailOn {
    /// The lowest severity that fails the run, if any does.
    pub fn threshold(self) -> Option<crate::rules::Severity> {
        use crate::rules::Severity;
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

/// The config file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Spec {
    #[serde(default)]
    select: Vec<String>,
    #[serde(default)]
    extend_select: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, Severity>,
    #[serde(default)]
    settings: BTreeMap<String, Json>,
    #[serde(default)]
    rule_folders: Vec<String>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    fail_on: Option<FailOn>,
    #[serde(default)]
    unsuppressable: Vec<String>,
}

/// A loaded config file, kept with its text and tree so later checks can point into it.
#[derive(Debug)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    text: String,
    root: Node,
    spec: Spec,
}

/// Looks for `.tap-lint.yaml` in `start` and its parents.
pub fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|p| p.is_file())
}

impl Config {
    /// Reads and deserialises a config file; unknown keys and bad values point at their line.
    pub fn load(path: &Path) -> Result<Config, SourceError> {
        let name = path.display().to_string();
        let text = crate::io::read::read_text(path).map_err(|e| {
            config_error(
                &name,
                "",
                None,
                format!("cannot read the config file: {e}"),
                None,
            )
        })?;
        let root = match load::parse(text.as_bytes(), Syntax::Yaml) {
            Ok(Node {
                value: crate::model::node::Value::Null,
                span,
            }) => Node::new(span, crate::model::node::Value::Map(Default::default())),
            Ok(root) => root,
            Err(e) => return Err(config_error(&name, &text, e.span, e.message, e.help)),
        };
        let spec: Spec = deserialize(&root.to_json()).map_err(|e| {
            let span = span_of(&root, &e.keys);
            let help = "`tap-lint init` writes a commented config with every key";
            config_error(&name, &text, Some(span), e.message, Some(help.into()))
        })?;
        Ok(Config {
            path: path.to_path_buf(),
            text,
            root,
            spec,
        })
    }

    /// An error at a key path inside this file.
    fn error(&self, keys: &[&str], message: String, help: Option<String>) -> SourceError {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_string()).collect();
        config_error(
            &self.path.display().to_string(),
            &self.text,
            Some(span_of(&self.root, &keys)),
            message,
            help,
        )
    }

    /// The folder the config lives in: rule folders and globs are relative to it.
    pub fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// Extra rule folders, resolved against the config's folder.
    pub fn rule_dirs(&self) -> Vec<PathBuf> {
        self.spec
            .rule_folders
            .iter()
            .map(|d| self.dir().join(d))
            .collect()
    }

    /// Rule settings from the config (the CLI overrides them).
    pub fn settings(&self) -> &BTreeMap<String, Json> {
        &self.spec.settings
    }

    /// `fail-on`, when set.
    pub fn fail_on(&self) -> Option<FailOn> {
        self.spec.fail_on
    }

    /// Rules selected by the config (the CLI's `--select` replaces them).
    pub fn select(&self) -> &[String] {
        &self.spec.select
    }

    /// Rules enabled on top of `select` (the CLI's `--extend-select` adds to them).
    pub fn extend_select(&self) -> &[String] {
        &self.spec.extend_select
    }

    /// Rules ignored by the config (the CLI's `--ignore` adds to them).
    pub fn ignore(&self) -> &[String] {
        &self.spec.ignore
    }

    /// Checks settings against the ones the loaded rules declare and the global ones (name and
    /// kind of value).
    pub fn check_settings(&self, rules: &RuleSet) -> Result<(), SourceError> {
        let known = rules.known_settings();
        for (key, value) in &self.spec.settings {
            if let Err((message, help)) = Settings::check(&known, key, value) {
                return Err(self.error(&["settings", key], message, help));
            }
        }
        Ok(())
    }

    /// Checks every rule key (select, extend-select, ignore, severity, unsuppressable) names a
    /// rule, code or category, then applies severities and `unsuppressable` to the rule set.
    pub fn apply(&self, set: &mut RuleSet) -> Result<(), SourceError> {
        let lists = [
            ("select", &self.spec.select),
            ("extend-select", &self.spec.extend_select),
            ("ignore", &self.spec.ignore),
            ("unsuppressable", &self.spec.unsuppressable),
        ];
        for (section, keys) in lists {
            for (i, key) in keys.iter().enumerate() {
                if !is_rule_key(set, key, section != "unsuppressable") {
                    return Err(self.error(
                        &[section, &i.to_string()],
                        format!("`{key}` is not a rule code, name or category"),
                        Some("`tap-lint rules` lists codes, names and categories".into()),
                    ));
                }
            }
        }
        for (key, severity) in &self.spec.severity {
            if !is_rule_key(set, key, true) {
                return Err(self.error(
                    &["severity", key],
                    format!("`{key}` is not a rule code, name or category"),
                    Some("`tap-lint rules` lists codes, names and categories".into()),
                ));
            }
            set.override_severity(key, *severity);
        }
        for key in &self.spec.unsuppressable {
            let codes: Vec<String> = set
                .all()
                .filter(|r| !r.is_meta() && r.matches(key))
                .map(|r| r.code.to_string())
                .collect();
            set.unsuppressable.extend(codes);
        }
        Ok(())
    }

    /// The include/exclude filter for files found by walking folders.
    pub fn file_filter(&self) -> Result<FileFilter, SourceError> {
        let build = |section: &str, globs: &[String]| -> Result<Option<GlobSet>, SourceError> {
            if globs.is_empty() {
                return Ok(None);
            }
            let mut b = GlobSetBuilder::new();
            for (i, g) in globs.iter().enumerate() {
                let glob = globset::GlobBuilder::new(g)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| {
                        self.error(
                            &[section, &i.to_string()],
                            format!("bad glob: {}", e.kind()),
                            Some("globs use `*`, `**`, `?`, `[ab]` and `{a,b}`".into()),
                        )
                    })?;
                b.add(glob);
            }
            b.build()
                .map(Some)
                .map_err(|e| self.error(&[section], e.to_string(), None))
        };
        Ok(FileFilter {
            dir: absolute(&self.dir()),
            include: build("include", &self.spec.include)?,
            exclude: build("exclude", &self.spec.exclude)?,
        })
    }
}

/// Include/exclude globs, matched against paths relative to the config's folder; a glob without
/// `/` also matches the file name alone (like `.gitignore`).
#[derive(Debug)]
pub struct FileFilter {
    dir: PathBuf,
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl FileFilter {
    /// Whether a discovered file is linted.
    pub fn accepts(&self, path: &Path) -> bool {
        let abs = absolute(path);
        let rel = abs.strip_prefix(&self.dir).unwrap_or(&abs);
        let name = Path::new(rel.file_name().unwrap_or_default());
        let hit = |set: &GlobSet| set.is_match(rel) || set.is_match(name);
        self.include.as_ref().is_none_or(hit) && !self.exclude.as_ref().is_some_and(hit)
    }
}

/// Whether `key` is a code, name or category of a loaded rule; suppressions of the meta rules
/// cannot be written, so `unsuppressable` may not name them.
fn is_rule_key(set: &RuleSet, key: &str, meta_allowed: bool) -> bool {
    set.all()
        .any(|r| (meta_allowed || !r.is_meta()) && r.matches(key))
}

/// The commented default config `tap-lint init` writes.
pub const DEFAULT_CONFIG: &str = include_str!("config_default.yaml");
