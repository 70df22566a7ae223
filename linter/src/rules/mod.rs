//! The rule pack: declarative YAML rules, embedded in the binary and extendable from folders.

// Rule-file errors carry the file's text for miette; they happen once per run at most, so their
// size does not matter and boxing them would only complicate every `?`.
#![allow(clippy::result_large_err)]

pub mod check;
mod compile;
mod files;
pub mod meta;
pub mod placeholders;
pub mod plan;
mod registry;
pub mod spec;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::load::spanned::{FileKind, SourceError, deserialize, span_of};
use crate::load::{self, Syntax};
use crate::model::node::Span;
use check::{Check, PathPattern, TypeGlob};
pub use files::is_rule_file;
pub use registry::{Info, Kind, META_CATEGORY, RuleSet};
pub use spec::{Applicability, Docs, Severity};

#[derive(Debug)]
pub struct Rule {
    pub code: String,
    /// Kebab-case name of the violation.
    pub name: String,
    /// Default severity.
    pub severity: Severity,
    /// Category for configuration.
    pub category: String,
    pub summary: String,
    /// Runs only when selected by code or name (see [`spec::RuleSpec::opt_in`]).
    pub opt_in: bool,
    /// The finding message template.
    pub message: String,
    pub docs: Docs,
    /// Which resources are subjects.
    pub select: Select,
    /// What must hold.
    pub assertions: Vec<Assertion>,
    /// Expected findings per logical ID in the failing example.
    pub expected: BTreeMap<String, usize>,
    /// The rule file on disk, when it came from one (not embedded): examples sit beside it.
    pub origin: Option<PathBuf>,
    /// The settings the rule may use (its declared ones and the global ones), with the user's
    /// values in place of the defaults.
    pub settings: BTreeMap<String, Json>,
    /// The settings the rule file declares, with their defaults; the config's and the CLI's
    /// values are checked against them.
    pub declared_settings: BTreeMap<String, Json>,
    /// Where the rule was read from (`rules/s3/x.yaml` for built-ins), for documentation links.
    pub source: String,
}

/// Subject selection.
#[derive(Debug)]
pub struct Select {
    /// Resource type globs.
    pub types: Vec<TypeGlob>,
    /// Precondition.
    pub precondition: Option<Check>,
    /// Prefilter on the template's source text (`select.source_matches`).
    pub source: Option<regex::Regex>,
}

#[derive(Debug)]
pub struct Assertion {
    pub check: Check,
    pub message: Option<String>,
    /// Report location override (a path on the subject).
    pub at: Option<PathPattern>,
    pub fix: Option<plan::Fix>,
    /// Whether an undecidable check is reported as "cannot verify".
    pub report_unknown: bool,
}

impl Rule {
    /// The best fix the rule offers (for listings and the JSON `fix` field).
    pub fn fix(&self) -> Option<&plan::Fix> {
        self.assertions
            .iter()
            .filter_map(|a| a.fix.as_ref())
            .max_by_key(|f| f.applicability)
    }
}

/// The user's setting values (CLI and config), by name. A rule sees those it declares under
/// `settings:` (with their defaults there) and the global ones; any other name is an error.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub values: BTreeMap<String, Json>,
}

impl Settings {
    /// The settings every rule may use without declaring them: how physical names carry the
    /// environment suffix, which the suffix operator (`mentions_suffix`) and several fixes share.
    pub fn global() -> BTreeMap<String, Json> {
        BTreeMap::from([
            ("suffix_parameter".into(), Json::from("EnvironmentSuffix")),
            ("env_suffix".into(), Json::Null),
        ])
    }

    /// Only the global defaults, as a user who set nothing.
    pub fn defaults() -> Settings {
        Settings::default()
    }

    /// Whether a user's value may be given for a setting: a name some rule declares (or a global
    /// one), and a value of the same kind as its default. The error is a message and a help.
    pub fn check(
        known: &BTreeMap<String, Json>,
        key: &str,
        value: &Json,
    ) -> Result<(), (String, Option<String>)> {
        let Some(default) = known.get(key) else {
            let names: Vec<&str> = known.keys().map(String::as_str).collect();
            return Err((
                format!("unknown setting `{key}`"),
                Some(format!("known settings: {}", names.join(", "))),
            ));
        };
        if same_kind(default, value) {
            Ok(())
        } else {
            let message = format!(
                "setting `{key}` must be {}, like its default {default}",
                kind(default)
            );
            Err((message, None))
        }
    }
}

