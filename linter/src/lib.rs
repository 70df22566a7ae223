//! tap-lint: keeps CloudFormation/CDK stacks deployable, destroyable and secure before they
//! reach an account.
//!
//! Data flows one way: [`discover`] finds templates, [`load`] parses them into span-carrying
//! trees, [`model`] indexes resources and references, [`engine`] evaluates the declarative
//! [`rules`], and [`report`] renders findings.

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
