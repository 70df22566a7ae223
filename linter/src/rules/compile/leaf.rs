//! Compiling the value tests of a leaf check (`exists`, `equals`, `matches`...).

use serde_json::Value as Json;

use super::{Compiler, Result};
use crate::rules::check::{CompareOp, DatedEntry, Test};
use crate::rules::spec::{CapturesSpec, DatePassedSpec, LeafSpec};

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
        if let Some(d) = &s.date_passed {
            tests.push(self.scoped("date_passed", |c| c.date_passed(d))?);
        }
        for (key, list, expected) in [
            ("intrinsic", &s.intrinsic, true),
            ("not_intrinsic", &s.not_intrinsic, false),
        ] {
            if let Some(names) = list {
                let names = self.scoped(key, |c| c.intrinsic_names(names))?;
                tests.push(Test::Intrinsic { names, expected });
            }
        }
        Ok(tests)
    }

    /// Function names as CloudFormation spells them in the long form (`!GetAtt` is
    /// `Fn::GetAtt`, `!Ref` is `Ref`).
    fn intrinsic_names(&mut self, names: &[String]) -> Result<Vec<String>> {
        if names.is_empty() {
            return Err(self.error("list at least one function, such as `[Fn::FindInMap]`"));
        }
        for n in names {
            if !(n == "Ref" || n == "Condition" || n.starts_with("Fn::")) {
                return Err(self.error(format!(
                    "`{n}` is no intrinsic function: write the long form, `Ref` or `Fn::...` (`Fn::FindInMap`, not `!FindInMap`)"
                )));
            }
        }
        Ok(names.to_vec())
    }

    /// A list of values: written out (each may be `{setting: name}`), or `{setting: name}` for
    /// a setting whose value is the list (a policy's allowed or outdated names).
    fn literals(&mut self, key: &str, list: &Json) -> Result<Vec<Json>> {
        self.scoped(key, |c| match list {
            Json::Array(items) => items.iter().map(|v| c.literal(v)).collect(),
            other => match c.literal(other)? {
                Json::Array(items) => Ok(items),
                v => Err(c.error(format!(
                    "expected a list (or `{{setting: name}}` of a list), found {v}"
                ))),
            },
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

    fn date_passed(&mut self, d: &DatePassedSpec) -> Result<Test> {
        let as_of = self.scoped("as_of", |c| {
            let v = c.literal(&d.as_of)?;
            match v.as_str() {
                Some("today") => Ok(today()),
                Some(text) => day_of(text)
                    .map(|day| (day, text.to_string()))
                    .ok_or_else(|| c.error("`as_of` is `today` or a date written YYYY-MM-DD")),
                None => Err(c.error("`as_of` is `today` or a date written YYYY-MM-DD")),
            }
        })?;
        let dates = self.scoped("dates", |c| {
            let table = c.literal(&d.dates)?;
            let Some(map) = table.as_object() else {
                return Err(c.error("`dates` maps values to dates (YYYY-MM-DD) or to {date, ...}"));
            };
            map.iter()
                .map(|(value, entry)| c.scoped(value, |c| c.dated_entry(value, entry)))
                .collect::<Result<Vec<_>>>()
        })?;
        Ok(Test::DatePassed {
            dates,
            as_of: as_of.0,
            as_of_text: as_of.1,
        })
    }

    fn dated_entry(&mut self, value: &str, entry: &Json) -> Result<DatedEntry> {
        let (date, fields) = match entry {
            Json::String(date) => (Some(date.as_str()), None),
            Json::Object(fields) => (fields.get("date").and_then(Json::as_str), Some(fields)),
            _ => (None, None),
        };
        let Some((day, date)) = date.and_then(|d| Some((day_of(d)?, d))) else {
            return Err(self.error("a date is written YYYY-MM-DD (or `{date: YYYY-MM-DD, ...}`)"));
        };
        let mut vars = vec![("date".to_string(), date.to_string())];
        self.provides(["date", "as_of"]);
        for (k, v) in fields.into_iter().flatten().filter(|(k, _)| *k != "date") {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            self.provides([k.as_str()]);
            vars.push((k.clone(), text));
        }
        Ok(DatedEntry {
            value: value.to_string(),
            day,
            vars,
        })
    }
}

/// The run's UTC date: `as_of: today` makes a deprecation table apply as dates pass, and the
/// message names the date so a finding that appears overnight explains itself. A set
/// `SOURCE_DATE_EPOCH` (the reproducible-builds convention: seconds since 1970) stands for the
/// clock, so a build or test can fix "today" without a configuration file.
fn today() -> (i64, String) {
    let pinned = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    let secs = pinned.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let day = i64::try_from(secs / 86_400).unwrap_or(0);
    (day, civil_of(day))
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (proleptic Gregorian), if it is one.
pub(crate) fn day_of(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[usize::try_from(m - 1).ok()?] {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (the inverse of [`day_of`]).
fn civil_of(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod date_tests {
    use super::{civil_of, day_of};

    #[test]
    fn dates_round_trip_and_reject_what_is_not_a_date() {
        assert_eq!(day_of("1970-01-01"), Some(0));
        assert_eq!(day_of("2024-10-14"), Some(20_010));
        for text in ["2000-02-29", "2024-12-31", "1999-03-01", "2026-12-02"] {
            let day = day_of(text).expect("a date");
            assert_eq!(civil_of(day), text);
        }
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024-01-01x",
            "today",
        ] {
            assert_eq!(day_of(bad), None, "{bad}");
        }
    }
}
