//! The rule file format, exactly as authors write it (deserialised with serde, then compiled).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;

mod operators;
pub use operators::*;

/// One rule file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Stable code such as `TAP101`; never reused for another meaning.
    pub code: String,
    /// Kebab-case name that names the violation.
    pub name: String,
    /// `error`, `warning` or `info`.
    pub severity: Severity,
    /// Grouping for configuration (`naming`, `destroyability`, `security`...).
    pub category: String,
    /// One line for listings.
    pub summary: String,
    /// A policy choice rather than a fault (multi-AZ databases, a WAF on every distribution):
    /// the rule runs only when `select` or `extend-select` names its code or name. A category
    /// does not enable it, so `select: [security]` never turns a team's optional policy into
    /// findings.
    #[serde(default)]
    pub opt_in: bool,
    /// The finding text; placeholders in braces are checked when the rule loads.
    pub message: String,
    /// Documentation shown by `tap-lint explain`.
    pub docs: Docs,
    /// Rule-specific settings and their defaults; values may be overridden from the CLI/config.
    #[serde(default)]
    pub settings: BTreeMap<String, Json>,
    /// Which resources the rule looks at.
    pub select: SelectSpec,
    /// What must hold for each selected resource; each failing assertion is a finding. Each is
    /// a check plus the [`ReportSpec`] keys, compiled by the operator it uses.
    pub assert: Vec<Json>,
    /// What the rule's own examples must produce.
    pub examples: ExamplesSpec,
}

/// How bad a finding is.
#[derive(
    Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a run unless `--fail-on info`.
    Info,
    /// Likely a problem.
    Warning,
    /// Breaks deployability, destroyability or security.
    Error,
}

impl Severity {
    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Rule documentation: what, why, examples, fix safety, references.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Docs {
    /// What the rule detects.
    pub what: String,
    /// Why it matters.
    pub why: String,
    pub bad: String,
    pub good: String,
    /// How to fix it and whether the automatic fix is safe.
    pub fix: String,
    /// Where to read more.
    #[serde(default)]
    pub references: Vec<String>,
}

/// Which resources a rule applies to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectSpec {
    /// Resource type globs (`AWS::S3::Bucket`, `Custom::*`, `*`).
    pub types: Vec<String>,
    /// A precondition check: resources for which it does not pass are not checked.
    #[serde(default)]
    pub r#where: Option<Json>,
    /// A regex the template's source text must match for the rule to look at it at all: a
    /// prefilter for rules that search every string for something most templates never write.
    #[serde(default)]
    pub source_matches: Option<String>,
}

/// The keys of an assertion that say how its failures are reported; the rest of the assertion
/// is its check. Only a top-level assertion under `assert:` may use them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    /// Replaces the rule's message for this assertion.
    pub message: Option<String>,
    /// Report at this path of the subject instead of where the check failed.
    pub at: Option<String>,
    /// The automatic fix for this assertion's failures.
    pub fix: Option<FixSpec>,
    /// `report` turns "cannot be known statically" into an info finding ("cannot verify")
    /// instead of skipping silently.
    pub on_unknown: Option<OnUnknown>,
}

/// The keys of [`ReportSpec`], split off an assertion before its check is compiled.
pub const REPORT_KEYS: [&str; 4] = ["message", "at", "fix", "on_unknown"];

/// The operator keys of a check besides the value tests; a check has exactly one operator.
pub const OPERATORS: [&str; 18] = [
    "all",
    "any",
    "not",
    "if",
    "on",
    "each",
    "some",
    "by_type",
    "follow",
    "referenced_by",
    "iam_allows",
    "sg_admits",
    "resolves",
    "acyclic",
    "substituted",
    "used",
    "unique",
    "schema",
];

/// The value tests of a leaf check: any number of them, on the nodes at one `path`.
pub const LEAF_TESTS: [&str; 21] = [
    "exists",
    "equals",
    "not_equals",
    "one_of",
    "not_one_of",
    "matches",
    "not_matches",
    "contains",
    "gt",
    "gte",
    "lt",
    "lte",
    "mentions_suffix",
    "known",
    "key_matches",
    "captures",
    "opens_any_port",
    "nonempty",
    "date_passed",
    "intrinsic",
    "not_intrinsic",
];

/// A leaf check: value tests on the nodes at `path`, which must all hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeafSpec {
    /// JSON pointer relative to the current node; `*` matches every element, `**` every descendant.
    pub path: Option<String>,
    /// Outcome when the path does not exist: `pass` (default), `fail` or `skip`.
    pub absent: Option<Absent>,
    /// How a value chosen by `Fn::If` is judged: `every` (default) or `any` branch failing.
    pub branches: Option<Branches>,
    /// The path exists (true) or not (false).
    pub exists: Option<bool>,
    /// The value equals this (with CloudFormation's string/number/boolean coercion).
    pub equals: Option<Json>,
    /// The value differs from this (a missing value passes unless `absent: fail`).
    pub not_equals: Option<Json>,
    /// The value equals one of a list, written out or `{setting: name}` for a setting's list.
    pub one_of: Option<Json>,
    pub not_one_of: Option<Json>,
    /// The value (as text) matches this regular expression.
    pub matches: Option<String>,
    pub not_matches: Option<String>,
    /// A list contains this element, or a string this substring.
    pub contains: Option<Json>,
    pub gt: Option<Json>,
    pub gte: Option<Json>,
    pub lt: Option<Json>,
    pub lte: Option<Json>,
    /// The value references the environment-suffix parameter or contains the literal suffix.
    pub mentions_suffix: Option<bool>,
    /// The value is (true) or is not (false) fully known without deploying.
    pub known: Option<bool>,
    /// The key under which the value sits matches this regular expression.
    pub key_matches: Option<String>,
    /// Every capture of a regular expression in the value is in a list.
    pub captures: Option<CapturesSpec>,
    /// An ingress rule opens at least one of these ports.
    pub opens_any_port: Option<Json>,
    /// A list, mapping or string is not empty.
    pub nonempty: Option<bool>,
    /// The value's date in a table has not passed (see [`DatePassedSpec`]).
    pub date_passed: Option<DatePassedSpec>,
    /// The value is written as one of these intrinsic functions (`Fn::FindInMap`, `Ref`...):
    /// how a value is obtained, which resolving it would hide (an AMI from a region map).
    pub intrinsic: Option<Vec<String>>,
    /// The value is not written as any of these intrinsic functions.
    pub not_intrinsic: Option<Vec<String>>,
}

