//! Embeds the rule pack (`../rules/**/*.yaml`, examples excluded) so the binary works standalone.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[path = "src/rules/files.rs"]
mod files;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            // New rule files change their folder's mtime, so every folder is watched.
            println!("cargo:rerun-if-changed={}", path.display());
            collect(&path, out);
        } else if files::is_rule_file(&path) {
            out.push(path);
        }
    }
}

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let rules = manifest.join("../rules");
    println!("cargo:rerun-if-changed={}", rules.display());
    let mut files = Vec::new();
    collect(&rules, &mut files);
    files.sort();
    let mut code = String::from(
        "/// (path relative to rules/, contents) of every built-in rule.\npub static RULES: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let rel = file
            .strip_prefix(&rules)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        let abs = file.canonicalize().unwrap_or_else(|_| file.clone());
        let _ = writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("builtin_rules.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
