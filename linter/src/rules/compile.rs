//! Turns a deserialised rule file into a [`Rule`], validating everything an author can get wrong.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde_json::Value as Json;

use super::check::*;
use super::placeholders;
use super::spec::{self, RuleSpec};
use super::{Assertion, Rule, Select, Settings};
use crate::load::spanned::deserialize;

mod fixes;
mod leaf;
mod relations;
mod schema;

/// A validation error: what is wrong and the key path in the rule file where it is.
#[derive(Debug)]
pub struct CompileError {
    /// Keys (and list indices) from the document root to the offending value.
    pub path: Vec<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

type Result<T> = std::result::Result<T, CompileError>;

/// Placeholders every message may use.
const BUILTIN_VARS: [&str; 10] = [
    "resource", "type", "value", "key", "path", "property", "related", "actions", "port",
    "cdk_path",
];

struct Compiler<'a> {
    at: Vec<String>,
    settings: &'a BTreeMap<String, Json>,
    bindings: BTreeSet<String>,
    /// Placeholders the rule's compiled operators fill in (`resolves` gives `{target}`...):
    /// a message may use them besides the built-in ones.
    provided: BTreeSet<String>,
}

/// Compiles a rule with the effective settings (rule defaults overridden by the user's).
pub fn compile(spec: RuleSpec, user: &Settings) -> Result<Rule> {
    let mut settings = Settings::global();
    settings.extend(spec.settings.clone());
    for (k, v) in &user.values {
        if let Some(slot) = settings.get_mut(k) {
            *slot = v.clone();
        }
    }
    let mut c = Compiler {
        at: Vec::new(),
        settings: &settings.clone(),
        bindings: BTreeSet::from(["subject".to_string()]),
        provided: BTreeSet::new(),
    };
    c.validate_identity(&spec)?;
    let types = c.scoped("select", |c| {
        c.scoped("types", |c| c.globs(&spec.select.types))
    })?;
    let precondition = match &spec.select.r#where {
        Some(w) => Some(c.scoped("select", |c| c.scoped("where", |c| c.check(w)))?),
        None => None,
    };
    let source = match &spec.select.source_matches {
        Some(re) => Some(c.scoped("select", |c| c.scoped("source_matches", |c| c.regex(re)))?),
        None => None,
    };
    if spec.assert.is_empty() {
        return Err(c.error("a rule needs at least one assertion under `assert`"));
    }
    let assertions = c.scoped("assert", |c| {
        (spec.assert.iter().enumerate())
            .map(|(i, a)| c.scoped(&i.to_string(), |c| c.assertion(a)))
            .collect::<Result<Vec<_>>>()
    })?;
    c.validate_placeholders("message", &spec.message)?;
    Ok(Rule {
        code: spec.code,
        name: spec.name,
        severity: spec.severity,
        category: spec.category,
        opt_in: spec.opt_in,
        summary: spec.summary,
        message: spec.message,
        docs: spec.docs,
        select: Select {
            types,
            precondition,
            source,
        },
        assertions,
        expected: spec.examples.fail,
        origin: None,
        source: String::new(),
        declared_settings: spec.settings.clone(),
        settings,
    })
}

