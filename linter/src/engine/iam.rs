//! "Do the policies attached to this role allow action A on resource R?"

use std::sync::OnceLock;

use super::outcome::{Env, Here, Outcome};
use super::values;
use crate::load::{self, Syntax};
use crate::model::node::{Node, Value};
use crate::model::resolve::{self, Part};
use crate::model::template::Template;
use crate::rules::check::{IamAllows, TypeGlob};

static MANAGED: OnceLock<Node> = OnceLock::new();

/// The embedded table of AWS managed policies (name to statements).
fn managed_policies() -> &'static Node {
    MANAGED.get_or_init(|| {
        let text = include_str!("../data/aws-managed-policies.yaml");
        // The table ships inside the binary and is covered by tests, so a parse failure is a build bug.
        load::parse(text.as_bytes(), Syntax::Yaml)
            .unwrap_or_else(|e| panic!("embedded managed-policy table: {e}"))
    })
}

/// Statements that apply to a role, and whether some policy could not be read statically.
struct Policies<'t> {
    statements: Vec<&'t Node>,
    uncertain: bool,
}

/// Evaluates `iam_allows` with the current item as the role.
pub fn eval<'t>(spec: &IamAllows, env: &mut Env<'t>, here: &Here<'t>) -> Outcome {
    let t = env.t;
    let role = here.item;
    if &*t.items[role].kind != "AWS::IAM::Role" {
        return Outcome::Skip;
    }
    let target = match &spec.on {
        Some(name) => match env.bound(name) {
            Some(item) => Some(item),
            None => return Outcome::Skip,
        },
        None => None,
    };
    let policies = attached(t, role);
    let mut uncertain = policies.uncertain;
    let mut missing = Vec::new();
    for action in &spec.actions {
        let mut allowed = false;
        for st in &policies.statements {
            match statement_allows(t, st, action, target) {
                Some(true) => {
                    allowed = true;
                    break;
                }
                Some(false) => {}
                None => uncertain = true,
            }
        }
        if !allowed {
            missing.push(action.as_str());
        }
    }
    if missing.is_empty() {
        Outcome::Pass
    } else if uncertain {
        Outcome::Skip
    } else {
        let vars = vec![("actions".to_string(), missing.join(", "))];
        Outcome::Fail(vec![env.failure(
            role,
            here.ptr.to_string(),
            here.place.label,
            vars,
        )])
    }
}

fn statements_of<'t>(document: Option<&'t Node>, out: &mut Policies<'t>) {
    match document.and_then(|d| d.get("Statement")) {
        Some(node) if node.intrinsic().is_some() => out.uncertain = true,
        Some(Node {
            value: Value::Seq(items),
            ..
        }) => out.statements.extend(items.iter()),
        Some(
            single @ Node {
                value: Value::Map(_),
                ..
            },
        ) => out.statements.push(single),
        _ => out.uncertain |= document.is_some_and(|d| d.intrinsic().is_some()),
    }
}

fn attached(t: &Template, role: usize) -> Policies<'_> {
    let mut out = Policies {
        statements: Vec::new(),
        uncertain: false,
    };
    let props = t.node(role).get("Properties");
    match props.and_then(|p| p.get("Policies")) {
        Some(Node {
            value: Value::Seq(items),
            ..
        }) => {
            for p in items {
                if p.intrinsic().is_some() {
                    out.uncertain = true;
                }
                statements_of(p.get("PolicyDocument"), &mut out);
            }
        }
        Some(_) => out.uncertain = true,
        None => {}
    }
    let attached = t.role_policies(|| policies_by_role(t));
    for &policy in attached.get(role).map_or(&[][..], Vec::as_slice) {
        statements_of(
            t.node(policy)
                .get("Properties")
                .and_then(|p| p.get("PolicyDocument")),
            &mut out,
        );
    }
    match props.and_then(|p| p.get("ManagedPolicyArns")) {
        Some(Node {
            value: Value::Seq(arns),
            ..
        }) => {
            for arn in arns {
                managed_arn(t, arn, &mut out);
            }
        }
        Some(_) => out.uncertain = true,
        None => {}
    }
    out
}

/// For each resource, the `AWS::IAM::Policy`, `ManagedPolicy` and `RolePolicy` resources that
/// name it as a role (by reference, name or ARN), in source order: one pass over the policies
/// for the whole template, instead of one per role.
fn policies_by_role(t: &Template) -> Vec<Vec<usize>> {
    let mut table = vec![Vec::new(); t.resource_count];
    let role_glob = [TypeGlob::Exact("AWS::IAM::Role".into())];
    for item in 0..t.resource_count {
        let roles_key = match &*t.items[item].kind {
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => "Roles",
            "AWS::IAM::RolePolicy" => "RoleName",
            _ => continue,
        };
        let Some(r) = t
            .node(item)
            .get("Properties")
            .and_then(|p| p.get(roles_key))
        else {
            continue;
        };
        let mut roles = Vec::new();
        if let Some(items) = r.as_seq() {
            items
                .iter()
                .for_each(|n| values::related(t, n, &role_glob, &mut roles));
        } else {
            values::related(t, r, &role_glob, &mut roles);
        }
        roles.sort_unstable();
        roles.dedup();
        for role in roles {
            if let Some(policies) = table.get_mut(role) {
                policies.push(item);
            }
        }
    }
    table
}

