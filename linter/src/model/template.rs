//! A loaded CloudFormation template: resources and outputs indexed, references resolvable.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::error::LoadError;
use crate::model::node::{Entries, Map, Node, Value};
use crate::model::resolve;

/// Which top-level section an item lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// `Resources`.
    Resources,
    /// `Outputs`: an output is a referencing item too (rules ask "is this exported?").
    Outputs,
    /// `Parameters`: subjects of rules about the declarations themselves (unused, bad type).
    Parameters,
    /// `Conditions`: subjects of rules about the conditions themselves (unused).
    Conditions,
}

/// A resource or an output: something that can reference resources.
#[derive(Debug)]
pub struct Item {
    /// The logical ID.
    pub id: Box<str>,
    /// The resource type (`AWS::S3::Bucket`); outputs have the pseudo type `Output`.
    pub kind: Box<str>,
    /// The section it lives in.
    pub section: Section,
    /// Its index among the entries of its section's mapping (O(1) access to its node).
    entry: usize,
    /// `/Resources/<id>` or `/Outputs/<id>`, built once: every rule evaluated on the item starts
    /// from it, and formatting it per rule was 7% of a lint run.
    pointer: Box<str>,
}

impl Section {
    /// The section's key in the template.
    pub fn key(self) -> &'static str {
        match self {
            Section::Resources => "Resources",
            Section::Outputs => "Outputs",
            Section::Parameters => "Parameters",
            Section::Conditions => "Conditions",
        }
    }
}

/// The entries of a section whose items all have one pseudo type (outputs, parameters,
/// conditions), in source order.
fn declarations<'a>(
    root: &'a Node,
    section: Section,
    kind: &'static str,
) -> impl Iterator<Item = Item> + 'a {
    let entries = (root.get(section.key()).and_then(Node::as_map).into_iter())
        .flat_map(|m| m.entries.iter().enumerate());
    entries.map(move |(entry, e)| Item {
        id: e.key.clone(),
        kind: kind.into(),
        section,
        entry,
        pointer: item_pointer(section.key(), &e.key),
    })
}

fn item_pointer(section: &str, id: &str) -> Box<str> {
    let mut p = String::with_capacity(section.len() + id.len() + 2);
    crate::model::pointer::push(&mut p, section);
    crate::model::pointer::push(&mut p, id);
    p.into()
}

/// A template ready for evaluation.
#[derive(Debug)]
pub struct Template {
    pub root: Node,
    /// Resources first (in source order), then outputs.
    pub items: Vec<Item>,
    /// How many of `items` are resources.
    pub resource_count: usize,
    by_id: HashMap<Box<str>, usize>,
    referrers: OnceLock<Vec<Vec<usize>>>,
    referenced: OnceLock<Vec<Vec<usize>>>,
    names: OnceLock<HashMap<Box<str>, Vec<usize>>>,
    role_policies: OnceLock<Vec<Vec<usize>>>,
    cycles: OnceLock<Vec<Vec<usize>>>,
    /// Resources skipped because they are malformed, with why.
    pub problems: Vec<LoadError>,
}

/// The `Resources` mapping, or why the document is not a template (a template that fails here
/// is rejected whole; a malformed resource inside it is only skipped).
fn resources_of(root: &Node) -> Result<&Map, LoadError> {
    let Some(top) = root.as_map() else {
        return Err(LoadError::at(
            root.span,
            "not a CloudFormation template: the document is not a mapping",
        )
        .with_help("a template is a mapping with at least a `Resources` section"));
    };
    let Some(resources) = top.entry("Resources") else {
        return Err(LoadError::whole(
            "not a CloudFormation template: it has no `Resources` section",
        )
        .with_help(
            "tap-lint lints CloudFormation templates; exclude this file or add `Resources`",
        ));
    };
    let Some(map) = resources.value.as_map() else {
        return Err(LoadError::at(
            resources.key_span,
            "`Resources` must be a mapping of logical IDs to resources",
        )
        .with_help(
            "write `Resources:` followed by `LogicalId: {Type: ..., Properties: ...}` entries",
        ));
    };
    Ok(map)
}

/// The pseudo type given to outputs so rules can name them in `referenced_by`.
pub const OUTPUT_TYPE: &str = "Output";

/// The pseudo type of parameter items, for `select: types: [Parameter]`.
pub const PARAMETER_TYPE: &str = "Parameter";

/// The pseudo type of condition items, for `select: types: [Condition]`.
pub const CONDITION_TYPE: &str = "Condition";

