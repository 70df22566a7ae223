//! Which files in a rule folder are rules. `build.rs` includes this file (`#[path]`) to embed the
//! pack, so the built-in pack and `--rules DIR` cannot disagree about what a rule file is.

use std::path::Path;

/// Whether a file in a rule folder is a rule (not an example or data).
pub fn is_rule_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    yaml && !name.contains(".pass.") && !name.contains(".fail.") && !name.starts_with('.')
}