fn managed_arn<'t>(t: &'t Template, arn: &'t Node, out: &mut Policies<'t>) {
    let mut refs = Vec::new();
    t.references(arn, &mut refs);
    if let Some(&policy) = refs
        .iter()
        .find(|&&i| &*t.items[i].kind == "AWS::IAM::ManagedPolicy")
    {
        statements_of(
            t.node(policy)
                .get("Properties")
                .and_then(|p| p.get("PolicyDocument")),
            out,
        );
        return;
    }
    let Some(text) = arn_text(t, arn) else {
        out.uncertain = true;
        return;
    };
    let aws_managed = text.contains(":iam::aws:policy/");
    let name = text.rsplit('/').next().unwrap_or_default();
    match managed_policies().get(name).and_then(Node::as_seq) {
        Some(statements) if aws_managed => out.statements.extend(statements.iter()),
        _ => out.uncertain = true,
    }
}

/// The text of an ARN, with `${AWS::Partition}` read as `aws`.
fn arn_text(t: &Template, node: &Node) -> Option<String> {
    let mut parts = Vec::new();
    resolve::text_parts(t, node, &mut parts);
    let mut out = String::new();
    for p in parts {
        match p {
            Part::Lit(s) => out.push_str(&s),
            Part::Param("AWS::Partition") => out.push_str("aws"),
            Part::Param(name) => match resolve::parameter_default(t, name) {
                Some(s) => out.push_str(&values::text(&s)),
                None => return None,
            },
            Part::Unknown => return None,
        }
    }
    Some(out)
}

/// Whether one statement allows the action on the target; `None` when it cannot be read.
fn statement_allows(t: &Template, st: &Node, action: &str, target: Option<usize>) -> Option<bool> {
    if st.intrinsic().is_some() {
        return None;
    }
    match st.get("Effect").and_then(|e| resolve::known_text(t, e)) {
        Some(e) if e == "Allow" => {}
        Some(_) => return Some(false),
        None => return None,
    }
    let action_ok = match (st.get("Action"), st.get("NotAction")) {
        (Some(a), _) => any_pattern(t, a, |p| glob_match(p, action))?,
        (None, Some(na)) => !any_pattern(t, na, |p| glob_match(p, action))?,
        (None, None) => false,
    };
    if !action_ok {
        return Some(false);
    }
    let Some(target) = target else {
        return Some(true);
    };
    // A statement without `Resource` (NotResource) cannot be read statically.
    let resources = st.get("Resource")?;
    let items: Vec<&Node> = match &resources.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![resources],
    };
    let mut unknown = false;
    for r in items {
        let mut refs = Vec::new();
        t.references(r, &mut refs);
        if refs.contains(&target) {
            return Some(true);
        }
        if !refs.is_empty() {
            // The ARN of another resource of this template: certainly not the target.
            continue;
        }
        match arn_text(t, r) {
            Some(arn) if arn_covers(t, &arn, target) => return Some(true),
            Some(_) => {}
            None => unknown = true,
        }
    }
    if unknown { None } else { Some(false) }
}

/// Whether a literal resource ARN pattern can cover the target resource.
fn arn_covers(t: &Template, arn: &str, target: usize) -> bool {
    if arn == "*" {
        return true;
    }
    let service = match &*t.items[target].kind {
        "AWS::Kinesis::Stream" => "kinesis",
        "AWS::SecretsManager::Secret" => "secretsmanager",
        "AWS::S3::Bucket" => "s3",
        "AWS::SQS::Queue" => "sqs",
        "AWS::DynamoDB::Table" => "dynamodb",
        _ => "",
    };
    let mut fields = arn.splitn(6, ':');
    let arn_service = fields.nth(2).unwrap_or_default();
    if arn_service != service && arn_service != "*" {
        return false;
    }
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    let name = values::name_property(&t.items[target].kind)
        .and_then(|p| t.node(target).get("Properties")?.get(p))
        .and_then(|n| resolve::known_text(t, n));
    match name {
        Some(name) => {
            glob_match(resource.rsplit('/').next().unwrap_or(resource), &name)
                || glob_match(resource, &name)
        }
        None => resource.contains('*'),
    }
}

/// Applies a predicate to the action patterns of a string or list; `None` if any is unknown.
fn any_pattern(t: &Template, node: &Node, mut pred: impl FnMut(&str) -> bool) -> Option<bool> {
    let items: Vec<&Node> = match &node.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut unknown = false;
    for item in items {
        match resolve::known_text(t, item) {
            Some(p) if pred(&p) => return Some(true),
            Some(_) => {}
            None => unknown = true,
        }
    }
    if unknown { None } else { Some(false) }
}

/// Case-insensitive IAM wildcard matching (`*` any run, `?` one character).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let s: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            pi += 1;
            mark = si;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}
