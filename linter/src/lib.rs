//! tap-lint: keeps CloudFormation/CDK stacks deployable, destroyable and secure before they
//! reach an account.
//!
//! Data flows one way: [`discover`] finds templates (never outside the paths given), [`read`]
//! reads them under a size limit, [`load`] parses them into span-carrying trees, [`model`]
//! indexes resources and references, [`engine`] evaluates the declarative [`rules`] (whose fix
//! plans live with them), [`finding`] ties each result to its place, [`fix`] turns plans into
//! edits and [`write`](mod@write) puts them on disk without losing anyone's change, and [`report`] renders.
//! `scripts/module-cycles` (run by `scripts/test`) fails on any import cycle among these
//! modules.

pub mod baseline;
pub mod config;
pub mod discover;
pub mod engine;
pub mod finding;
pub mod fix;
pub mod lint;
pub mod load;
pub mod model;
pub mod read;
pub mod report;
pub mod rules;
pub mod suppress;
pub mod testing;
pub mod write;
