//! What the command line runs, as a library: linting many files in parallel in a stable order
//! ([`lint`]), the configuration file ([`config`]) and the rule pack's tests against its own
//! examples ([`testing`]). The top layer: it composes every layer below.

pub mod config;
pub mod lint;
pub mod testing;
