//! Whole-template checks: every name an item refers to resolves (`resolves`), the resource is in
//! no dependency cycle (`acyclic`), and no other resource of its type takes its name (`unique`).

use std::collections::HashMap;

use super::outcome::{Env, Here, Outcome};
use super::path::{self, Hit, Place};
use crate::model::node::Value;
use crate::model::refs::{self, RefKind, Reference};
use crate::model::template::Template;
use crate::rules::check::{PathPattern, Resolves};

/// Pseudo parameters: `Ref` and `${...}` may name them without declaring them.
const PSEUDO_PARAMETERS: [&str; 8] = [
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// Fails once per name of the selected kinds that the template does not define, and (with
/// `attributes`) once per `Fn::GetAtt`/`${X.Attr}` attribute the target's type does not have,
/// at the node that writes it. A template with a `Transform` skips: SAM and macros add
/// resources and parameters that only exist after the transform (`MyFunctionRole`,
/// `ServerlessRestApi`...).
pub(super) fn resolves<'t>(check: &Resolves, env: &Env<'t>, here: &Here<'t>) -> Outcome {
    let t = env.t;
    if t.root.get("Transform").is_some() {
        return Outcome::Skip;
    }
    let item = here.item;
    let refs = item_refs(env, item);
    let failures: Vec<_> = (refs.dangling.iter())
        .filter(|d| match d.attribute {
            None => check.kinds.contains(&d.kind),
            Some(_) => check.attributes,
        })
        .map(|d| {
            let (attribute, target_type) = d.attribute.clone().unwrap_or_default();
            let vars = vec![
                ("target".to_string(), d.name.clone()),
                ("kind".to_string(), d.written.to_string()),
                ("expected".to_string(), expected(d.kind).to_string()),
                ("suggestion".to_string(), d.suggestion.clone()),
                ("attribute".to_string(), attribute),
                ("target_type".to_string(), target_type),
            ];
            env.failure(item, d.pointer.clone(), d.span, vars)
        })
        .collect();
    if failures.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(failures)
    }
}

/// A name an item writes that the template does not define, or an attribute its target lacks.
#[derive(Debug)]
pub(super) struct Dangling {
    kind: RefKind,
    written: &'static str,
    name: String,
    /// For a missing attribute: the attribute and the target's type.
    attribute: Option<(String, String)>,
    pointer: String,
    span: crate::model::node::Span,
    suggestion: String,
}

/// What one walk over an item's references finds, for every `resolves` rule and for `used`.
#[derive(Debug)]
pub(super) struct ItemRefs {
    dangling: Vec<Dangling>,
    /// The parameter and condition items it refers to.
    uses: Vec<usize>,
}

/// The item's references, walked once per evaluation.
fn item_refs(env: &Env<'_>, item: usize) -> std::rc::Rc<ItemRefs> {
    let mut memo = env.memo.item_refs.borrow_mut();
    let found = memo.entry(item).or_insert_with(|| scan(env.t, item).into());
    std::rc::Rc::clone(found)
}

fn scan(t: &Template, item: usize) -> ItemRefs {
    use crate::model::template::Section;
    let base = t.pointer(item);
    let mut out = Vec::new();
    let mut uses = Vec::new();
    refs::each_reference(t.node(item), &mut |r, rel| {
        if r.shadowed {
            return;
        }
        let declared = match r.kind {
            // Resources and parameters share one namespace: a resource's name is no parameter,
            // and most references name resources, which skips the scan for them.
            RefKind::Ref | RefKind::Sub if t.resource(r.name).is_none() => {
                t.declared(Section::Parameters, r.name)
            }
            RefKind::Condition => t.declared(Section::Conditions, r.name),
            _ => None,
        };
        uses.extend(declared);
        let (attribute, suggestion) = if !defined(t, &r) {
            (None, suggestion(t, &r))
        } else {
            match missing_attribute(t, &r) {
                Some((attribute, suggestion)) => (Some(attribute), suggestion),
                None => return,
            }
        };
        // A missing attribute is reported at the attribute when it has a node of its own.
        let (pointer, span) = match (&attribute, r.attribute_node, rel.split_last()) {
            (Some(_), Some(node), Some((_, parent))) => {
                (format!("{base}{}/1", refs::encode(parent)), node.span)
            }
            _ => (format!("{base}{}", refs::encode(rel)), r.node.span),
        };
        out.push(Dangling {
            kind: r.kind,
            written: r.written,
            name: r.name.to_string(),
            attribute,
            pointer,
            span,
            suggestion,
        });
    });
    ItemRefs {
        dangling: out,
        uses,
    }
}

