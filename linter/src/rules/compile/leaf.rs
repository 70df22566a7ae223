//! Compiling the value tests of a leaf check (`exists`, `equals`, `matches`...).

use serde_json::Value as Json;

use super::{Compiler, Result};
use crate::rules::check::{CompareOp, Test};
use crate::rules::spec::{CapturesSpec, LeafSpec};

impl Compiler<'_> {
    pub(super) fn leaf_tests(&mut self, s: &LeafSpec) -> Result<Vec<Test>> {
        let mut tests = Vec::new();
        if let Some(e) = s.exists {
            tests.push(Test::Exists(e));
        }
        if let Some(v) = &s.equals {
            tests.push(Test::Equals(self.scoped("equals", |c| c.literal(v))?));
        }
        if let Some(v) = &s.not_equals {
            tests.push(Test::NotEquals(
                self.scoped("not_equals", |c| c.literal(v))?,
            ));
        }
        if let Some(list) = &s.not_one_of {
            tests.push(Test::NotOneOf(self.literals("not_one_of", list)?));
        }
        if let Some(list) = &s.one_of {
            tests.push(Test::OneOf(self.literals("one_of", list)?));
        }
        if let Some(r) = &s.matches {
            tests.push(Test::Matches(self.scoped("matches", |c| c.regex(r))?));
        }
        if let Some(r) = &s.not_matches {
            tests.push(Test::NotMatches(
                self.scoped("not_matches", |c| c.regex(r))?,
            ));
        }
        if let Some(v) = &s.contains {
            tests.push(Test::Contains(self.scoped("contains", |c| c.literal(v))?));
        }
        for (key, value, op) in [
            ("gt", &s.gt, CompareOp::Gt),
            ("gte", &s.gte, CompareOp::Gte),
            ("lt", &s.lt, CompareOp::Lt),
            ("lte", &s.lte, CompareOp::Lte),
        ] {
            if let Some(v) = value {
                tests.push(Test::Compare(op, self.scoped(key, |c| c.number(v))?));
            }
        }
        if let Some(expected) = s.mentions_suffix {
            tests.push(self.mentions_suffix(expected));
        }
        if let Some(k) = s.known {
            tests.push(Test::Known(k));
        }
        if let Some(r) = &s.key_matches {
            tests.push(Test::KeyMatches(
                self.scoped("key_matches", |c| c.regex(r))?,
            ));
        }
        if let Some(cap) = &s.captures {
            tests.push(self.scoped("captures", |c| c.captures(cap))?);
        }
        if let Some(v) = &s.opens_any_port {
            let ports = self.scoped("opens_any_port", |c| c.ports(v))?;
            tests.push(Test::OpensAnyPort(ports));
        }
        if let Some(n) = s.nonempty {
            tests.push(Test::Nonempty(n));
        }
        Ok(tests)
    }

    fn literals(&mut self, key: &str, list: &[Json]) -> Result<Vec<Json>> {
        self.scoped(key, |c| {
            list.iter()
                .map(|v| c.literal(v))
                .collect::<Result<Vec<_>>>()
        })
    }

    /// The suffix test reads the global naming settings at compile time, so a `--set` changes
    /// what every naming rule accepts without recompiling anything per resource.
    fn mentions_suffix(&self, expected: bool) -> Test {
        let parameter = self
            .settings
            .get("suffix_parameter")
            .and_then(Json::as_str)
            .unwrap_or("EnvironmentSuffix")
            .to_string();
        let literal = self
            .settings
            .get("env_suffix")
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        Test::MentionsSuffix {
            expected,
            parameter,
            literal,
        }
    }

    fn captures(&mut self, cap: &CapturesSpec) -> Result<Test> {
        let regex = self.scoped("regex", |c| c.regex(&cap.regex))?;
        let allowed = self.scoped("all_in", |c| {
            let v = c.literal(&cap.all_in)?;
            let list = v.as_array().cloned().unwrap_or_else(|| vec![v.clone()]);
            list.iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| c.error("`all_in` is a list of strings"))
                })
                .collect::<Result<Vec<_>>>()
        })?;
        Ok(Test::Captures { regex, allowed })
    }

    fn ports(&mut self, v: &Json) -> Result<Vec<u16>> {
        let v = self.literal(v)?;
        let list = v.as_array().cloned().unwrap_or_else(|| vec![v.clone()]);
        list.iter()
            .map(|p| {
                p.as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .ok_or_else(|| self.error("ports are numbers from 0 to 65535"))
            })
            .collect()
    }
}