impl Template {
    /// Checks the document is a CloudFormation template and indexes it.
    pub fn new(root: Node) -> Result<Self, LoadError> {
        let resources = resources_of(&root)?;
        let mut items = Vec::new();
        let mut problems = Vec::new();
        for (entry, e) in resources.entries.iter().enumerate() {
            // `Fn::ForEach::Name` loops (AWS::LanguageExtensions) expand to resources only at deploy time.
            if e.key.starts_with("Fn::ForEach::") {
                continue;
            }
            match e.value.get("Type").map(|t| &t.value) {
                Some(Value::String(kind)) => items.push(Item {
                    id: e.key.clone(),
                    kind: kind.clone(),
                    section: Section::Resources,
                    entry,
                    pointer: item_pointer(Section::Resources.key(), &e.key),
                }),
                _ => problems.push(
                    LoadError::at(
                        e.key_span,
                        format!(
                            "resource `{}` has no string `Type`, so it is not checked",
                            e.key
                        ),
                    )
                    .with_help("every resource needs `Type: AWS::Service::Resource`"),
                ),
            }
        }
        let resource_count = items.len();
        // `Fn::ForEach::Name` outputs expand only at deploy time, like resources.
        items.extend(
            declarations(&root, Section::Outputs, OUTPUT_TYPE)
                .filter(|i| !i.id.starts_with("Fn::ForEach::")),
        );
        items.extend(declarations(&root, Section::Parameters, PARAMETER_TYPE));
        items.extend(declarations(&root, Section::Conditions, CONDITION_TYPE));
        let by_id = items[..resource_count]
            .iter()
            .enumerate()
            .map(|(i, it)| (it.id.clone(), i))
            .collect();
        Ok(Template {
            root,
            items,
            resource_count,
            by_id,
            referrers: OnceLock::new(),
            referenced: OnceLock::new(),
            names: OnceLock::new(),
            role_policies: OnceLock::new(),
            cycles: OnceLock::new(),
            problems,
        })
    }

    fn section(&self, section: Section) -> &Map {
        static EMPTY: Map = Map {
            entries: Entries::new(),
        };
        (self.root.get(section.key()).and_then(Node::as_map)).unwrap_or(&EMPTY)
    }

    /// The node of an item (the resource or output mapping).
    pub fn node(&self, item: usize) -> &Node {
        let it = &self.items[item];
        &self.section(it.section).entries[it.entry].value
    }

    /// The key span of an item's logical ID: where findings about the item as a whole point.
    pub fn id_span(&self, item: usize) -> crate::model::node::Span {
        let it = &self.items[item];
        self.section(it.section).entries[it.entry].key_span
    }

    /// The JSON pointer of an item (`/Resources/Bucket`).
    pub fn pointer(&self, item: usize) -> &str {
        &self.items[item].pointer
    }