/// `date_passed: {dates, as_of}`: fails when the value is a key of `dates` whose date is on or
/// before `as_of`. Entries are `"YYYY-MM-DD"` or mappings with a `date` and any other fields,
/// which become message and fix placeholders (a deprecated runtime's `successor`). `as_of` is a
/// date or `today` (the UTC date of the run); a setting lets CI pin it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatePassedSpec {
    pub dates: Json,
    pub as_of: Json,
}

/// `all: [checks]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllSpec {
    pub all: Vec<Json>,
}

/// `any: [checks]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnySpec {
    pub any: Vec<Json>,
}

/// `not: check`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotSpec {
    pub not: Json,
}

/// `if: check, then: check`: when the condition passes, `then` must; otherwise the check passes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IfSpec {
    #[serde(rename = "if")]
    pub when: Json,
    pub then: Option<Json>,
}

/// `on: binding, check: check`: the check evaluated on a bound resource.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnSpec {
    pub on: String,
    pub check: Option<Json>,
}

/// `each: path` (every node passes) or `some: path` (at least one does), with its `check`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EachSpec {
    pub each: Option<String>,
    pub some: Option<String>,
    pub check: Option<Json>,
    /// Outcome when the path matches nothing: `pass` for `each`, `fail` for `some` by default.
    pub absent: Option<Absent>,
}

/// `by_type: {glob: check}`: a different check per resource type; types not listed pass.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByTypeSpec {
    pub by_type: BTreeMap<String, Json>,
}

/// What an assertion does when its check cannot be decided statically.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OnUnknown {
    /// Say nothing (the default: no false positives, no noise).
    #[default]
    Skip,
    /// Report an info finding saying the rule could not verify the resource.
    Report,
}

/// What an absent path means for a value test.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Absent {
    /// The test only applies to values that are present.
    Pass,
    /// A missing value is itself the violation.
    Fail,
    /// Cannot tell.
    Skip,
}

/// How a leaf judges a value that `Fn::If` chooses between branches whose values are known.
/// Which branch deploys depends on a condition, which depends on parameters: unknowable here.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Branches {
    /// Fails only when every branch fails (whatever the condition, the value is wrong); passes
    /// when every branch passes; otherwise unknown. For policies a template may choose per
    /// environment on purpose (deletion protection in production only).
    #[default]
    Every,
    /// Fails when any branch fails: for values that cannot deploy, a branch that can be taken
    /// is a bug whichever environment takes it.
    Any,
}

/// `captures`: regex with a capture group, and the allowed captured values.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapturesSpec {
    /// The regular expression; group 1 (or the whole match) is checked.
    pub regex: String,
    /// Allowed values (a list, or `{setting: name}`).
    pub all_in: Json,
}

/// A fix, declared as structural operations (applied by the fix engine).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct FixSpec {
    /// `safe`, `unsafe` or `display-only`.
    pub applicability: Applicability,
    /// What the fix does, in a few words.
    pub title: String,
    /// The CDK property to change in the source, for `cdk.out` templates.
    #[serde(default)]
    pub cdk: Option<String>,
    /// The operations; empty for display-only suggestions.
    #[serde(default)]
    pub ops: Vec<FixOpSpec>,
}

/// Whether a fix may be applied without a human deciding.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Only shown.
    DisplayOnly,
    /// Changes behaviour; needs `--unsafe-fixes`.
    Unsafe,
    /// Applied by `--fix`.
    Safe,
}

impl Applicability {
    /// The name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::DisplayOnly => "display-only",
            Applicability::Unsafe => "unsafe",
            Applicability::Safe => "safe",
        }
    }
}

/// One structural edit.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct FixOpSpec {
    /// Set the value at this pointer.
    #[serde(default)]
    pub set: Option<String>,
    /// Set the value only when the pointer does not exist.
    #[serde(default)]
    pub set_if_absent: Option<String>,
    /// Remove the node at this pointer.
    #[serde(default)]
    pub remove: Option<String>,
    /// Append the value to the list at this pointer (creating it).
    #[serde(default)]
    pub append: Option<String>,
    /// Add a template parameter of this name (when missing).
    #[serde(default)]
    pub add_parameter: Option<String>,
    /// Add a resource of this logical ID (when missing).
    #[serde(default)]
    pub add_resource: Option<String>,
    /// Add an output of this name (when missing).
    #[serde(default)]
    pub add_output: Option<String>,
    /// Apply to this binding instead of the subject.
    #[serde(default)]
    pub on: Option<String>,
    /// The value to write (may use `{setting: name}`).
    #[serde(default)]
    pub value: Option<Json>,
}

/// The expected result of the rule's own examples.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExamplesSpec {
    /// Logical ID to number of findings in the failing example.
    pub fail: BTreeMap<String, usize>,
}