/// For a `Fn::GetAtt` or `${X.Attr}` on a resource whose schema lists its attributes and lacks
/// this one: the attribute with the target's type, and a "did you mean". Custom resources,
/// other regions' types and computed attribute names are not knowable and pass.
fn missing_attribute(t: &Template, r: &Reference<'_>) -> Option<((String, String), String)> {
    if !matches!(r.kind, RefKind::GetAtt | RefKind::Sub) {
        return None;
    }
    let attribute = r.attribute?;
    let kind = &*t.items[t.resource(r.name)?].kind;
    if super::schema::unchecked_aws_type(kind) {
        return None;
    }
    let crate::schema::Lookup::Known(schema) = crate::schema::lookup(kind) else {
        return None;
    };
    if schema.has_attribute(kind, attribute)? {
        return None;
    }
    let properties = (schema.nodes.first().into_iter()).flat_map(|root| &root.properties);
    let names =
        || (schema.attributes.iter().map(|a| &**a)).chain(properties.clone().map(|(k, _)| &**k));
    // `RoleArn` for `Arn`, `TableStreamArn` for `StreamArn`: the type's own name for it.
    let suffix = || {
        names()
            .filter(|a| attribute.len() > a.len() && attribute.ends_with(a))
            .max_by_key(|a| a.len())
    };
    let suggestion = (crate::schema::suggest::closest(attribute, names()).or_else(suffix))
        .map_or_else(String::new, |a| format!(" (did you mean `{a}`?)"));
    Some(((attribute.to_string(), kind.to_string()), suggestion))
}

/// Fails at the first resource (in source order) of each dependency cycle, naming the loop, at
/// the reference that leads to the next resource of the loop: the edge to cut. Templates with a
/// `Transform` skip.
pub(super) fn acyclic<'t>(env: &Env<'t>, here: &Here<'t>) -> Outcome {
    let t = env.t;
    // A transform rebuilds the graph: SAM splits an `AWS::Serverless::Api` into an API, a
    // stage and a deployment, so a loop through it before the transform may not exist after.
    if t.root.get("Transform").is_some() {
        return Outcome::Skip;
    }
    let Some(cycle) = t.cycles().iter().find(|c| c[0] == here.item) else {
        return Outcome::Pass;
    };
    let mut names: Vec<&str> = cycle.iter().map(|&i| &*t.items[i].id).collect();
    names.push(names[0]);
    let next = names[1];
    let mut at = None;
    refs::each_reference(t.node(here.item), &mut |r, rel| {
        let edge = matches!(
            r.kind,
            RefKind::Ref | RefKind::GetAtt | RefKind::Sub | RefKind::DependsOn
        );
        if at.is_none() && edge && !r.shadowed && r.name == next {
            at = Some((refs::encode(rel), r.node.span));
        }
    });
    let base = t.pointer(here.item);
    let (pointer, span) = match at {
        Some((rel, span)) => (format!("{base}{rel}"), span),
        None => (base.to_string(), t.id_span(here.item)),
    };
    let vars = vec![
        ("cycle".to_string(), names.join(" -> ")),
        ("count".to_string(), cycle.len().to_string()),
        ("next".to_string(), next.to_string()),
    ];
    Outcome::Fail(vec![env.failure(here.item, pointer, span, vars)])
}

/// Fails once per string outside an `Fn::Sub` that writes `${Name}` where `Name` (before any
/// `.Attribute`) is a parameter, resource or pseudo parameter of the template: CloudFormation
/// keeps such text as written. Other `${...}` (IAM policy variables, shell and buildspec
/// variables, a state machine's own `DefinitionSubstitutions`) name nothing of the template and
/// pass. Templates with a `Transform` skip: SAM substitutes some properties itself.
pub(super) fn substituted<'t>(env: &Env<'t>, here: &Here<'t>) -> Outcome {
    let t = env.t;
    if t.root.get("Transform").is_some() {
        return Outcome::Skip;
    }
    let item = t.node(here.item);
    let own = (item.get("Properties"))
        .and_then(|p| p.get("DefinitionSubstitutions"))
        .and_then(|d| d.as_map());
    let base = t.pointer(here.item);
    let mut failures = Vec::new();
    refs::each_plain_template(item, &mut |node, rel| {
        let text = node.as_str().unwrap_or_default();
        let named = crate::model::template::sub_variables(text).find_map(|var| {
            let name = var.split('.').next().unwrap_or(var);
            if own.is_some_and(|m| m.get(name).is_some()) {
                return None;
            }
            let defined_as = if PSEUDO_PARAMETERS.contains(&name) {
                "pseudo parameter"
            } else if t.parameter(name).is_some() {
                "parameter"
            } else if t.resource(name).is_some() {
                "resource"
            } else {
                return None;
            };
            Some((var, name, defined_as))
        });
        if let Some((var, name, defined_as)) = named {
            let vars = vec![
                ("variable".to_string(), format!("${{{var}}}")),
                ("name".to_string(), name.to_string()),
                ("defined_as".to_string(), defined_as.to_string()),
            ];
            let pointer = format!("{base}{}", refs::encode(rel));
            failures.push(env.failure(here.item, pointer, node.span, vars));
        }
    });
    // Looked for only when something would be reported: most templates never pay for the scan.
    if failures.is_empty() {
        Outcome::Pass
    } else if *env.memo.preprocessed.get_or_init(|| preprocessed(t)) {
        Outcome::Skip
    } else {
        Outcome::Fail(failures)
    }
}

