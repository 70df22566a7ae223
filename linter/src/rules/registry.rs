//! The one registry of rules for a run: every rule loaded, of both kinds (YAML rules the engine
//! evaluates, and the engine's own suppression checks), which of them are enabled, and the
//! severity each reports at. Selection and severity overrides change flags, never the list, so a
//! suppression of a deselected rule still names a known rule, and listings, SARIF and JUnit
//! walk one list instead of branching on the kind.

use std::collections::BTreeSet;

use super::meta::{META_RULES, MetaRule};
use super::{Rule, Severity};

/// The rules of a run. Registry indexes run over the YAML rules first (sorted by code), then the
/// meta rules; findings of YAML rules carry the index of their rule.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    enabled: Vec<bool>,
    severity: Vec<Severity>,
    /// Codes of rules whose suppression is reported and ignored (config `unsuppressable`).
    pub unsuppressable: BTreeSet<String>,
}

/// One rule as listings, reports and the configuration see it, whatever its kind.
#[derive(Clone, Copy, Debug)]
pub struct Info<'a> {
    pub code: &'a str,
    pub name: &'a str,
    /// The key `select: [category]` matches; meta rules are all `suppression`.
    pub category: &'a str,
    /// The severity in force: the rule's own unless the configuration overrides it.
    pub severity: Severity,
    pub summary: &'a str,
    pub enabled: bool,
    /// Enabled only by naming it (code or name), never by a category or an empty `select`.
    pub opt_in: bool,
    pub kind: Kind<'a>,
}