    /// The resource with this logical ID.
    pub fn resource(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The parameter or condition item of this name (they come after the resources and
    /// outputs, and a template has few of them).
    pub fn declared(&self, section: Section, name: &str) -> Option<usize> {
        (self.resource_count..self.items.len())
            .find(|&i| self.items[i].section == section && &*self.items[i].id == name)
    }

    /// The parameter declaration with this name.
    pub fn parameter(&self, name: &str) -> Option<&Node> {
        self.root.get("Parameters")?.get(name)
    }

    /// The CDK construct path, when CDK wrote one.
    pub fn cdk_path(&self, item: usize) -> Option<&str> {
        self.node(item)
            .get("Metadata")?
            .get("aws:cdk:path")?
            .as_str()
    }

    /// Every item that references `item` anywhere (Ref, GetAtt, Sub, DependsOn), built once on demand.
    pub fn referrers(&self, item: usize) -> &[usize] {
        let all = self.referrers.get_or_init(|| {
            let mut table = vec![Vec::new(); self.items.len()];
            for source in 0..self.items.len() {
                for &target in self.referenced(source) {
                    if target != source {
                        table[target].push(source);
                    }
                }
            }
            table
        });
        &all[item]
    }

    /// The resources an item references (Ref, GetAtt, Sub, DependsOn), sorted, each once:
    /// worked out once per template for both the referrers table and the dependency cycles.
    pub fn referenced(&self, item: usize) -> &[usize] {
        let all = self.referenced.get_or_init(|| {
            (0..self.items.len())
                .map(|source| {
                    let mut found = Vec::new();
                    self.references(self.node(source), &mut found);
                    found.sort_unstable();
                    found.dedup();
                    found
                })
                .collect()
        });
        &all[item]
    }

    /// The resources whose physical name (`BucketName`, `FunctionName`...) is statically `name`,
    /// in source order. Literal names and ARNs are matched to resources through it, so each costs
    /// a lookup instead of a pass over every resource (quadratic on large templates).
    pub fn named(&self, name: &str) -> &[usize] {
        let names = self.names.get_or_init(|| {
            let mut names: HashMap<Box<str>, Vec<usize>> = HashMap::new();
            for item in 0..self.resource_count {
                let known = name_property(&self.items[item].kind)
                    .and_then(|prop| self.node(item).get("Properties")?.get(prop))
                    .and_then(|node| resolve::known_text(self, node));
                if let Some(known) = known {
                    names.entry(known.into()).or_default().push(item);
                }
            }
            names
        });
        names.get(name).map_or(&[], Vec::as_slice)
    }

    /// For each item, the IAM policy resources attached to it when it is a role. What attaches a
    /// policy is the engine's to say (`engine::iam` passes `build`); the table is kept here, with
    /// the template, so it is built once rather than once per role.
    pub fn role_policies(&self, build: impl FnOnce() -> Vec<Vec<usize>>) -> &[Vec<usize>] {
        self.role_policies.get_or_init(build)
    }

    /// The dependency cycles among resources, each a loop from its first resource in source
    /// order (see [`graph::cycles`](super::graph::cycles)), computed once on demand.
    pub fn cycles(&self) -> &[Vec<usize>] {
        self.cycles.get_or_init(|| super::graph::cycles(self))
    }

    /// Whether the template declares a condition, a mapping or a parameter of this name.
    pub fn declares(&self, section: &str, name: &str) -> bool {
        self.root.get(section).and_then(|s| s.get(name)).is_some()
    }

    /// Collects the resources a subtree references through Ref, GetAtt, Sub and DependsOn.
    pub fn references(&self, node: &Node, out: &mut Vec<usize>) {
        match &node.value {
            Value::Map(m) => {
                for e in &m.entries {
                    match (&*e.key, &e.value.value) {
                        ("Ref", Value::String(id)) => out.extend(self.resource(id)),
                        ("Fn::GetAtt", Value::Seq(parts)) => out.extend(
                            parts
                                .first()
                                .and_then(Node::as_str)
                                .and_then(|id| self.resource(id)),
                        ),
                        ("Fn::GetAtt", Value::String(s)) => {
                            out.extend(self.resource(s.split('.').next().unwrap_or_default()))
                        }
                        ("Fn::Sub", _) => self.sub_references(&e.value, out),
                        ("DependsOn", Value::String(id)) => out.extend(self.resource(id)),
                        ("DependsOn", Value::Seq(ids)) => out.extend(
                            ids.iter()
                                .filter_map(Node::as_str)
                                .filter_map(|id| self.resource(id)),
                        ),
                        _ => self.references(&e.value, out),
                    }
                }
            }
            Value::Seq(items) => items.iter().for_each(|n| self.references(n, out)),
            _ => {}
        }
    }

    fn sub_references(&self, arg: &Node, out: &mut Vec<usize>) {
        let (text, vars) = match &arg.value {
            Value::String(s) => (&**s, None),
            Value::Seq(parts) => match (parts.first().and_then(Node::as_str), parts.get(1)) {
                (Some(s), vars) => (s, vars),
                _ => return,
            },
            _ => return,
        };
        let shadowed = |name: &str| vars.and_then(|v| v.get(name)).is_some();
        for var in sub_variables(text) {
            let id = var.split('.').next().unwrap_or(var);
            if !shadowed(id) {
                out.extend(self.resource(id));
            }
        }
        if let Some(v) = vars {
            self.references(v, out);
        }
    }
}

/// The property that holds a resource's physical name, for matching literal names to resources.
pub fn name_property(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "AWS::Lambda::Function" => "FunctionName",
        "AWS::Kinesis::Stream" => "Name",
        "AWS::IAM::Role" => "RoleName",
        "AWS::SecretsManager::Secret" => "Name",
        "AWS::S3::Bucket" => "BucketName",
        "AWS::SQS::Queue" => "QueueName",
        "AWS::SNS::Topic" => "TopicName",
        "AWS::DynamoDB::Table" => "TableName",
        "AWS::RDS::DBInstance" => "DBInstanceIdentifier",
        "AWS::RDS::DBCluster" => "DBClusterIdentifier",
        "AWS::EC2::SecurityGroup" => "GroupName",
        "AWS::ElastiCache::ReplicationGroup" => "ReplicationGroupId",
        "AWS::Logs::LogGroup" => "LogGroupName",
        _ => return None,
    })
}

/// The `${Name}` variables of an `Fn::Sub` string, skipping `${!Literal}` escapes.
pub fn sub_variables(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find("${")?;
            let after = &rest[start + 2..];
            let end = after.find('}')?;
            let var = &after[..end];
            rest = &after[end + 1..];
            if !var.starts_with('!') {
                return Some(var.trim());
            }
        }
    })
}