/// Fails on a parameter nothing refers to (no `Ref` or `${Name}` in a resource, an output, a
/// condition or a rule) and on a condition nothing uses (no resource's or output's
/// `Condition`, no `Fn::If`, no other condition's `{"Condition": name}`). Templates with a
/// `Transform` skip (SAM's `Globals` and macros use names the template does not show), and so
/// do a pre-processor's (Serverless Framework variables); other items pass.
pub(super) fn used<'t>(env: &Env<'t>, here: &Here<'t>) -> Outcome {
    use crate::model::template::Section;
    let t = env.t;
    let section = t.items[here.item].section;
    if !matches!(section, Section::Parameters | Section::Conditions) {
        return Outcome::Pass;
    }
    if t.root.get("Transform").is_some() {
        return Outcome::Skip;
    }
    let used = env.memo.used_items.get_or_init(|| used_items(env));
    if used.contains(&here.item) {
        Outcome::Pass
    } else if *env.memo.preprocessed.get_or_init(|| preprocessed(t)) {
        // A pre-processor's `${Name}` may be the use.
        Outcome::Skip
    } else {
        Outcome::Fail(vec![env.failure(
            here.item,
            t.pointer(here.item).to_string(),
            t.id_span(here.item),
            Vec::new(),
        )])
    }
}

/// Every parameter and condition item something in the template uses: the resources' and
/// outputs' references (from the walk `resolves` shares), the `Conditions` and `Rules`
/// sections, and conditions named by other conditions.
fn used_items(env: &Env<'_>) -> std::collections::HashSet<usize> {
    use crate::model::template::Section;
    let t = env.t;
    let mut used = std::collections::HashSet::new();
    let items = (0..t.items.len())
        .filter(|&i| matches!(t.items[i].section, Section::Resources | Section::Outputs));
    for item in items {
        used.extend(item_refs(env, item).uses.iter().copied());
    }
    let mut note = |r: Reference<'_>, _: &[refs::Seg<'_>]| {
        if matches!(r.kind, RefKind::Ref | RefKind::Sub) && !r.shadowed {
            used.extend(t.declared(Section::Parameters, r.name));
        }
    };
    // Whole sections, whatever their shape: a malformed one still shows its uses.
    for section in ["Conditions", "Rules"] {
        if let Some(node) = t.root.get(section) {
            refs::each_reference_in(node, &mut note);
        }
    }
    if let Some(node) = t.root.get("Conditions") {
        condition_functions(node, &mut |name| {
            used.extend(t.declared(Section::Conditions, name));
        });
    }
    used
}

/// The names of `{"Condition": name}`, the condition function of the `Conditions` section.
fn condition_functions(node: &crate::model::node::Node, f: &mut dyn FnMut(&str)) {
    match &node.value {
        Value::Map(m) => {
            if let [only] = &m.entries[..]
                && &*only.key == "Condition"
                && let Some(name) = only.value.as_str()
            {
                f(name);
            }
            m.entries
                .iter()
                .for_each(|e| condition_functions(&e.value, f));
        }
        Value::Seq(items) => items.iter().for_each(|n| condition_functions(n, f)),
        _ => {}
    }
}

/// Serverless Framework's variable sources: a template that uses them is a pre-processor's
/// input, whose `${...}` that tool fills in before CloudFormation sees it.
const PREPROCESSOR_VARIABLES: [&str; 7] = [
    "${self:", "${opt:", "${env:", "${sls:", "${file(", "${ssm:", "${cf:",
];

fn preprocessed(t: &Template) -> bool {
    let mut found = false;
    for item in 0..t.items.len() {
        refs::each_plain_template(t.node(item), &mut |node, _| {
            let text = node.as_str().unwrap_or_default();
            found |= PREPROCESSOR_VARIABLES.iter().any(|p| text.contains(p));
        });
        if found {
            return true;
        }
    }
    false
}