/// What a rule is made of, for the few readers that need more than its metadata.
#[derive(Clone, Copy, Debug)]
pub enum Kind<'a> {
    /// A rule of the pack or a user folder: assertions the engine evaluates.
    Declarative(&'a Rule),
    /// A check built into the engine.
    Meta(&'static MetaRule),
}

/// The category every meta rule belongs to.
pub const META_CATEGORY: &str = "suppression";

impl Default for RuleSet {
    fn default() -> Self {
        RuleSet::new(Vec::new())
    }
}

impl RuleSet {
    /// A registry of these YAML rules and the meta rules at their own severity, every rule
    /// enabled but the opt-in ones.
    pub fn new(mut rules: Vec<Rule>) -> RuleSet {
        rules.sort_by(|a, b| a.code.cmp(&b.code));
        let enabled = (rules.iter().map(|r| !r.opt_in))
            .chain(META_RULES.iter().map(|_| true))
            .collect();
        let severity = rules
            .iter()
            .map(|r| r.severity)
            .chain(META_RULES.iter().map(|m| m.severity))
            .collect();
        RuleSet {
            enabled,
            severity,
            rules,
            unsuppressable: BTreeSet::new(),
        }
    }

    /// Every YAML rule loaded, enabled or not.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The YAML rule behind a finding's registry index.
    pub fn rule(&self, index: usize) -> &Rule {
        &self.rules[index]
    }

    /// The YAML rules the engine evaluates in this run, with their registry index.
    pub fn enabled_rules(&self) -> impl Iterator<Item = (usize, &Rule)> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(i, _)| self.enabled[*i])
    }

    /// Whether no YAML rule was loaded at all.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Every rule of both kinds, YAML rules first, enabled or not.
    pub fn all(&self) -> impl Iterator<Item = Info<'_>> {
        (0..self.enabled.len()).map(|i| self.info(i))
    }

    /// The rules in force for this run.
    pub fn in_force(&self) -> impl Iterator<Item = Info<'_>> {
        self.all().filter(|i| i.enabled)
    }

    fn info(&self, i: usize) -> Info<'_> {
        let (code, name, category, summary, opt_in, kind) = match self.rules.get(i) {
            Some(r) => (
                &*r.code,
                &*r.name,
                &*r.category,
                &*r.summary,
                r.opt_in,
                Kind::Declarative(r),
            ),
            None => {
                let m = &META_RULES[i - self.rules.len()];
                (
                    m.code,
                    m.name,
                    META_CATEGORY,
                    m.summary,
                    false,
                    Kind::Meta(m),
                )
            }
        };
        Info {
            code,
            name,
            category,
            summary,
            severity: self.severity[i],
            enabled: self.enabled[i],
            opt_in,
            kind,
        }
    }

    fn index_of(&self, code: &str) -> Option<usize> {
        match self.rules.binary_search_by(|r| r.code.as_str().cmp(code)) {
            Ok(i) => Some(i),
            Err(_) => META_RULES
                .iter()
                .position(|m| m.code == code)
                .map(|i| i + self.rules.len()),
        }
    }

    /// A rule of either kind by code (any case) or name, enabled or not.
    pub fn find(&self, key: &str) -> Option<Info<'_>> {
        self.all()
            .find(|r| r.code.eq_ignore_ascii_case(key) || r.name == key)
    }

    /// Whether a rule with this exact code is enabled.
    pub fn is_enabled(&self, code: &str) -> bool {
        self.index_of(code).is_some_and(|i| self.enabled[i])
    }

    /// The severity a rule's findings report at (a rule not loaded reports at none: `None`).
    pub fn severity(&self, code: &str) -> Option<Severity> {
        self.index_of(code).map(|i| self.severity[i])
    }

    /// The severity findings of the YAML rule at this registry index report at.
    pub fn severity_at(&self, index: usize) -> Severity {
        self.severity[index]
    }

    /// Whether a configuration or CLI key names any rule: its code, name or category.
    pub fn knows(&self, key: &str) -> bool {
        self.all().any(|r| r.matches(key))
    }

    /// Enables exactly the rules `keep` accepts.
    pub fn select(&mut self, mut keep: impl FnMut(&Info<'_>) -> bool) {
        let flags: Vec<bool> = self.all().map(|r| keep(&r)).collect();
        self.enabled = flags;
    }

    /// Reports every rule `key` matches at `severity`; returns how many it matched.
    pub fn override_severity(&mut self, key: &str, severity: Severity) -> usize {
        let hits: Vec<usize> = (0..self.enabled.len())
            .filter(|&i| self.info(i).matches(key))
            .collect();
        for &i in &hits {
            self.severity[i] = severity;
        }
        hits.len()
    }

    /// Adds YAML rules (user folders) to the registry. Indexes are re-sorted by code, so the
    /// flags of the rules already there are carried over by code: a selection or override made
    /// before stays in force, and the new rules start enabled at their own severity.
    pub(super) fn push_rules(&mut self, rules: Vec<Rule>) {
        let before: std::collections::HashMap<String, (bool, Severity)> = self
            .all()
            .map(|i| (i.code.to_string(), (i.enabled, i.severity)))
            .collect();
        let mut all = std::mem::take(&mut self.rules);
        all.extend(rules);
        let unsuppressable = std::mem::take(&mut self.unsuppressable);
        *self = RuleSet::new(all);
        self.unsuppressable = unsuppressable;
        let codes: Vec<String> = self.all().map(|i| i.code.to_string()).collect();
        for (i, code) in codes.iter().enumerate() {
            if let Some(&(enabled, severity)) = before.get(code) {
                self.enabled[i] = enabled;
                self.severity[i] = severity;
            }
        }
    }
}

