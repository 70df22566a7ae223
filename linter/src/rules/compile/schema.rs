//! Compiling `schema: [classes]`.

use super::{Compiler, Result};
use crate::rules::check::{Check, SchemaCheck};
use crate::rules::spec::SchemaOp;

/// The placeholders a schema failure fills besides the built-in ones: what the schema expects,
/// the values it allows, a "did you mean" (empty when there is none), and the `Fn::If`
/// conditions under which the violation happens (empty when it always does).
pub const SCHEMA_VARS: [&str; 4] = ["expected", "allowed", "suggestion", "when"];

impl Compiler<'_> {
    pub(super) fn schema(&mut self, op: &SchemaOp) -> Result<Check> {
        if op.schema.is_empty() {
            return self.scoped("schema", |c| {
                Err(c.error(
                    "list the violation classes to report, such as `[unknown_property, type]`",
                ))
            });
        }
        self.provides(SCHEMA_VARS);
        let mut classes = op.schema.clone();
        classes.dedup();
        Ok(Check::Schema(SchemaCheck { classes }))
    }
}
