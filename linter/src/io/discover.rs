//! Paths on the command line to the templates to lint: files, folders and CDK cloud assemblies.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A template to lint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    /// Where it is on disk, as given or found (what reports name).
    pub path: PathBuf,
    /// Where a fix is written: the file itself, or for a symbolic link the file it points to,
    /// resolved. `None` when that file lies outside the tree being linted, so `--fix` refuses to
    /// write it (reading it was asked for: the user named the link).
    pub real: Option<PathBuf>,
}

impl Target {
    fn regular(path: PathBuf) -> Self {
        Target {
            real: Some(path.clone()),
            path,
        }
    }
}

/// A path that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoverError {
    /// The path (for a bad manifest entry, the manifest, since that is the file to correct).
    pub path: PathBuf,
    pub message: String,
    /// How to fix it, when the message alone does not say.
    pub help: Option<String>,
}

impl DiscoverError {
    fn new(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        DiscoverError {
            path: path.into(),
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Nested assemblies (CDK Stages in Stages) deeper than this are refused; real apps use two or
/// three levels.
pub const MAX_ASSEMBLY_DEPTH: usize = 16;

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

/// Expands paths into the sorted, de-duplicated list of templates to lint. Nothing outside the
/// given paths is read: a symbolic link found in a folder must point inside that folder, and
/// every path a cloud assembly's manifest names must resolve inside the assembly.
pub fn discover(paths: &[PathBuf]) -> (Vec<Target>, Vec<DiscoverError>) {
    let mut found = Found::default();
    for path in paths {
        if path.is_file() {
            found.targets.push(explicit_file(path));
        } else if path.is_dir() {
            walk_dir(path, &mut found);
        } else {
            found
                .errors
                .push(DiscoverError::new(path, "no such file or folder"));
        }
    }
    let Found {
        mut targets,
        errors,
    } = found;
    targets.sort();
    targets.dedup();
    dedup_links(&mut targets);
    (targets, errors)
}

#[derive(Default)]
struct Found {
    targets: Vec<Target>,
    errors: Vec<DiscoverError>,
}

/// A file named on the command line: read as given; fixed in place, or through a link only
/// when the link's target is in the link's own folder tree.
fn explicit_file(path: &Path) -> Target {
    if !is_symlink(path) {
        return Target::regular(path.to_path_buf());
    }
    let root = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let real = match (root.canonicalize(), path.canonicalize()) {
        (Ok(root), Ok(real)) if real.starts_with(&root) => Some(real),
        _ => None,
    };
    Target {
        path: path.to_path_buf(),
        real,
    }
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Two paths to one file (a link and its target, both in the tree) are one template: linted
/// and fixed once, under the link-free path when there is one.
fn dedup_links(targets: &mut Vec<Target>) {
    let links = targets.iter().filter(|t| t.real.as_ref() != Some(&t.path));
    let reals: std::collections::HashSet<&PathBuf> =
        links.filter_map(|t| t.real.as_ref()).collect();
    if reals.is_empty() {
        return;
    }
    let canonical = |t: &Target| match &t.real {
        Some(r) if *r != t.path => Some(r.clone()),
        _ => t.path.canonicalize().ok(),
    };
    // Link-free paths first, so they win.
    let mut order: Vec<usize> = (0..targets.len()).collect();
    order.sort_by_key(|&i| targets[i].real.as_ref() != Some(&targets[i].path));
    let mut seen = std::collections::HashSet::new();
    let mut keep = vec![true; targets.len()];
    for i in order {
        if let Some(c) = canonical(&targets[i])
            && !seen.insert(c)
        {
            keep[i] = false;
        }
    }
    let mut flags = keep.into_iter();
    targets.retain(|_| flags.next().unwrap_or(true));
}

fn is_assembly(dir: &Path) -> bool {
    dir.join("manifest.json").is_file()
        && (dir.join("tree.json").is_file() || dir.join("cdk.out").is_file())
}

fn walk_dir(root: &Path, found: &mut Found) {
    if is_assembly(root) {
        Assembly::lint(root, found);
        return;
    }
    let canonical_root = match root.canonicalize() {
        Ok(r) => r,
        Err(e) => {
            found
                .errors
                .push(DiscoverError::new(root, format!("cannot read: {e}")));
            return;
        }
    };
    let mut it = walkdir::WalkDir::new(root).sort_by_file_name().into_iter();
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map_or_else(|| root.to_path_buf(), Path::to_path_buf);
                found
                    .errors
                    .push(DiscoverError::new(path, format!("cannot read: {e}")));
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
                Assembly::lint(path, found);
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
            .is_some_and(|e| TEMPLATE_EXTENSIONS.contains(&e))
            && !NOT_TEMPLATES.contains(&name.as_ref());
        if !wanted {
            continue;
        }
        if !entry.path_is_symlink() {
            found.targets.push(Target::regular(path.to_path_buf()));
            continue;
        }
        // Links to folders are not followed (as before); links to files must stay in the tree.
        match path.canonicalize() {
            Ok(real) if real.is_dir() => {}
            Ok(real) if real.starts_with(&canonical_root) => found.targets.push(Target {
                path: path.to_path_buf(),
                real: Some(real),
            }),
            Ok(_) => found.errors.push(
                DiscoverError::new(
                    path,
                    format!(
                        "a symbolic link to a file outside {}; tap-lint reads only inside the folders it is given",
                        root.display()
                    ),
                )
                .help("pass the link's target itself to lint it"),
            ),
            Err(e) => found.errors.push(
                DiscoverError::new(path, format!("a symbolic link that cannot be followed: {e}"))
                    .help("remove the broken link or point it at a template"),
            ),
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

/// One cloud assembly being read: its folder (resolved) bounds every path its manifests name,
/// and each nested assembly is read once.
struct Assembly<'f> {
    root: PathBuf,
    found: &'f mut Found,
    visited: std::collections::HashSet<PathBuf>,
    /// The nested-assembly entries being read, outermost first: `(artifact, its folder)`.
    chain: Vec<(String, PathBuf)>,
}

/// Where a manifest entry points, once checked.
enum Resolved {
    Inside(PathBuf),
    Refused(DiscoverError),
}

impl<'f> Assembly<'f> {
    fn lint(dir: &Path, found: &'f mut Found) {
        let root = match dir.canonicalize() {
            Ok(r) => r,
            Err(e) => {
                found
                    .errors
                    .push(DiscoverError::new(dir, format!("cannot read: {e}")));
                return;
            }
        };
        let mut assembly = Assembly {
            visited: std::collections::HashSet::from([root.clone()]),
            chain: vec![(String::new(), root.clone())],
            root,
            found,
        };
        assembly.read(dir);
    }

    /// Resolves `entry` (a path the manifest in `dir` names, described by `what`) and checks
    /// that it stays inside the assembly.
    fn resolve(&self, dir: &Path, what: &str, entry: &str) -> Resolved {
        let refuse = |message: String, help: &str| {
            Resolved::Refused(
                DiscoverError::new(
                    dir.join("manifest.json"),
                    format!("{what} `{entry}` {message}"),
                )
                .help(help),
            )
        };
        let real = match dir.join(entry).canonicalize() {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return refuse("is missing".into(), "run `cdk synth` again");
            }
            Err(e) => return refuse(format!("cannot be read: {e}"), "run `cdk synth` again"),
        };
        if !real.starts_with(&self.root) {
            return refuse(
                format!(
                    "resolves outside the cloud assembly {}; tap-lint reads and fixes only files inside it",
                    self.root.display()
                ),
                "a manifest written by `cdk synth` names only files in the assembly; synthesize again, or lint that file on its own",
            );
        }
        Resolved::Inside(real)
    }

    /// Reads one manifest: stack templates, their nested templates, and nested assemblies
    /// (CDK Stages); never the manifest, tree, asset or metadata files.
    fn read(&mut self, dir: &Path) {
        let manifest_path = dir.join("manifest.json");
        if let Resolved::Refused(e) = self.resolve(dir, "the manifest", "manifest.json") {
            self.found.errors.push(e);
            return;
        }
        let manifest: Manifest = match crate::io::read::read_limited(&manifest_path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(m) => m,
            Err(e) => {
                self.found.errors.push(DiscoverError::new(
                    manifest_path,
                    format!("not a readable cloud assembly manifest: {e}"),
                ));
                return;
            }
        };
        for (name, artifact) in &manifest.artifacts {
            let field = match artifact.kind.as_str() {
                "aws:cloudformation:stack" => "templateFile",
                "cdk:cloud-assembly" => "directoryName",
                _ => continue,
            };
            let Some(entry) = artifact.properties.get(field).and_then(|f| f.as_str()) else {
                continue;
            };
            let real = match self.resolve(dir, &format!("artifact `{name}`: {field}"), entry) {
                Resolved::Inside(real) => real,
                Resolved::Refused(e) => {
                    self.found.errors.push(e);
                    continue;
                }
            };
            if field == "templateFile" {
                if real.is_file() {
                    self.found.targets.push(Target {
                        path: dir.join(entry),
                        real: Some(real),
                    });
                } else {
                    self.found.errors.push(DiscoverError::new(
                        &manifest_path,
                        format!("artifact `{name}`: templateFile `{entry}` is not a file"),
                    ));
                }
            } else {
                self.nested(dir, name, entry, real);
            }
        }
        // Nested stacks are assets of their parent, so the manifest does not list them as stacks.
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if !name.ends_with(".nested.template.json") {
                    continue;
                }
                match self.resolve(dir, "the nested stack template", &name) {
                    Resolved::Inside(real) => self.found.targets.push(Target {
                        path: entry.path(),
                        real: Some(real),
                    }),
                    Resolved::Refused(e) => self.found.errors.push(e),
                }
            }
        }
    }

    /// A nested assembly: read once, refused when it leads back into the chain being read (a
    /// cycle, named entry by entry) or nests too deep.
    fn nested(&mut self, dir: &Path, artifact: &str, entry: &str, real: PathBuf) {
        let manifest = dir.join("manifest.json");
        if let Some(at) = self.chain.iter().position(|(_, d)| *d == real) {
            let mut names: Vec<&str> = self.chain[at + 1..]
                .iter()
                .map(|(n, _)| n.as_str())
                .collect();
            names.push(artifact);
            self.found.errors.push(
                DiscoverError::new(
                    manifest,
                    format!(
                        "nested assemblies form a cycle: {} leads back to {}",
                        names.join(" -> "),
                        real.display()
                    ),
                )
                .help(format!(
                    "artifact `{artifact}` (directoryName `{entry}`) must name a sub-folder of its own; synthesize again"
                )),
            );
            return;
        }
        if !self.visited.insert(real.clone()) {
            return;
        }
        if self.chain.len() > MAX_ASSEMBLY_DEPTH {
            self.found.errors.push(DiscoverError::new(
                manifest,
                format!(
                    "artifact `{artifact}`: nested assemblies deeper than {MAX_ASSEMBLY_DEPTH} levels"
                ),
            ));
            return;
        }
        self.chain.push((artifact.to_string(), real));
        self.read(&dir.join(entry));
        self.chain.pop();
    }
}