impl Info<'_> {
    /// Whether a configuration or CLI key selects this rule: its code (any case), name or category.
    pub fn matches(&self, key: &str) -> bool {
        self.names(key) || self.category == key
    }

    /// Whether `key` is this rule's code (any case) or name: the only keys that enable an
    /// opt-in rule.
    pub fn names(&self, key: &str) -> bool {
        self.code.eq_ignore_ascii_case(key) || self.name == key
    }

    /// Whether a `select` list (empty: the default set) enables this rule.
    pub fn selected_by(&self, select: &[impl AsRef<str>]) -> bool {
        if self.opt_in {
            select.iter().any(|k| self.names(k.as_ref()))
        } else {
            select.is_empty() || select.iter().any(|k| self.matches(k.as_ref()))
        }
    }

    /// Whether the engine implements this rule itself (no YAML, no examples).
    pub fn is_meta(&self) -> bool {
        matches!(self.kind, Kind::Meta(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Settings;

    fn pack() -> RuleSet {
        match RuleSet::builtin(&Settings::defaults()) {
            Ok(set) => set,
            Err(e) => panic!("the embedded pack loads: {e}"),
        }
    }

    #[test]
    fn selection_keeps_deselected_rules_known() {
        let mut set = pack();
        set.select(|r| r.code == "TAP101");
        let enabled: Vec<&str> = set.in_force().map(|r| r.code).collect();
        assert_eq!(enabled, ["TAP101"]);
        assert_eq!(set.enabled_rules().count(), 1);
        let meta = set.find("unused-suppression").map(|r| (r.code, r.enabled));
        assert_eq!(meta, Some(("TAP002", false)));
        assert!(set.find("TAP201").is_some_and(|r| !r.enabled));
        assert!(set.knows("suppression") && set.knows("security"));
        assert!(!set.knows("no-such-rule"));
    }

    #[test]
    fn opt_in_rules_need_their_code_or_name() {
        let mut set = pack();
        let opt_in = set
            .find("TAP329")
            .map(|r| (r.opt_in, r.enabled, r.category));
        assert_eq!(opt_in, Some((true, false, "reliability")));
        assert!(set.find("TAP304").is_some_and(|r| r.enabled && !r.opt_in));
        let by = |set: &RuleSet, keys: &[&str], code: &str| {
            set.find(code).is_some_and(|r| r.selected_by(keys))
        };
        // An empty selection and a category leave it off; its code or name turn it on.
        assert!(!by(&set, &[], "TAP329") && by(&set, &[], "TAP304"));
        assert!(!by(&set, &["reliability"], "TAP329"));
        assert!(by(&set, &["TAP329"], "TAP329") && by(&set, &["database-not-multi-az"], "TAP329"));
        set.select(|r| r.selected_by(&["tap329"]));
        let enabled: Vec<&str> = set.in_force().map(|r| r.code).collect();
        assert_eq!(enabled, ["TAP329"]);
    }

    #[test]
    fn overrides_by_category_reach_only_that_category() {
        let mut set = pack();
        let before = set.severity("TAP101");
        let hits = set.override_severity("suppression", Severity::Info);
        assert_eq!(hits, META_RULES.len());
        assert!(
            META_RULES
                .iter()
                .all(|m| set.severity(m.code) == Some(Severity::Info))
        );
        assert_eq!(set.severity("TAP101"), before);
        assert_eq!(set.severity("TAP999"), None);
    }

    /// TAP101's YAML with its code and name replaced, parsed as a user rule.
    fn renamed_tap101(set: &RuleSet, code: &str, name: &str) -> Rule {
        let Some(Kind::Declarative(rule)) = set.find("TAP101").map(|r| r.kind) else {
            panic!("TAP101 is a YAML rule");
        };
        let text = match &rule.origin {
            Some(p) => std::fs::read_to_string(p).unwrap_or_default(),
            None => crate::rules::embedded::RULES
                .iter()
                .find(|(n, _)| format!("rules/{n}") == rule.source)
                .map(|(_, t)| t.to_string())
                .unwrap_or_default(),
        };
        let text = text
            .replacen("TAP101", code, 1)
            .replacen(&rule.name, name, 1);
        match crate::rules::parse_rule("mine.yaml", &text, &Settings::defaults()) {
            Ok(parsed) => parsed,
            Err(e) => panic!("the renamed rule parses: {}", e.message),
        }
    }

    #[test]
    fn a_yaml_rule_may_not_take_a_meta_rule_code() {
        let mut set = pack();
        let parsed = renamed_tap101(&set, "TAP002", "my-own-name");
        let err = set.extend(vec![parsed]).err().map(|e| e.message);
        assert_eq!(
            err.as_deref(),
            Some(
                "mine.yaml: rule TAP002 my-own-name takes the code or name of the engine's suppression rule TAP002 unused-suppression"
            )
        );
    }

    #[test]
    fn adding_rules_keeps_the_selection_and_overrides_made_before() {
        let mut set = pack();
        let mine = renamed_tap101(&set, "USR001", "my-rule");
        let own = mine.severity;
        set.select(|r| r.code != "TAP201");
        set.override_severity("TAP101", Severity::Info);
        assert_eq!(set.extend(vec![mine]).err().map(|e| e.message), None);
        assert!(set.find("TAP201").is_some_and(|r| !r.enabled));
        assert_eq!(set.severity("TAP101"), Some(Severity::Info));
        assert!(set.find("USR001").is_some_and(|r| r.enabled));
        assert_eq!(set.severity("USR001"), Some(own));
    }
}
