//! "Does security group X admit traffic from security group Y on port P?"

use super::outcome::{Env, Here, Outcome};
use super::path::{self, Hit};
use super::values;
use crate::model::node::Node;
use crate::model::resolve::{self, Scalar};
use crate::model::template::Template;
use crate::rules::check::{PathPattern, Port, SgAdmits, TypeGlob};

const SG: &str = "AWS::EC2::SecurityGroup";

/// Evaluates `sg_admits` with the current item as the data store.
pub fn eval<'t>(spec: &SgAdmits, env: &mut Env<'t>, here: &Here<'t>) -> Outcome {
    let t = env.t;
    let Some(client) = env.bound(&spec.from) else {
        return Outcome::Skip;
    };
    let (sources, sources_unknown) = groups(t, env.item_here(client).place, &spec.from_groups);
    let (targets, targets_unknown) = groups(t, here.place, &spec.groups);
    if sources.is_empty() || targets.is_empty() {
        return Outcome::Skip;
    }
    let Some(port) = port(t, here, &spec.port) else {
        return Outcome::Skip;
    };
    let mut uncertain = sources_unknown || targets_unknown;
    for &target in &targets {
        for rule in ingress_rules(t, target) {
            match admits(t, rule, &sources, port) {
                Some(true) => return Outcome::Pass,
                Some(false) => {}
                None => uncertain = true,
            }
        }
    }
    if uncertain {
        return Outcome::Skip;
    }
    let at = path::collect(here.place, &spec.groups).into_iter().next();
    let (label, rel) = at.map_or((here.place.label, String::new()), |(p, rel)| (p.label, rel));
    let vars = vec![("port".to_string(), port.to_string())];
    Outcome::Fail(vec![env.failure(
        here.item,
        format!("{}{rel}", here.ptr),
        label,
        vars,
    )])
}

/// The security-group resources listed at a path, and whether some entry is not one of them.
fn groups(t: &Template, start: path::Place<'_>, p: &PathPattern) -> (Vec<usize>, bool) {
    let glob = [TypeGlob::Exact(SG.into())];
    let mut out = Vec::new();
    let mut unknown = false;
    for place in path::places(start, p) {
        match place.hit {
            Hit::Found(node) => {
                let items: Vec<&Node> = node
                    .as_seq()
                    .map_or_else(|| vec![node], |s| s.iter().collect());
                for item in items {
                    let before = out.len();
                    values::related(t, item, &glob, &mut out);
                    unknown |= out.len() == before;
                }
            }
            Hit::Unknown => unknown = true,
            Hit::Missing => {}
        }
    }
    out.sort_unstable();
    out.dedup();
    (out, unknown)
}

fn port(t: &Template, here: &Here<'_>, spec: &Port) -> Option<u16> {
    let first = |p: &PathPattern| {
        path::places(here.place, p)
            .into_iter()
            .find_map(|pl| match pl.hit {
                Hit::Found(n) => Some(n),
                _ => None,
            })
    };
    if let Some(node) = spec.path.as_ref().and_then(first) {
        return resolve::resolve(t, node)
            .and_then(|s| values::number(&s))
            .map(|n| n as u16);
    }
    if let Some((p, map)) = &spec.by
        && let Some(node) = first(p)
    {
        let value = resolve::known_text(t, node)?.to_lowercase();
        if let Some((_, port)) = map
            .iter()
            .filter(|(k, _)| value.starts_with(&k.to_lowercase()))
            .max_by_key(|(k, _)| k.len())
        {
            return Some(*port);
        }
    }
    spec.default
}

/// Inline ingress entries of a group plus standalone `AWS::EC2::SecurityGroupIngress` resources.
fn ingress_rules(t: &Template, group: usize) -> Vec<&Node> {
    let mut out: Vec<&Node> = t
        .node(group)
        .get("Properties")
        .and_then(|p| p.get("SecurityGroupIngress"))
        .and_then(Node::as_seq)
        .map(|s| s.iter().collect())
        .unwrap_or_default();
    for &source in t.referrers(group) {
        if &*t.items[source].kind == "AWS::EC2::SecurityGroupIngress"
            && let Some(props) = t.node(source).get("Properties")
            && props.get("GroupId").is_some_and(|g| {
                let mut found = Vec::new();
                t.references(g, &mut found);
                found.contains(&group)
            })
        {
            out.push(props);
        }
    }
    out
}

/// Whether one ingress entry admits the sources on the port; `None` when it cannot be read.
fn admits(t: &Template, rule: &Node, sources: &[usize], port: u16) -> Option<bool> {
    if !opens_any_port(t, rule, &[port])? {
        return Some(false);
    }
    if let Some(src) = rule.get("SourceSecurityGroupId") {
        let mut found = Vec::new();
        t.references(src, &mut found);
        if found.iter().any(|f| sources.contains(f)) {
            return Some(true);
        }
        return if found.is_empty() { None } else { Some(false) };
    }
    // A CIDR or prefix list may well contain the client's subnets: never claim it does not.
    if rule.get("CidrIp").is_some()
        || rule.get("CidrIpv6").is_some()
        || rule.get("SourcePrefixListId").is_some()
    {
        return Some(true);
    }
    None
}

/// Whether an ingress entry opens one of the ports; `None` when protocol or range is unknown.
pub fn opens_any_port(t: &Template, rule: &Node, ports: &[u16]) -> Option<bool> {
    let protocol = rule.get("IpProtocol").map(|p| resolve::resolve(t, p));
    let protocol = match protocol {
        Some(Some(s)) => values::text(&s).to_lowercase(),
        Some(None) => return None,
        None => return Some(false),
    };
    match protocol.as_str() {
        "-1" | "all" => return Some(true),
        "tcp" | "6" => {}
        _ => return Some(false),
    }
    let bound = |key: &str| -> Option<Option<f64>> {
        match rule.get(key) {
            None => Some(None),
            Some(n) => match resolve::resolve(t, n) {
                Some(s @ (Scalar::Num(_) | Scalar::Str(_))) => Some(values::number(&s)),
                _ => None,
            },
        }
    };
    let (from, to) = (bound("FromPort")?, bound("ToPort")?);
    let (from, to) = match (from, to) {
        (Some(f), Some(t)) => (f, t),
        (Some(f), None) => (f, f),
        (None, Some(t)) => (t, t),
        (None, None) => return None,
    };
    if from < 0.0 || to < 0.0 {
        return Some(true);
    }
    Some(
        ports
            .iter()
            .any(|&p| from <= f64::from(p) && f64::from(p) <= to),
    )
}