impl RuleSet {
    /// Every setting a loaded rule may use, with its default: the global ones and those the
    /// rules declare (two rules declaring one name share the user's value).
    pub fn known_settings(&self) -> BTreeMap<String, Json> {
        let mut known = Settings::global();
        for r in self.rules() {
            for (k, v) in &r.declared_settings {
                known.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        known
    }
}

fn same_kind(default: &Json, value: &Json) -> bool {
    match default {
        Json::Null => true,
        Json::Array(items) => value.as_array().is_some_and(|v| match items.first() {
            Some(first) => v
                .iter()
                .all(|x| std::mem::discriminant(x) == std::mem::discriminant(first)),
            None => true,
        }),
        Json::Number(n) if n.is_u64() => value.is_u64(),
        d => std::mem::discriminant(d) == std::mem::discriminant(value),
    }
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "anything",
        Json::Bool(_) => "true or false",
        Json::Number(n) if n.is_u64() => "a whole number of at least 0",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a mapping",
    }
}

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
}

/// A rule file that could not be used, shown inside the file.
pub type RuleFileError = SourceError;

fn rule_error(
    name: &str,
    text: &str,
    span: Option<Span>,
    message: String,
    help: Option<String>,
) -> SourceError {
    SourceError::new(FileKind::Rule, name, text, span, message, help)
}

impl RuleSet {
    /// The pack shipped inside the binary.
    pub fn builtin(settings: &Settings) -> Result<RuleSet, RuleFileError> {
        let rules = embedded::RULES
            .iter()
            .map(|(name, text)| parse_rule(&format!("rules/{name}"), text, settings))
            .collect::<Result<Vec<_>, _>>()?;
        let set = RuleSet::new(rules);
        unique(set.rules())?;
        Ok(set)
    }

    /// Loads every rule file under a folder (examples and hidden files are skipped).
    pub fn load_dir(dir: &Path, settings: &Settings) -> Result<Vec<Rule>, RuleFileError> {
        if !dir.is_dir() {
            return Err(rule_error(
                &dir.display().to_string(),
                "",
                None,
                "is not a folder of rule files".into(),
                Some("pass a folder that contains rule YAML files".into()),
            ));
        }
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file() && is_rule_file(e.path()))
            .map(walkdir::DirEntry::into_path)
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|path| {
                let name = path.display().to_string();
                let text = crate::io::read::read_text(&path)
                    .map_err(|e| rule_error(&name, "", None, format!("cannot read: {e}"), None))?;
                let mut rule = parse_rule(&name, &text, settings)?;
                rule.origin = Some(path);
                Ok(rule)
            })
            .collect()
    }

    /// Adds user rules; codes and names must stay unique.
    pub fn extend(&mut self, rules: Vec<Rule>) -> Result<(), RuleFileError> {
        self.push_rules(rules);
        unique(self.rules())
    }
}

/// Codes and names are how users select, suppress and look up rules: two rules may not share one.
fn unique(rules: &[Rule]) -> Result<(), RuleFileError> {
    let mut codes: Vec<&Rule> = rules.iter().collect();
    codes.sort_by(|a, b| a.code.cmp(&b.code));
    for pair in codes.windows(2) {
        if pair[0].code == pair[1].code {
            return Err(duplicate("code", &pair[0].code, pair[1]));
        }
    }
    let mut names: Vec<&Rule> = rules.iter().collect();
    names.sort_by(|a, b| a.name.cmp(&b.name));
    for pair in names.windows(2) {
        if pair[0].name == pair[1].name {
            return Err(duplicate("name", &pair[0].name, pair[1]));
        }
    }
    for r in rules {
        if let Some(m) = meta::META_RULES
            .iter()
            .find(|m| m.code.eq_ignore_ascii_case(&r.code) || m.name == r.name)
        {
            let mut e = duplicate("code", &r.code, r);
            e.message = format!(
                "{}: rule {} {} takes the code or name of the engine's suppression rule {} {}",
                r.origin
                    .as_ref()
                    .map_or_else(|| r.source.clone(), |p| p.display().to_string()),
                r.code,
                r.name,
                m.code,
                m.name
            );
            return Err(e);
        }
    }
    Ok(())
}

fn duplicate(what: &str, value: &str, rule: &Rule) -> RuleFileError {
    let origin = rule.origin.as_ref().map_or_else(
        || format!("built-in rule {}", rule.code),
        |p| p.display().to_string(),
    );
    rule_error(
        &origin,
        "",
        None,
        format!("rule {what} `{value}` is used by two rules"),
        Some("give every rule its own code and name".into()),
    )
}

/// Parses and compiles one rule file, turning every error into one that points into the file.
pub fn parse_rule(name: &str, text: &str, settings: &Settings) -> Result<Rule, RuleFileError> {
    let root = load::parse(text.as_bytes(), Syntax::Yaml)
        .map_err(|e| rule_error(name, text, e.span, e.message, e.help))?;
    let spec: spec::RuleSpec = deserialize(&root.to_json()).map_err(|e| {
        let help = "the rule format is described in README.md, `Writing a rule`";
        let span = span_of(&root, &e.keys);
        rule_error(name, text, Some(span), e.message, Some(help.into()))
    })?;
    let mut rule = compile::compile(spec, settings).map_err(|e| {
        let span = span_of(&root, &e.path);
        rule_error(name, text, Some(span), e.message, None)
    })?;
    rule.source = name.to_string();
    Ok(rule)
}
