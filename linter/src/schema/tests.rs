use super::*;

/// Patterns the Rust engine cannot compile (UTF-16 surrogate ranges, `\\p{Print}`, `[\\w-.]`)
/// are skipped at run time; this pins how many there are, so an update that loses many more
/// is noticed (`scripts/update-schemas` translates what it can).
const UNCOMPILABLE_PATTERNS_AT_MOST: usize = 50;

#[test]
fn every_embedded_schema_compiles_and_nearly_every_pattern_is_a_rust_regex() {
    let mut types = 0;
    let mut seen = std::collections::HashSet::new();
    let mut bad = Vec::new();
    for (kind, lookup) in all() {
        let Lookup::Known(schema) = lookup else {
            panic!("{kind}: the embedded schema does not compile");
        };
        types += 1;
        for node in &schema.nodes {
            let keys = node.pattern_properties.iter().map(|(p, _)| p);
            for p in node.pattern.iter().chain(keys) {
                if seen.insert(p.source.clone()) && p.regex().is_none() {
                    bad.push(format!("{kind}: {}", p.source));
                }
            }
        }
    }
    assert!(types > 1_800, "only {types} types embedded");
    eprintln!(
        "{} of {} distinct patterns do not compile",
        bad.len(),
        seen.len()
    );
    assert!(bad.len() <= UNCOMPILABLE_PATTERNS_AT_MOST, "{bad:#?}");
}

#[test]
fn types_of_other_regions_are_never_unknown_and_made_up_ones_are() {
    assert!(matches!(lookup("AWS::S3::Bucket"), Lookup::Known(_)));
    assert!(matches!(
        lookup("AWS::DeviceFarm::Project"),
        Lookup::Unchecked
    ));
    assert!(matches!(lookup("AWS::S3::Bukket"), Lookup::Unknown));
}

#[test]
fn references_to_definitions_are_resolved_once_even_when_recursive() {
    let Lookup::Known(schema) = lookup("AWS::WAFv2::WebACL") else {
        panic!("WebACL has a schema");
    };
    // The statement definitions refer to themselves; compiling them terminated, in few nodes.
    assert!(schema.nodes.len() < 5_000, "{} nodes", schema.nodes.len());
    let root = &schema.nodes[0];
    assert_eq!(root.additional, Additional::Forbidden);
    assert!(root.property("DefaultAction").is_some());
}

#[test]
fn suggestions_are_close_names_only() {
    let names = ["BucketName", "BucketEncryption", "Tags"];
    assert_eq!(suggest::closest("BucketNmae", names), Some("BucketName"));
    assert_eq!(suggest::closest("bucketname", names), Some("BucketName"));
    assert_eq!(suggest::closest("Tag", names), Some("Tags"));
    assert_eq!(suggest::closest("LifecycleConfiguration", names), None);
}

#[test]
fn cidr_formats_accept_networks_and_addresses_and_nothing_else() {
    use compiled::Format::{Ipv4Network as V4, Ipv6Network as V6};
    for ok in [
        "10.0.0.0/16",
        "0.0.0.0/0",
        "192.0.2.7/32",
        "192.0.2.7",
        "10.1.2.3/8",
    ] {
        assert!(V4.accepts(ok), "{ok}");
    }
    for bad in [
        "SSHLocation",
        "10.0.0.0/33",
        "10.0.0.0/",
        "10.0.0/16",
        " 10.0.0.0/16",
        "::/0",
    ] {
        assert!(!V4.accepts(bad), "{bad}");
    }
    for ok in ["::/0", "2001:db8::/56", "2001:db8::1"] {
        assert!(V6.accepts(ok), "{ok}");
    }
    for bad in ["2001:db8::/129", "10.0.0.0/16", "2001:db8::/+5"] {
        assert!(!V6.accepts(bad), "{bad}");
    }
}