/// Fails when an earlier resource of the same type writes the same value at the path (compared
/// as written: two identical `Fn::Sub` expressions collide whatever the parameters are). A
/// resource with a `Condition` is left out on both sides: two resources under exclusive
/// conditions may share a name, and which conditions exclude each other is not known here.
pub(super) fn unique<'t>(path: &PathPattern, env: &Env<'t>, here: &Here<'t>) -> Outcome {
    let t = env.t;
    // What an item writes at the path: its place, its pointer below the item, and the key it is
    // compared by. One collect per item, for the table and for the subject's finding alike.
    let written = |item: usize| -> Option<(Place<'t>, String, String)> {
        if t.node(item).get("Condition").is_some() {
            return None;
        }
        let root = Place {
            hit: Hit::Found(t.node(item)),
            key: None,
            label: t.id_span(item),
        };
        let (place, rel) = path::collect(root, path).into_iter().next()?;
        let Hit::Found(node) = place.hit else {
            return None;
        };
        // An expression with a branch (`Fn::If`) or `AWS::NoValue` may name nothing, or differ
        // per condition: left out. Any other literal or expression is compared as written.
        if matches!(node.value, Value::Null) {
            return None;
        }
        let key = node.to_json().to_string();
        if key.contains("\"Fn::If\"") || key.contains("AWS::NoValue") {
            return None;
        }
        Some((place, rel, key))
    };
    let Some((place, rel, key)) = written(here.item) else {
        return Outcome::Pass;
    };
    let kind = &t.items[here.item].kind;
    let first = {
        let mut tables = env.memo.first_writer.borrow_mut();
        let table = tables
            .entry((path as *const PathPattern, kind.clone()))
            .or_insert_with(|| {
                // Names collide only within a type: reading every other resource's path too was
                // most of this check's time.
                let mut table = HashMap::new();
                for item in (0..t.resource_count).filter(|&i| t.items[i].kind == *kind) {
                    if let Some((_, _, key)) = written(item) {
                        table.entry(key).or_insert(item);
                    }
                }
                table
            });
        table.get(&key).copied()
    };
    match (first, place.hit) {
        (Some(other), Hit::Found(node)) if other != here.item => {
            let vars = vec![
                ("other".to_string(), t.items[other].id.to_string()),
                ("value".to_string(), super::values::display(t, node)),
            ];
            let pointer = format!("{}{rel}", t.pointer(here.item));
            Outcome::Fail(vec![env.failure(here.item, pointer, place.label, vars)])
        }
        _ => Outcome::Pass,
    }
}

fn defined(t: &Template, r: &Reference<'_>) -> bool {
    // A module (`Org::Service::Thing::MODULE`) adds its resources under its own logical ID as
    // a prefix (`Module` + `Bucket` = `ModuleBucket`): names with that prefix may exist.
    let from_module = || {
        t.items[..t.resource_count]
            .iter()
            .any(|i| i.kind.ends_with("::MODULE") && r.name.starts_with(&*i.id))
    };
    let resource = t.resource(r.name).is_some() || from_module();
    let parameter = || t.parameter(r.name).is_some() || PSEUDO_PARAMETERS.contains(&r.name);
    match r.kind {
        RefKind::Ref => resource || parameter(),
        // `${AWS::Region}` and `${Param}` are fine in a Sub; `${Param.Attr}` is not, but a
        // parameter of that name is what the author meant, so that is left to a schema check.
        RefKind::Sub => resource || parameter(),
        RefKind::GetAtt | RefKind::DependsOn => resource,
        RefKind::Condition => t.declares("Conditions", r.name),
        RefKind::FindInMap => t.declares("Mappings", r.name),
    }
}

fn expected(kind: RefKind) -> &'static str {
    match kind {
        RefKind::Ref | RefKind::Sub => "resource or parameter",
        RefKind::GetAtt | RefKind::DependsOn => "resource",
        RefKind::Condition => "condition",
        RefKind::FindInMap => "mapping",
    }
}

/// ` (did you mean `X`?)` for the defined name closest to a dangling one, or nothing when none
/// is close enough to be a likely typo.
fn suggestion(t: &Template, r: &Reference<'_>) -> String {
    let mut names: Vec<&str> = Vec::new();
    let section = |name: &str| -> Vec<&str> {
        t.root
            .get(name)
            .and_then(|s| s.as_map())
            .map(|m| m.entries.iter().map(|e| &*e.key).collect())
            .unwrap_or_default()
    };
    match r.kind {
        RefKind::Ref | RefKind::Sub => {
            names.extend(t.items[..t.resource_count].iter().map(|i| &*i.id));
            names.extend(section("Parameters"));
            names.extend(PSEUDO_PARAMETERS);
        }
        RefKind::GetAtt | RefKind::DependsOn => {
            names.extend(t.items[..t.resource_count].iter().map(|i| &*i.id));
        }
        RefKind::Condition => names.extend(section("Conditions")),
        RefKind::FindInMap => names.extend(section("Mappings")),
    }
    crate::schema::suggest::closest(r.name, names.iter().copied())
        .map_or_else(String::new, |n| format!(" (did you mean `{n}`?)"))
}
