//! The operators that relate a resource to others (references, IAM, network), to the
//! template's structure or to its type's schema: their rule-file shapes.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;

use super::Absent;

/// `follow: {...}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowOp {
    pub follow: FollowSpec,
}

/// `referenced_by: {...}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferencedByOp {
    pub referenced_by: ReferencedBySpec,
}

/// `iam_allows: {...}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamAllowsOp {
    pub iam_allows: IamAllowsSpec,
}

/// `sg_admits: {...}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgAdmitsOp {
    pub sg_admits: SgAdmitsSpec,
}

/// `resolves: [ref, getatt, sub, depends_on, condition, find_in_map, attribute]` (or `all`):
/// every name of these kinds that the item writes is defined in the template; `attribute`:
/// every attribute `Fn::GetAtt` reads exists for the target's type.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolvesOp {
    pub resolves: Json,
}

/// `acyclic: true`: the resource is in no dependency cycle.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcyclicOp {
    pub acyclic: bool,
}

/// `substituted: true`: every `${Name}` naming a parameter, resource or pseudo parameter that the
/// item writes is inside an `Fn::Sub`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubstitutedOp {
    pub substituted: bool,
}

/// `used: true`: something in the template refers to the parameter or uses the condition.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsedOp {
    pub used: bool,
}

/// `unique: /Properties/Name`: no other resource of the same type writes the same value there.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniqueOp {
    pub unique: String,
}

/// `schema: [classes]`: the subject's `Properties` checked against its type's resource schema;
/// one failure per violation of the listed classes, at the offending node.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaOp {
    pub schema: Vec<SchemaClass>,
}

/// A class of resource-schema violation. One operator with classes rather than an operator per
/// class: the walk over the properties (and how it treats intrinsics) is the same for all, and a
/// rule picks the classes it reports under its own code and severity.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SchemaClass {
    /// An `AWS::` type no region's schemas know.
    UnknownType,
    /// A key the schema does not declare where it allows no others.
    UnknownProperty,
    /// A value of the wrong JSON type (after CloudFormation's coercions).
    Type,
    /// A value outside `enum`/`const`.
    Enum,
    /// A string that does not match `pattern`.
    Pattern,
    /// A string shorter or longer than `minLength`/`maxLength`.
    Length,
    /// A number outside `minimum`/`maximum`.
    Range,
    /// A list with fewer or more elements than `minItems`/`maxItems`.
    Items,
    /// A `required` property missing.
    Required,
    /// A property the schema marks read-only (an attribute, not an input).
    ReadOnly,
    /// None (or, for `oneOf`, more than one) of the schema's alternatives matches.
    OneOf,
    /// `dependentRequired`/`dependentExcluded`/`requiredXor`/`requiredOr` broken.
    Dependent,
}

/// `follow`: resources referenced from a path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowSpec {
    /// Where the references are (searched deeply, wildcards allowed).
    #[serde(default)]
    pub path: String,
    /// Start from this binding (`subject` or an `as` name) instead of the current resource.
    #[serde(default)]
    pub of: Option<String>,
    /// Resource type globs to keep.
    pub types: Vec<String>,
    /// Name the related resource for later checks and messages.
    #[serde(default)]
    pub r#as: Option<String>,
    /// The check on each related resource; without it, "at least one related resource exists".
    #[serde(default)]
    pub check: Option<Json>,
    /// `all` (default) or `any` related resources must pass.
    #[serde(default)]
    pub quantifier: Quantifier,
    /// Outcome when nothing is related (default `pass`).
    #[serde(default)]
    pub if_none: Option<Absent>,
}

/// `referenced_by`: resources (or outputs) that reference the current resource.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferencedBySpec {
    /// Referrer type globs (`Output` for stack outputs).
    pub types: Vec<String>,
    /// Only references under this path of the referrer count.
    #[serde(default)]
    pub path: Option<String>,
    /// Name the referrer for later checks and messages.
    #[serde(default)]
    pub r#as: Option<String>,
    /// The check on each referrer; without it, "at least one referrer exists".
    #[serde(default)]
    pub check: Option<Json>,
    /// `all` (default) or `any` referrers must pass.
    #[serde(default)]
    pub quantifier: Quantifier,
    /// Outcome when nothing references the resource (default `pass`).
    #[serde(default)]
    pub if_none: Option<Absent>,
}

/// How many related resources must pass.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Quantifier {
    /// Every one.
    #[default]
    All,
    /// At least one.
    Any,
}

/// `iam_allows`: the current role may perform actions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamAllowsSpec {
    /// Actions that must all be allowed (`kinesis:GetRecords`).
    pub actions: Vec<String>,
    /// The binding whose ARN the actions must cover; omitted: any resource.
    #[serde(default)]
    pub on: Option<String>,
}

/// `sg_admits`: the current resource's security groups admit the `from` resource's groups.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgAdmitsSpec {
    /// The binding of the client resource.
    pub from: String,
    /// Where the client's security groups are.
    pub from_groups: String,
    /// Where the current resource's security groups are.
    pub groups: String,
    /// The port that must be admitted.
    pub port: PortSpec,
}

/// Where a port number comes from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSpec {
    /// A property holding the port.
    #[serde(default)]
    pub path: Option<String>,
    /// A lookup from another property (`Engine`) to a port.
    #[serde(default)]
    pub by: Option<PortLookupSpec>,
    /// The port when neither is given.
    #[serde(default)]
    pub default: Option<u16>,
}

/// `port.by`: a property whose value maps to a port.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortLookupSpec {
    pub path: String,
    /// Value prefix to port (`postgres: 5432`).
    pub map: BTreeMap<String, u16>,
}
