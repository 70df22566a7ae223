//! Compiling declared fixes: each operation becomes one [`Action`] with its target parsed, so
//! resolving a fix for a finding never re-discovers which keys an author wrote.

use serde_json::Value as Json;

use super::{Compiler, Result};
use crate::rules::plan::{Action, Fix, FixOp, Section, Target};
use crate::rules::spec;

impl Compiler<'_> {
    pub(super) fn fix(&mut self, fix: &spec::FixSpec) -> Result<Fix> {
        if fix.title.trim().is_empty() {
            return self.scoped("title", |c| Err(c.error("a fix needs a title")));
        }
        if fix.applicability != spec::Applicability::DisplayOnly && fix.ops.is_empty() {
            return self.scoped("ops", |c| {
                Err(c.error("a safe or unsafe fix needs at least one operation"))
            });
        }
        let ops = self.scoped("ops", |c| {
            (fix.ops.iter().enumerate())
                .map(|(i, op)| c.scoped(&i.to_string(), |c| c.fix_op(op)))
                .collect::<Result<Vec<_>>>()
        })?;
        Ok(Fix {
            applicability: fix.applicability,
            title: fix.title.clone(),
            cdk: fix.cdk.clone(),
            ops,
        })
    }

    fn fix_op(&mut self, op: &spec::FixOpSpec) -> Result<FixOp> {
        let targets = [
            ("set", &op.set),
            ("set_if_absent", &op.set_if_absent),
            ("remove", &op.remove),
            ("append", &op.append),
            ("add_parameter", &op.add_parameter),
            ("add_resource", &op.add_resource),
            ("add_output", &op.add_output),
        ];
        let mut given = targets.iter().filter_map(|(k, v)| Some((*k, v.as_ref()?)));
        let (Some((key, arg)), None) = (given.next(), given.next()) else {
            return Err(self.error("an operation is exactly one of set, set_if_absent, remove, append, add_parameter, add_resource, add_output"));
        };
        if let Some(on) = &op.on {
            self.binding(on)?;
        }
        let value = match (&op.value, key) {
            (None, "remove") => Json::Null,
            (None, _) => return Err(self.error("this operation needs a `value`")),
            (Some(v), _) => {
                self.scoped("value", |c| c.settings_exist(v))?;
                v.clone()
            }
        };
        let action = match key {
            "set" => Action::Set(self.target(arg)?, value),
            "set_if_absent" => Action::SetIfAbsent(self.target(arg)?, value),
            "remove" => Action::Remove(self.target(arg)?),
            "append" => Action::Append(self.target(arg)?, value),
            "add_parameter" => Action::Add(Section::Parameters, arg.clone(), value),
            "add_resource" => Action::Add(Section::Resources, arg.clone(), value),
            _ => Action::Add(Section::Outputs, arg.clone(), value),
        };
        Ok(FixOp {
            on: op.on.clone(),
            action,
        })
    }

    /// `{path}` stands for the failing node (for rules that check several properties); anything
    /// else is a pointer relative to the resource the operation applies to.
    fn target(&self, text: &str) -> Result<Target> {
        if text == "{path}" {
            return Ok(Target::Failure);
        }
        self.path(text)?;
        Ok(Target::Path(crate::model::pointer::split(text)))
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
