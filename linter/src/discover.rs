//! Paths on the command line to the templates to lint: files, folders and CDK cloud assemblies.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A template to lint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    /// Where it is on disk.
    pub path: PathBuf,
}

/// A path that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoverError {
    /// The path.
    pub path: PathBuf,
    /// Why, and what to do.
    pub message: String,
}

/// Extensions of files linted when walking a folder.
const TEMPLATE_EXTENSIONS: [&str; 4] = ["json", "yaml", "yml", "template"];

/// Files in folders that are known not to be templates (walking skips them silently).
const NOT_TEMPLATES: [&str; 12] = [
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "cdk.json",
    "cdk.context.json",
    "manifest.json",
    "tree.json",
    ".pre-commit-config.yaml",
    ".pre-commit-hooks.yaml",
    ".tap-lint.yaml",
    "pnpm-lock.yaml",
    "composer.json",
];

/// Expands paths into the sorted, de-duplicated list of templates to lint.
pub fn discover(paths: &[PathBuf]) -> (Vec<Target>, Vec<DiscoverError>) {
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.is_file() {
            targets.push(Target { path: path.clone() });
        } else if path.is_dir() {
            walk_dir(path, &mut targets, &mut errors);
        } else {
            errors.push(DiscoverError {
                path: path.clone(),
                message: "no such file or folder".into(),
            });
        }
    }
    targets.sort();
    targets.dedup();
    (targets, errors)
}

fn is_assembly(dir: &Path) -> bool {
    dir.join("manifest.json").is_file()
        && (dir.join("tree.json").is_file() || dir.join("cdk.out").is_file())
}

fn walk_dir(root: &Path, targets: &mut Vec<Target>, errors: &mut Vec<DiscoverError>) {
    if is_assembly(root) {
        assembly(root, targets, errors, 0);
        return;
    }
    let mut it = walkdir::WalkDir::new(root).sort_by_file_name().into_iter();
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                errors.push(DiscoverError {
                    path: e
                        .path()
                        .map_or_else(|| root.to_path_buf(), Path::to_path_buf),
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        let path = entry.path();
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_dir() {
            let skip = entry.depth() > 0
                && (name.starts_with('.') || name == "node_modules" || name == "target");
            if skip {
                it.skip_current_dir();
            } else if entry.depth() > 0 && is_assembly(path) {
                assembly(path, targets, errors, 0);
                it.skip_current_dir();
            }
            continue;
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let wanted = ext
            .as_deref()
            .is_some_and(|e| TEMPLATE_EXTENSIONS.contains(&e));
        if wanted && !NOT_TEMPLATES.contains(&name.as_ref()) {
            targets.push(Target {
                path: path.to_path_buf(),
            });
        }
    }
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    artifacts: std::collections::BTreeMap<String, Artifact>,
}

#[derive(Deserialize)]
struct Artifact {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    properties: serde_json::Value,
}

/// Reads a cloud assembly's manifest: stack templates, their nested templates, and nested
/// assemblies (CDK Stages); never the manifest, tree, asset or metadata files.
fn assembly(dir: &Path, targets: &mut Vec<Target>, errors: &mut Vec<DiscoverError>, depth: usize) {
    let manifest_path = dir.join("manifest.json");
    let manifest: Manifest = match std::fs::read(&manifest_path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(m) => m,
        Err(e) => {
            errors.push(DiscoverError {
                path: manifest_path,
                message: format!("not a readable cloud assembly manifest: {e}"),
            });
            return;
        }
    };
    for artifact in manifest.artifacts.values() {
        match artifact.kind.as_str() {
            "aws:cloudformation:stack" => {
                if let Some(file) = artifact
                    .properties
                    .get("templateFile")
                    .and_then(|f| f.as_str())
                {
                    let path = dir.join(file);
                    if path.is_file() {
                        targets.push(Target { path });
                    } else {
                        errors.push(DiscoverError { path, message: "the manifest lists this template but it is missing; run `cdk synth` again".into() });
                    }
                }
            }
            "cdk:cloud-assembly" if depth < 16 => {
                if let Some(sub) = artifact
                    .properties
                    .get("directoryName")
                    .and_then(|f| f.as_str())
                {
                    assembly(&dir.join(sub), targets, errors, depth + 1);
                }
            }
            _ => {}
        }
    }
    // Nested stacks are assets of their parent, so the manifest does not list them as stacks.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.ends_with(".nested.template.json") {
                targets.push(Target { path: entry.path() });
            }
        }
    }
}
