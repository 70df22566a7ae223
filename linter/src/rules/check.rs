//! Compiled checks: the rule language after validation, ready to evaluate fast.

use regex::Regex;
use serde_json::Value as Json;

pub use super::spec::{Absent, Branches, Quantifier, SchemaClass};

/// A compiled JSON-pointer pattern, relative to the current node.
#[derive(Clone, Debug, Default)]
pub struct PathPattern {
    pub segs: Vec<Seg>,
    /// The text as written, for messages.
    pub text: String,
}

/// One pointer segment.
#[derive(Clone, Debug, PartialEq)]
pub enum Seg {
    /// A mapping key or list index.
    Key(String),
    /// Every element of a list or mapping.
    Any,
    /// The node and every descendant.
    Deep,
}

/// A resource-type glob (`*`, `Custom::*`, `AWS::S3::Bucket`).
#[derive(Clone, Debug)]
pub enum TypeGlob {
    /// Every type.
    Any,
    /// Types starting with the prefix.
    Prefix(String),
    /// Exactly this type.
    Exact(String),
}

impl TypeGlob {
    /// Whether a type matches.
    pub fn matches(&self, kind: &str) -> bool {
        match self {
            TypeGlob::Any => true,
            TypeGlob::Prefix(p) => kind.starts_with(p.as_str()),
            TypeGlob::Exact(e) => kind == e,
        }
    }
}

/// Whether any glob of a list matches.
pub fn any_glob(globs: &[TypeGlob], kind: &str) -> bool {
    globs.iter().any(|g| g.matches(kind))
}

/// A check over the current node.
#[derive(Debug)]
pub enum Check {
    /// Value tests on the nodes at a path.
    Leaf(Leaf),
    All(Vec<Check>),
    /// At least one sub-check.
    Any(Vec<Check>),
    Not(Box<Check>),
    /// A check evaluated on a bound resource.
    On(String, Box<Check>),
    /// Implication: when the first passes, the second must.
    If(Box<Check>, Box<Check>),
    /// Quantified sub-check over the nodes at a path.
    Each {
        path: PathPattern,
        check: Box<Check>,
        quantifier: Quantifier,
        absent: Absent,
    },
    /// A check per resource type.
    ByType(Vec<(TypeGlob, Check)>),
    /// Related resources through references.
    Follow(Box<Follow>),
    /// Referrers of the current resource.
    ReferencedBy(Box<ReferencedBy>),
    /// IAM permission check on the current role.
    IamAllows(IamAllows),
    /// Security-group reachability into the current resource.
    SgAdmits(SgAdmits),
    /// Every name of these kinds that the item writes is defined in the template.
    Resolves(Resolves),
    /// The resource is in no dependency cycle.
    Acyclic,
    /// No `${Name}` of a template name is written outside an `Fn::Sub`.
    Substituted,
    /// Something in the template refers to the parameter or uses the condition.
    Used,
    /// No other resource of the same type writes the same value at the path.
    Unique(PathPattern),
    /// The subject's properties against its resource schema.
    Schema(SchemaCheck),
}

/// What `resolves` checks: names of some kinds, and the attributes `Fn::GetAtt` reads.
#[derive(Debug)]
pub struct Resolves {
    pub kinds: Vec<crate::model::refs::RefKind>,
    /// Each attribute of a `Fn::GetAtt` or `${X.Attr}` on a resource exists for its type.
    pub attributes: bool,
}

/// Value tests at a path.
#[derive(Debug)]
pub struct Leaf {
    /// Where.
    pub path: PathPattern,
    /// Outcome for a missing path.
    pub absent: Absent,
    /// How values behind `Fn::If` are judged.
    pub branches: Branches,
    /// All must hold.
    pub tests: Vec<Test>,
}

/// One value test.
#[derive(Debug)]
pub enum Test {
    /// Presence.
    Exists(bool),
    /// Equality with coercion.
    Equals(Json),
    NotEquals(Json),
    OneOf(Vec<Json>),
    NotOneOf(Vec<Json>),
    /// Regex on the text.
    Matches(Regex),
    /// Negated regex on the text.
    NotMatches(Regex),
    /// List element or substring.
    Contains(Json),
    Compare(CompareOp, f64),
    /// Names carry the environment suffix.
    MentionsSuffix {
        expected: bool,
        parameter: String,
        literal: Option<String>,
    },
    /// Fully known statically.
    Known(bool),
    /// Key name regex.
    KeyMatches(Regex),
    /// Every capture is allowed.
    Captures {
        regex: Regex,
        allowed: Vec<String>,
    },
    /// Ingress opens one of the ports.
    OpensAnyPort(Vec<u16>),
    Nonempty(bool),
    /// Written (true) or not written (false) as one of these intrinsic functions.
    Intrinsic {
        names: Vec<String>,
        expected: bool,
    },
    /// The value's date in the table is after `as_of` (days since 1970-01-01, UTC).
    DatePassed {
        dates: Vec<DatedEntry>,
        as_of: i64,
        as_of_text: String,
    },
}

/// One row of a `date_passed` table.
#[derive(Debug)]
pub struct DatedEntry {
    pub value: String,
    /// Days since 1970-01-01.
    pub day: i64,
    /// Placeholders the entry adds to a failure: `date` and the entry's other fields.
    pub vars: Vec<(String, String)>,
}

/// A numeric comparison operator.
#[derive(Clone, Copy, Debug)]
pub enum CompareOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// Compiled `follow`.
#[derive(Debug)]
pub struct Follow {
    /// Where references are.
    pub path: PathPattern,
    /// Start from this binding.
    pub of: Option<String>,
    /// Kept types.
    pub types: Vec<TypeGlob>,
    pub bind: Option<String>,
    /// The check on related resources.
    pub check: Option<Check>,
    /// How many must pass.
    pub quantifier: Quantifier,
    /// Outcome when nothing is related.
    pub if_none: Absent,
}

/// Compiled `referenced_by`.
#[derive(Debug)]
pub struct ReferencedBy {
    /// Referrer types.
    pub types: Vec<TypeGlob>,
    /// Where in the referrer the reference must be.
    pub path: Option<PathPattern>,
    pub bind: Option<String>,
    /// The check on referrers.
    pub check: Option<Check>,
    /// How many must pass.
    pub quantifier: Quantifier,
    /// Outcome when nothing refers.
    pub if_none: Absent,
}

/// Compiled `iam_allows`.
#[derive(Debug)]
pub struct IamAllows {
    /// Required actions.
    pub actions: Vec<String>,
    /// The binding whose ARN must be covered.
    pub on: Option<String>,
}

/// Compiled `sg_admits`.
#[derive(Debug)]
pub struct SgAdmits {
    /// The client binding.
    pub from: String,
    /// The client's groups.
    pub from_groups: PathPattern,
    /// The current resource's groups.
    pub groups: PathPattern,
    pub port: Port,
}

/// Where the port comes from.
#[derive(Debug)]
pub struct Port {
    /// A property holding it.
    pub path: Option<PathPattern>,
    /// Lookup by another property's value prefix.
    pub by: Option<(PathPattern, Vec<(String, u16)>)>,
    /// Fallback.
    pub default: Option<u16>,
}

/// Compiled `schema`: the violation classes to report.
#[derive(Debug)]
pub struct SchemaCheck {
    pub classes: Vec<SchemaClass>,
}
