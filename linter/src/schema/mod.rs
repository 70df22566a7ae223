//! CloudFormation resource provider schemas, embedded (`linter/schemas/`, written by
//! `scripts/update-schemas` from the cfn-lint wheel) and compiled only for the types a run meets.
//!
//! The data is one line per type (`TYPE<TAB>JSON`): finding a type's line costs a scan for tabs
//! and newlines once per process, and parsing and compiling a schema happens the first time a
//! template uses that type. A run over CDK output touches a few dozen of the 1,854 types, so it
//! never pays for the rest.

mod compiled;
pub mod suggest;

use std::collections::HashMap;
use std::sync::OnceLock;

pub use compiled::{Additional, NodeId, Pattern, Schema, SchemaNode, TypeSet};

/// The us-east-1 schemas, one `TYPE<TAB>compact JSON` line per resource type.
static DATA: &str = include_str!("../../schemas/us-east-1.tsv");

/// Types that exist in some other region only: not validated, and never "unknown".
static OTHER_REGIONS: &str = include_str!("../../schemas/other-regions.txt");

/// What the embedded data knows about a resource type.
pub enum Lookup {
    /// A us-east-1 type, with its compiled schema.
    Known(&'static Schema),
    /// A type the data lists but cannot check: another region's, or a schema that did not
    /// compile (the data is ours, so a test keeps that set empty).
    Unchecked,
    /// Not a type of any region's provider list.
    Unknown,
}

struct Entry {
    json: &'static str,
    compiled: OnceLock<Option<Schema>>,
}

fn index() -> &'static HashMap<&'static str, Entry> {
    static INDEX: OnceLock<HashMap<&'static str, Entry>> = OnceLock::new();
    INDEX.get_or_init(|| {
        DATA.lines()
            .filter_map(|line| line.split_once('\t'))
            .map(|(kind, json)| {
                let compiled = OnceLock::new();
                (kind, Entry { json, compiled })
            })
            .collect()
    })
}

/// The schema of a resource type, compiled on first use.
pub fn lookup(kind: &str) -> Lookup {
    match index().get(kind) {
        Some(entry) => match entry.compiled.get_or_init(|| Schema::parse(entry.json)) {
            Some(schema) => Lookup::Known(schema),
            None => Lookup::Unchecked,
        },
        None if OTHER_REGIONS.lines().any(|k| k == kind) => Lookup::Unchecked,
        None => Lookup::Unknown,
    }
}

/// Every type with an embedded schema, for "did you mean" on unknown types.
pub fn type_names() -> impl Iterator<Item = &'static str> {
    index().keys().copied()
}

/// Every embedded type and whether its schema compiles, for the tests that keep the data sound.
pub fn all() -> impl Iterator<Item = (&'static str, Lookup)> {
    index().keys().map(|k| (*k, lookup(k)))
}

#[cfg(test)]
mod tests;