impl Compiler<'_> {
    fn error(&self, message: impl Into<String>) -> CompileError {
        CompileError {
            path: self.at.clone(),
            message: message.into(),
        }
    }

    fn scoped<T>(&mut self, key: &str, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.at.push(key.to_string());
        let out = f(self);
        if out.is_ok() {
            self.at.pop();
        }
        out
    }

    fn validate_identity(&mut self, spec: &RuleSpec) -> Result<()> {
        let code_ok = spec.code.len() >= 4
            && spec
                .code
                .chars()
                .take_while(char::is_ascii_uppercase)
                .count()
                >= 2
            && spec
                .code
                .chars()
                .skip_while(char::is_ascii_uppercase)
                .all(|c| c.is_ascii_digit());
        if !code_ok {
            return self.scoped("code", |c| {
                Err(c.error("a code is capital letters then digits, such as `TAP101`"))
            });
        }
        let kebab = !spec.name.is_empty()
            && spec.name.split('-').all(|w| {
                !w.is_empty()
                    && w.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            });
        if !kebab {
            return self.scoped("name", |c| Err(c.error("a name is kebab-case that names the violation, such as `retain-deletion-policy`")));
        }
        if spec.name.starts_with("ensure-") || spec.name.starts_with("check-") {
            return self.scoped("name", |c| Err(c.error("name the violation (`bucket-without-encryption`), not the remedy (`ensure-...`)")));
        }
        Ok(())
    }

    /// Every placeholder names a built-in value, a binding or a setting the rule may use.
    fn provides(&mut self, names: impl IntoIterator<Item = impl Into<String>>) {
        self.provided.extend(names.into_iter().map(Into::into));
    }

    /// An operator whose only value is `true` (`acyclic: true`): `false` is refused with a hint
    /// at what to write instead.
    fn flag(&mut self, name: &str, value: bool, check: Check, hint: &str) -> Result<Check> {
        match value {
            true => Ok(check),
            false => self.scoped(
                name,
                |c| Err(c.error(format!("`{name}` is `true`; {hint}"))),
            ),
        }
    }

    fn validate_placeholders(&mut self, key: &str, text: &str) -> Result<()> {
        for name in placeholders::names(text) {
            let known = BUILTIN_VARS.contains(&name)
                || self.bindings.contains(name)
                || self.provided.contains(name)
                || self.settings.contains_key(name);
            if !known {
                let mut allowed: Vec<String> = BUILTIN_VARS.iter().map(|s| s.to_string()).collect();
                allowed.extend(self.bindings.iter().cloned());
                allowed.extend(self.provided.iter().cloned());
                allowed.extend(self.settings.keys().cloned());
                return self.scoped(key, |c| {
                    Err(c.error(format!(
                        "unknown placeholder `{{{name}}}`; known: {}",
                        allowed.join(", ")
                    )))
                });
            }
        }
        Ok(())
    }

    fn globs(&self, types: &[String]) -> Result<Vec<TypeGlob>> {
        if types.is_empty() {
            return Err(self.error("list at least one resource type (or `*`)"));
        }
        types
            .iter()
            .map(|t| match t.as_str() {
                "*" => Ok(TypeGlob::Any),
                _ if t.ends_with('*') && !t[..t.len() - 1].contains('*') => {
                    Ok(TypeGlob::Prefix(t[..t.len() - 1].to_string()))
                }
                _ if !t.contains('*') => Ok(TypeGlob::Exact(t.clone())),
                _ => Err(self.error(format!("`{t}`: a type glob may only end with `*`"))),
            })
            .collect()
    }

    fn path(&self, text: &str) -> Result<PathPattern> {
        if text.is_empty() {
            return Ok(PathPattern::default());
        }
        let Some(rest) = text.strip_prefix('/') else {
            return Err(self.error(format!("`{text}` is not a JSON pointer: it must start with `/` (or be empty for the current node)")));
        };
        let segs = rest
            .split('/')
            .map(|s| match s {
                "*" => Seg::Any,
                "**" => Seg::Deep,
                _ => Seg::Key(crate::model::pointer::unescape(s).into_owned()),
            })
            .collect();
        Ok(PathPattern {
            segs,
            text: text.to_string(),
        })
    }

    fn regex(&self, pattern: &str) -> Result<Regex> {
        Regex::new(pattern).map_err(|e| self.error(format!("invalid regular expression: {e}")))
    }

    /// Resolves `{setting: name}` to the setting's value.
    fn literal(&self, value: &Json) -> Result<Json> {
        if let Json::Object(map) = value
            && let (1, Some(Json::String(name))) = (map.len(), map.get("setting"))
        {
            return self.settings.get(name).cloned().ok_or_else(|| {
                self.error(format!(
                    "unknown setting `{name}`; declare it under `settings:` with a default"
                ))
            });
        }
        Ok(value.clone())
    }

    fn number(&self, value: &Json) -> Result<f64> {
        let v = self.literal(value)?;
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| self.error(format!("expected a number, found {v}")))
    }

    fn binding(&self, name: &str) -> Result<()> {
        if self.bindings.contains(name) {
            Ok(())
        } else {
            Err(self.error(format!("`{name}` is not bound here; bind it with `as: {name}` in an enclosing follow/referenced_by")))
        }
    }

    /// One assertion: its report keys split off, the rest compiled as its check.
    fn assertion(&mut self, json: &Json) -> Result<Assertion> {
        let (check, report) = match json {
            Json::Object(map) => {
                let mut check = map.clone();
                let mut report = serde_json::Map::new();
                for key in spec::REPORT_KEYS {
                    if let Some(v) = check.remove(key) {
                        report.insert(key.to_string(), v);
                    }
                }
                (Json::Object(check), Json::Object(report))
            }
            other => (other.clone(), Json::Object(serde_json::Map::new())),
        };
        let report: spec::ReportSpec = self.typed(&report)?;
        let compiled = self.check(&check)?;
        let at = (report.at.as_deref())
            .map(|p| self.scoped("at", |c| c.path(p)))
            .transpose()?;
        let fix = (report.fix.as_ref())
            .map(|f| self.scoped("fix", |c| c.fix(f)))
            .transpose()?;
        if let Some(m) = &report.message {
            self.validate_placeholders("message", m)?;
        }
        Ok(Assertion {
            check: compiled,
            message: report.message,
            at,
            fix,
            report_unknown: report.on_unknown == Some(spec::OnUnknown::Report),
        })
    }

    /// Deserialises the part of the rule file at the current key path, placing serde's errors.
    fn typed<T: serde::de::DeserializeOwned>(&self, json: &Json) -> Result<T> {
        deserialize(json).map_err(|e| {
            let mut path = self.at.clone();
            path.extend(e.keys);
            CompileError {
                path,
                message: e.message,
            }
        })
    }

    /// A check is a mapping with exactly one operator, which decides how the rest is read.
    fn check(&mut self, json: &Json) -> Result<Check> {
        let operator = self.operator(json)?;
        match operator {
            "leaf" => self.leaf(&self.typed(json)?),
            "all" => Ok(Check::All(
                self.checks("all", &self.typed::<spec::AllSpec>(json)?.all)?,
            )),
            "any" => Ok(Check::Any(
                self.checks("any", &self.typed::<spec::AnySpec>(json)?.any)?,
            )),
            "not" => {
                let inner = self.typed::<spec::NotSpec>(json)?.not;
                Ok(Check::Not(Box::new(
                    self.scoped("not", |c| c.check(&inner))?,
                )))
            }
            "if" => self.when(&self.typed(json)?),
            "on" => self.on(&self.typed(json)?),
            "each" | "some" => self.each(&self.typed(json)?),
            "by_type" => self.by_type(&self.typed(json)?),
            "follow" => {
                let op: spec::FollowOp = self.typed(json)?;
                self.scoped("follow", |c| c.follow(&op.follow))
            }
            "referenced_by" => {
                let op: spec::ReferencedByOp = self.typed(json)?;
                self.scoped("referenced_by", |c| c.referenced_by(&op.referenced_by))
            }
            "iam_allows" => {
                let op: spec::IamAllowsOp = self.typed(json)?;
                self.scoped("iam_allows", |c| c.iam_allows(&op.iam_allows))
            }
            "sg_admits" => {
                let op: spec::SgAdmitsOp = self.typed(json)?;
                self.scoped("sg_admits", |c| c.sg_admits(&op.sg_admits))
            }
            "resolves" => {
                let op: spec::ResolvesOp = self.typed(json)?;
                self.provides([
                    "target",
                    "kind",
                    "expected",
                    "suggestion",
                    "attribute",
                    "target_type",
                ]);
                self.scoped("resolves", |c| c.resolves(&op.resolves))
            }
            "acyclic" => {
                let op: spec::AcyclicOp = self.typed(json)?;
                self.provides(["cycle", "count", "next"]);
                self.flag(
                    "acyclic",
                    op.acyclic,
                    Check::Acyclic,
                    "to find resources in a cycle, use `not: {acyclic: true}`",
                )
            }
            "substituted" => {
                let op: spec::SubstitutedOp = self.typed(json)?;
                self.provides(["variable", "name", "defined_as"]);
                self.flag(
                    "substituted",
                    op.substituted,
                    Check::Substituted,
                    "to find plain `${...}` strings, use the check itself",
                )
            }
            "used" => {
                let op: spec::UsedOp = self.typed(json)?;
                let hint = "for the opposite, use `not: {used: true}`";
                self.flag("used", op.used, Check::Used, hint)
            }
            "unique" => {
                let op: spec::UniqueOp = self.typed(json)?;
                self.provides(["other"]);
                self.scoped("unique", |c| c.path(&op.unique))
                    .map(Check::Unique)
            }
            "schema" => self.schema(&self.typed(json)?),
            other => Err(self.error(format!(
                "operator `{other}` is listed but has no compiler (please report this)"
            ))),
        }
    }

    /// Which operator a check uses, after the checks that hold whatever the operator: no report
    /// keys below the top, no unknown keys, exactly one operator, and keys only where they apply.
    fn operator(&self, json: &Json) -> Result<&'static str> {
        let Json::Object(map) = json else {
            return Err(self.error(
                "a check is a mapping with one operator, such as `{path: /Properties/X, exists: true}`",
            ));
        };
        if spec::REPORT_KEYS.iter().any(|k| map.contains_key(*k)) {
            return Err(self.error(
                "`message`, `at`, `fix` and `on_unknown` belong to a top-level assertion under `assert:`",
            ));
        }
        let known = |k: &str| {
            spec::OPERATORS.contains(&k)
                || spec::LEAF_TESTS.contains(&k)
                || matches!(k, "path" | "absent" | "branches" | "check" | "then")
        };
        if let Some(k) = map.keys().find(|k| !known(k)) {
            let mut at = self.at.clone();
            at.push(k.clone());
            return Err(CompileError {
                path: at,
                message: format!(
                    "unknown field `{k}`, expected an operator ({}) or a value test ({})",
                    spec::OPERATORS.join(", "),
                    spec::LEAF_TESTS.join(", ")
                ),
            });
        }
        if map.contains_key("then") && !map.contains_key("if") {
            return Err(self.error("`then` needs an `if`"));
        }
        let leaf = map.keys().any(|k| spec::LEAF_TESTS.contains(&k.as_str()));
        let mut operators = spec::OPERATORS.iter().filter(|k| map.contains_key(**k));
        let operator = match (operators.next(), operators.next(), leaf) {
            (None, _, true) => "leaf",
            (Some(op), None, false) => op,
            (None, _, false) => {
                return Err(self.error(format!(
                    "a check needs an operator: a test on `path` ({}) or one of {}",
                    spec::LEAF_TESTS.join(", "),
                    spec::OPERATORS.join(", ")
                )));
            }
            _ => {
                return Err(self.error(
                    "a check has exactly one operator; combine several with `all:` or `any:`",
                ));
            }
        };
        if operator != "leaf" && map.contains_key("path") {
            return Err(self.error(
                "`path` belongs to value tests; `each`/`some` take the path as their value",
            ));
        }
        if map.contains_key("check") && !matches!(operator, "each" | "some" | "on") {
            return Err(self.error("`check` belongs to `each`, `some` or `on`"));
        }
        Ok(operator)
    }

    fn leaf(&mut self, s: &spec::LeafSpec) -> Result<Check> {
        let tests = self.leaf_tests(s)?;
        let path = (s.path.as_deref())
            .map(|p| self.scoped("path", |c| c.path(p)))
            .transpose()?
            .unwrap_or_default();
        Ok(Check::Leaf(Leaf {
            path,
            absent: s.absent.unwrap_or(Absent::Pass),
            branches: s.branches.unwrap_or_default(),
            tests,
        }))
    }

    fn checks(&mut self, key: &str, list: &[Json]) -> Result<Vec<Check>> {
        self.scoped(key, |c| {
            (list.iter().enumerate())
                .map(|(i, x)| c.scoped(&i.to_string(), |c| c.check(x)))
                .collect()
        })
    }

    fn when(&mut self, s: &spec::IfSpec) -> Result<Check> {
        let Some(then) = &s.then else {
            return Err(self.error("`if` needs a `then` check"));
        };
        let when = self.scoped("if", |c| c.check(&s.when))?;
        let then = self.scoped("then", |c| c.check(then))?;
        Ok(Check::If(Box::new(when), Box::new(then)))
    }

    fn on(&mut self, s: &spec::OnSpec) -> Result<Check> {
        self.scoped("on", |c| c.binding(&s.on))?;
        let Some(inner) = &s.check else {
            return Err(self.error("`on` needs a `check` to evaluate on the bound resource"));
        };
        let check = self.scoped("check", |c| c.check(inner))?;
        Ok(Check::On(s.on.clone(), Box::new(check)))
    }

    fn each(&mut self, s: &spec::EachSpec) -> Result<Check> {
        let (key, path, quantifier) = match (&s.each, &s.some) {
            (Some(p), None) => ("each", p, Quantifier::All),
            (None, Some(p)) => ("some", p, Quantifier::Any),
            _ => {
                return Err(self.error(
                    "a check has exactly one operator; combine several with `all:` or `any:`",
                ));
            }
        };
        let path = self.scoped(key, |c| c.path(path))?;
        let Some(inner) = &s.check else {
            return Err(self.error(format!("`{key}` needs a `check` to apply to each node")));
        };
        let check = self.scoped("check", |c| c.check(inner))?;
        let absent = s.absent.unwrap_or(match quantifier {
            Quantifier::All => Absent::Pass,
            Quantifier::Any => Absent::Fail,
        });
        Ok(Check::Each {
            path,
            check: Box::new(check),
            quantifier,
            absent,
        })
    }

    fn by_type(&mut self, s: &spec::ByTypeSpec) -> Result<Check> {
        let mut cases = Vec::new();
        for (glob, spec) in &s.by_type {
            let globs = self.scoped("by_type", |c| c.globs(std::slice::from_ref(glob)))?;
            let check = self.scoped("by_type", |c| c.scoped(glob, |c| c.check(spec)))?;
            cases.extend(globs.into_iter().next().map(|g| (g, check)));
        }
        Ok(Check::ByType(cases))
    }

    fn iam_allows(&mut self, iam: &spec::IamAllowsSpec) -> Result<Check> {
        if iam.actions.is_empty() || iam.actions.iter().any(|a| !a.contains(':')) {
            return self.scoped("actions", |c| {
                Err(c.error("list actions as `service:Action`, such as `kinesis:GetRecords`"))
            });
        }
        if let Some(on) = &iam.on {
            self.scoped("on", |c| c.binding(on))?;
        }
        Ok(Check::IamAllows(IamAllows {
            actions: iam.actions.clone(),
            on: iam.on.clone(),
        }))
    }

    fn sg_admits(&mut self, sg: &spec::SgAdmitsSpec) -> Result<Check> {
        self.scoped("from", |c| c.binding(&sg.from))?;
        let port = self.scoped("port", |c| {
            let p = &sg.port;
            if p.path.is_none() && p.by.is_none() && p.default.is_none() {
                return Err(c.error("give the port a `path`, a `by` lookup or a `default`"));
            }
            let by = (p.by.as_ref())
                .map(|b| {
                    let map = b.map.iter().map(|(k, v)| (k.clone(), *v)).collect();
                    Ok::<_, CompileError>((c.path(&b.path)?, map))
                })
                .transpose()?;
            Ok(Port {
                path: p.path.as_deref().map(|x| c.path(x)).transpose()?,
                by,
                default: p.default,
            })
        })?;
        Ok(Check::SgAdmits(SgAdmits {
            from: sg.from.clone(),
            from_groups: self.scoped("from_groups", |c| c.path(&sg.from_groups))?,
            groups: self.scoped("groups", |c| c.path(&sg.groups))?,
            port,
        }))
    }

    fn bind(&mut self, name: &Option<String>) -> Result<()> {
        if let Some(n) = name {
            if BUILTIN_VARS.contains(&n.as_str()) || n == "subject" {
                return self.scoped("as", |c| {
                    Err(c.error(format!("`{n}` is a reserved name; choose another")))
                });
            }
            self.bindings.insert(n.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
