//! The rules built into the engine rather than written in YAML: the suppression checks, which
//! judge `Metadata`, not resources, and so cannot be expressed as resource assertions. They live
//! beside the YAML rules so the one registry ([`super::RuleSet`]) lists, selects and re-grades
//! both kinds alike.

use super::Severity;

/// A rule implemented by the engine itself (not a YAML rule), so it can judge suppressions.
#[derive(Clone, Copy, Debug)]
pub struct MetaRule {
    pub code: &'static str,
    /// Kebab-case name.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line for listings.
    pub summary: &'static str,
    /// What it detects.
    pub what: &'static str,
    pub why: &'static str,
    /// How to fix it.
    pub fix: &'static str,
}

/// Code of the meta rule for a suppression without a reason.
pub const MISSING_REASON: &str = "TAP001";
/// Code of the meta rule for a suppression that matched nothing.
pub const UNUSED: &str = "TAP002";
/// Code of the meta rule for a suppression naming a rule that does not exist.
pub const UNKNOWN_RULE: &str = "TAP003";
/// Code of the meta rule for a suppression of a rule the config forbids suppressing.
pub const FORBIDDEN: &str = "TAP004";
/// Code of the meta rule for a `tap-lint` metadata block of the wrong shape.
pub const MALFORMED: &str = "TAP005";

/// The meta rules, in code order: `tap-lint explain`, `rules`, SARIF and config know them.
pub const META_RULES: [MetaRule; 5] = [
    MetaRule {
        code: MISSING_REASON,
        name: "suppression-without-reason",
        severity: Severity::Warning,
        summary: "A suppression must say why the finding is acceptable",
        what: "A `tap-lint` ignore entry without a `reason`, or with an empty one. The suppression is not honoured: the original finding is reported too.",
        why: "A suppression without a reason cannot be reviewed and outlives the decision behind it.",
        fix: "Add `reason: \"...\"` to the entry, saying why the finding is acceptable here.",
    },
    MetaRule {
        code: UNUSED,
        name: "unused-suppression",
        severity: Severity::Warning,
        summary: "A suppression matches no finding",
        what: "A `tap-lint` ignore entry for a rule in force that reported nothing on the resource (or, template-wide, in the template).",
        why: "Stale suppressions rot: they hide the next real finding of the same rule.",
        fix: "Delete the entry.",
    },
    MetaRule {
        code: UNKNOWN_RULE,
        name: "suppression-of-unknown-rule",
        severity: Severity::Error,
        summary: "A suppression names a rule that does not exist",
        what: "A `tap-lint` ignore entry whose `rule` is neither a rule code nor a rule name.",
        why: "A typo in a suppression silently suppresses nothing.",
        fix: "Use a code or name from `tap-lint rules`.",
    },
    MetaRule {
        code: FORBIDDEN,
        name: "unsuppressable-rule-suppressed",
        severity: Severity::Error,
        summary: "The configuration forbids suppressing this rule",
        what: "A `tap-lint` ignore entry for a rule listed under `unsuppressable` in `.tap-lint.yaml`. The suppression is ignored and the finding reported.",
        why: "A central team can make guardrails that individual stacks cannot opt out of.",
        fix: "Fix the finding, or ask the owners of the configuration for an exception.",
    },
    MetaRule {
        code: MALFORMED,
        name: "malformed-suppression",
        severity: Severity::Error,
        summary: "A `tap-lint` metadata block has the wrong shape",
        what: "`Metadata.tap-lint` that is not `{ignore: [{rule: ..., reason: ...}]}`.",
        why: "A suppression tap-lint cannot read suppresses nothing.",
        fix: "Write `Metadata: {tap-lint: {ignore: [{rule: <code or name>, reason: \"...\"}]}}`.",
    },
];
