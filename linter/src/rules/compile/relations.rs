//! Compiling the operators about what an item refers to and what refers to it.

use serde_json::Value as Json;

use super::{Compiler, Result};
use crate::rules::check::{Absent, Check, Follow, ReferencedBy, Resolves};
use crate::rules::spec;

impl Compiler<'_> {
    pub(super) fn resolves(&self, kinds: &Json) -> Result<Check> {
        use crate::model::refs::RefKind;
        const ATTRIBUTE: &str = "attribute";
        let names: Vec<&str> = match kinds {
            Json::String(s) if s == "all" => {
                return Ok(Check::Resolves(Resolves {
                    kinds: RefKind::ALL.to_vec(),
                    attributes: true,
                }));
            }
            Json::Array(list) => list.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        let mut all: Vec<&str> = RefKind::ALL.iter().map(|k| k.name()).collect();
        all.push(ATTRIBUTE);
        let usage = || {
            self.error(format!(
                "`resolves` is `all` or a non-empty list of: {}",
                all.join(", ")
            ))
        };
        if names.is_empty() || kinds.as_array().is_some_and(|l| l.len() != names.len()) {
            return Err(usage());
        }
        let kinds = (names.iter().filter(|n| **n != ATTRIBUTE))
            .map(|n| RefKind::from_name(n).ok_or_else(usage))
            .collect::<Result<Vec<_>>>()?;
        Ok(Check::Resolves(Resolves {
            kinds,
            attributes: names.contains(&ATTRIBUTE),
        }))
    }

    pub(super) fn referenced_by(&mut self, r: &spec::ReferencedBySpec) -> Result<Check> {
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

    pub(super) fn follow(&mut self, f: &spec::FollowSpec) -> Result<Check> {
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
}
