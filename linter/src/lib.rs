//! tap-lint: keeps CloudFormation/CDK stacks deployable, destroyable and secure before they
//! reach an account.
//!
//! The modules are layers; each imports only layers below it, so data flows one way:
//!
//! | layer | module | what |
//! |---|---|---|
//! | 0 | [`io`], [`model`] | the file system boundary (discover, bounded read, safe write); the value tree, resources, references, pointers |
//! | 1 | [`load`], [`schema`] | bytes to span-carrying trees (JSON, YAML), and the spanned serde pipeline for rule, config and baseline files; the embedded CloudFormation resource schemas, compiled per type on first use |
//! | 2 | [`rules`] | the rule language: specs, compiled checks, fix plans, placeholders, the one registry (YAML and meta rules) |
//! | 3 | [`engine`] | rules × resources → raw findings (the outcome algebra, references, IAM, network) |
//! | 4 | [`finding`] | the finding record, built by one constructor from its span |
//! | 5 | [`suppress`] | template suppressions and the meta rules' findings about them |
//! | 6 | [`fix`], [`report`] | plans to text edits, fix rounds and writing; output sinks, rendering from the source, baselines |
//! | 7 | [`run`] | what the CLI runs: linting many files in order, the configuration, the pack's self-tests |
//!
//! `scripts/module-cycles` (run by `scripts/test`) reads the imports between these modules and
//! fails on any import of a higher layer or of a sibling (fix and report do not know each
//! other), and so on any cycle.

pub mod engine;
pub mod finding;
pub mod fix;
pub mod io;
pub mod load;
pub mod model;
pub mod report;
pub mod rules;
pub mod run;
pub mod schema;
pub mod suppress;
