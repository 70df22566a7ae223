//! Turns a deserialised rule file into a [`Rule`], validating everything an author can get wrong.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde_json::Value as Json;

use super::check::*;
use super::spec::{self, CheckSpec, RuleSpec};
use super::{Assertion, Rule, Select, Settings};

mod fixes;
mod leaf;

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
}

/// Compiles a rule with the effective settings (rule defaults overridden by the user's).
pub fn compile(spec: RuleSpec, user: &Settings) -> Result<Rule> {
    let mut settings = spec.settings.clone();
    for (k, v) in &user.values {
        settings.insert(k.clone(), v.clone());
    }
    for (k, v) in &Settings::defaults().values {
        settings.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let mut c = Compiler {
        at: Vec::new(),
        settings: &settings.clone(),
        bindings: BTreeSet::from(["subject".to_string()]),
    };
    c.validate_identity(&spec)?;
    let types = c.scoped("select", |c| {
        c.scoped("types", |c| c.globs(&spec.select.types))
    })?;
    let precondition = match &spec.select.r#where {
        Some(w) => Some(c.scoped("select", |c| c.scoped("where", |c| c.check(w)))?),
        None => None,
    };
    if spec.assert.is_empty() {
        return Err(c.error("a rule needs at least one assertion under `assert`"));
    }
    let mut assertions = Vec::new();
    for (i, a) in spec.assert.iter().enumerate() {
        let assertion = c.scoped("assert", |c| {
            c.scoped(&i.to_string(), |c| {
                let check = c.check(a)?;
                let at =
                    a.at.as_deref()
                        .map(|p| c.scoped("at", |c| c.path(p)))
                        .transpose()?;
                if let Some(fix) = &a.fix {
                    c.scoped("fix", |c| c.validate_fix(fix))?;
                }
                Ok(Assertion {
                    check,
                    message: a.message.clone(),
                    at,
                    fix: a.fix.clone(),
                    report_unknown: a.on_unknown == Some(spec::OnUnknown::Report),
                })
            })
        })?;
        assertions.push(assertion);
    }
    c.validate_placeholders("message", &spec.message, &spec.settings)?;
    for (i, a) in spec.assert.iter().enumerate() {
        if let Some(m) = &a.message {
            c.scoped("assert", |c| {
                c.scoped(&i.to_string(), |c| {
                    c.validate_placeholders("message", m, &spec.settings)
                })
            })?;
        }
    }
    Ok(Rule {
        code: spec.code,
        name: spec.name,
        severity: spec.severity,
        category: spec.category,
        summary: spec.summary,
        message: spec.message,
        docs: spec.docs,
        select: Select {
            types,
            precondition,
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

    fn validate_placeholders(
        &mut self,
        key: &str,
        text: &str,
        settings: &BTreeMap<String, Json>,
    ) -> Result<()> {
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                return self.scoped(key, |c| Err(c.error("unclosed `{` in the message")));
            };
            let name = &rest[open + 1..open + close];
            let known = BUILTIN_VARS.contains(&name)
                || self.bindings.contains(name)
                || settings.contains_key(name)
                || Settings::defaults().values.contains_key(name);
            if !known {
                let mut allowed: Vec<String> = BUILTIN_VARS.iter().map(|s| s.to_string()).collect();
                allowed.extend(self.bindings.iter().cloned());
                return self.scoped(key, |c| {
                    Err(c.error(format!(
                        "unknown placeholder `{{{name}}}`; known: {}",
                        allowed.join(", ")
                    )))
                });
            }
            rest = &rest[open + close + 1..];
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
                _ => Seg::Key(s.replace("~1", "/").replace("~0", "~")),
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

    fn check(&mut self, s: &CheckSpec) -> Result<Check> {
        let top_level = self.at.len() == 2 && self.at[0] == "assert";
        let assertion_only =
            s.message.is_some() || s.at.is_some() || s.fix.is_some() || s.on_unknown.is_some();
        if !top_level && assertion_only {
            return Err(self.error(
                "`message`, `at`, `fix` and `on_unknown` belong to a top-level assertion under `assert:`",
            ));
        }
        if s.then.is_some() && s.when.is_none() {
            return Err(self.error("`then` needs an `if`"));
        }
        let groups = [
            s.all.is_some(),
            s.any.is_some(),
            s.not.is_some(),
            s.when.is_some(),
            s.on.is_some(),
            s.each.is_some(),
            s.some.is_some(),
            s.by_type.is_some(),
            s.follow.is_some(),
            s.referenced_by.is_some(),
            s.iam_allows.is_some(),
            s.sg_admits.is_some(),
        ];
        let leaf_tests = self.leaf_tests(s)?;
        let n = groups.iter().filter(|g| **g).count() + usize::from(!leaf_tests.is_empty());
        if n != 1 {
            return Err(self.error(if n == 0 {
                "a check needs an operator: a test on `path` (exists, equals, not_equals, one_of, not_one_of, matches, not_matches, contains, gt/gte/lt/lte, mentions_suffix, known, key_matches, captures, opens_any_port, nonempty) or one of all, any, not, if/then, on, each, some, by_type, follow, referenced_by, iam_allows, sg_admits"
            } else {
                "a check has exactly one operator; combine several with `all:` or `any:`"
            }));
        }
        if !leaf_tests.is_empty() {
            let path = s
                .path
                .as_deref()
                .map(|p| self.scoped("path", |c| c.path(p)))
                .transpose()?
                .unwrap_or_default();
            return Ok(Check::Leaf(Leaf {
                path,
                absent: s.absent.unwrap_or(Absent::Pass),
                tests: leaf_tests,
            }));
        }
        if s.path.is_some() {
            return Err(self.error(
                "`path` belongs to value tests; `each`/`some` take the path as their value",
            ));
        }
        if s.check.is_some() && s.each.is_none() && s.some.is_none() && s.on.is_none() {
            return Err(self.error("`check` belongs to `each`, `some` or `on`"));
        }
        if let Some(on) = &s.on {
            self.scoped("on", |c| c.binding(on))?;
            let Some(inner) = &s.check else {
                return Err(self.error("`on` needs a `check` to evaluate on the bound resource"));
            };
            let check = self.scoped("check", |c| c.check(inner))?;
            return Ok(Check::On(on.clone(), Box::new(check)));
        }
        if let Some(list) = s.all.as_ref().or(s.any.as_ref()) {
            let key = if s.all.is_some() { "all" } else { "any" };
            let checks = self.scoped(key, |c| {
                list.iter()
                    .enumerate()
                    .map(|(i, x)| c.scoped(&i.to_string(), |c| c.check(x)))
                    .collect::<Result<Vec<_>>>()
            })?;
            return Ok(if s.all.is_some() {
                Check::All(checks)
            } else {
                Check::Any(checks)
            });
        }
        if let Some(inner) = &s.not {
            return Ok(Check::Not(Box::new(
                self.scoped("not", |c| c.check(inner))?,
            )));
        }
        if let Some(when) = &s.when {
            let Some(then) = &s.then else {
                return Err(self.error("`if` needs a `then` check"));
            };
            let when = self.scoped("if", |c| c.check(when))?;
            let then = self.scoped("then", |c| c.check(then))?;
            return Ok(Check::If(Box::new(when), Box::new(then)));
        }
        if let Some((key, path, quantifier)) = s
            .each
            .as_ref()
            .map(|p| ("each", p, Quantifier::All))
            .or(s.some.as_ref().map(|p| ("some", p, Quantifier::Any)))
        {
            let path = self.scoped(key, |c| c.path(path))?;
            let Some(inner) = &s.check else {
                return Err(self.error(format!("`{key}` needs a `check` to apply to each node")));
            };
            let check = self.scoped("check", |c| c.check(inner))?;
            let absent = s.absent.unwrap_or(if quantifier == Quantifier::All {
                Absent::Pass
            } else {
                Absent::Fail
            });
            return Ok(Check::Each {
                path,
                check: Box::new(check),
                quantifier,
                absent,
            });
        }
        if let Some(map) = &s.by_type {
            let mut cases = Vec::new();
            for (glob, spec) in map {
                let globs = self.scoped("by_type", |c| c.globs(std::slice::from_ref(glob)))?;
                let check = self.scoped("by_type", |c| c.scoped(glob, |c| c.check(spec)))?;
                cases.extend(globs.into_iter().next().map(|g| (g, check)));
            }
            return Ok(Check::ByType(cases));
        }
        if let Some(f) = &s.follow {
            return self.scoped("follow", |c| c.follow(f));
        }
        if let Some(r) = &s.referenced_by {
            return self.scoped("referenced_by", |c| c.referenced_by(r));
        }
        if let Some(iam) = &s.iam_allows {
            return self.scoped("iam_allows", |c| {
                if iam.actions.is_empty() || iam.actions.iter().any(|a| !a.contains(':')) {
                    return c.scoped("actions", |c| {
                        Err(c.error(
                            "list actions as `service:Action`, such as `kinesis:GetRecords`",
                        ))
                    });
                }
                if let Some(on) = &iam.on {
                    c.scoped("on", |c| c.binding(on))?;
                }
                Ok(Check::IamAllows(IamAllows {
                    actions: iam.actions.clone(),
                    on: iam.on.clone(),
                }))
            });
        }
        if let Some(sg) = &s.sg_admits {
            return self.scoped("sg_admits", |c| {
                c.scoped("from", |c| c.binding(&sg.from))?;
                let port = c.scoped("port", |c| {
                    let p = &sg.port;
                    if p.path.is_none() && p.by.is_none() && p.default.is_none() {
                        return Err(c.error("give the port a `path`, a `by` lookup or a `default`"));
                    }
                    Ok(Port {
                        path: p.path.as_deref().map(|x| c.path(x)).transpose()?,
                        by: p
                            .by
                            .as_ref()
                            .map(|b| {
                                Ok::<_, CompileError>((
                                    c.path(&b.path)?,
                                    b.map.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                                ))
                            })
                            .transpose()?,
                        default: p.default,
                    })
                })?;
                Ok(Check::SgAdmits(SgAdmits {
                    from: sg.from.clone(),
                    from_groups: c.scoped("from_groups", |c| c.path(&sg.from_groups))?,
                    groups: c.scoped("groups", |c| c.path(&sg.groups))?,
                    port,
                }))
            });
        }
        Err(self.error("unreachable: operator counted but not compiled"))
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

    fn follow(&mut self, f: &spec::FollowSpec) -> Result<Check> {
        let path = self.scoped("path", |c| c.path(&f.path))?;
        if let Some(of) = &f.of {
            self.scoped("of", |c| c.binding(of))?;
        }
        let types = self.scoped("types", |c| c.globs(&f.types))?;
        self.bind(&f.r#as)?;
        let check = f
            .check
            .as_ref()
            .map(|x| self.scoped("check", |c| c.check(x)))
            .transpose()?;
        Ok(Check::Follow(Box::new(Follow {
            path,
            of: f.of.clone(),
            types,
            bind: f.r#as.clone(),
            check,
            quantifier: f.quantifier,
            if_none: f.if_none.unwrap_or(Absent::Pass),
        })))
    }

    fn referenced_by(&mut self, r: &spec::ReferencedBySpec) -> Result<Check> {
        let types = self.scoped("types", |c| c.globs(&r.types))?;
        let path = r
            .path
            .as_deref()
            .map(|p| self.scoped("path", |c| c.path(p)))
            .transpose()?;
        self.bind(&r.r#as)?;
        let check = r
            .check
            .as_ref()
            .map(|x| self.scoped("check", |c| c.check(x)))
            .transpose()?;
        Ok(Check::ReferencedBy(Box::new(ReferencedBy {
            types,
            path,
            bind: r.r#as.clone(),
            check,
            quantifier: r.quantifier,
            if_none: r.if_none.unwrap_or(Absent::Pass),
        })))
    }
}
