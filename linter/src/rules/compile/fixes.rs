//! Validating declared fixes: operation shapes, target paths and the settings their values use.

use serde_json::Value as Json;

use super::{Compiler, Result};
use crate::rules::spec;

impl Compiler<'_> {
    pub(super) fn validate_fix(&mut self, fix: &spec::FixSpec) -> Result<()> {
        if fix.title.trim().is_empty() {
            return self.scoped("title", |c| Err(c.error("a fix needs a title")));
        }
        if fix.applicability != spec::Applicability::DisplayOnly && fix.ops.is_empty() {
            return self.scoped("ops", |c| {
                Err(c.error("a safe or unsafe fix needs at least one operation"))
            });
        }
        for (i, op) in fix.ops.iter().enumerate() {
            self.scoped("ops", |c| {
                c.scoped(&i.to_string(), |c| {
                    let targets = [&op.set, &op.set_if_absent, &op.remove, &op.append];
                    let adds = [&op.add_parameter, &op.add_resource, &op.add_output];
                    let n = targets.iter().filter(|t| t.is_some()).count() + adds.iter().filter(|t| t.is_some()).count();
                    if n != 1 {
                        return Err(c.error("an operation is exactly one of set, set_if_absent, remove, append, add_parameter, add_resource, add_output"));
                    }
                    for t in targets.into_iter().flatten() {
                        // `{path}` stands for the failing node's path (for rules that check several properties).
                        if t != "{path}" {
                            c.path(t)?;
                        }
                    }
                    if op.remove.is_none() && op.value.is_none() {
                        return Err(c.error("this operation needs a `value`"));
                    }
                    if let Some(v) = &op.value {
                        c.scoped("value", |c| c.settings_exist(v))?;
                    }
                    if let Some(on) = &op.on {
                        c.binding(on)?;
                    }
                    Ok(())
                })
            })?;
        }
        Ok(())
    }

    /// Checks every `{setting: name}` inside a value (fix values nest them) names a setting.
    fn settings_exist(&self, value: &Json) -> Result<()> {
        match value {
            Json::Object(map) if map.len() == 1 && map.contains_key("setting") => {
                self.literal(value).map(drop)
            }
            Json::Object(map) => map.values().try_for_each(|v| self.settings_exist(v)),
            Json::Array(items) => items.iter().try_for_each(|v| self.settings_exist(v)),
            _ => Ok(()),
        }
    }
}
