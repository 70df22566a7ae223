//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning accepts it, streamed result by result.

use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::{Value as Json, json};

use super::Summary;
use crate::finding::{FileError, FileReport, Finding};
use crate::rules::meta::MetaRule;
use crate::rules::{Kind, Rule, RuleSet, Severity};

/// The schema URI written into every log.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// AWS's page on template `Metadata`, where suppressions live: the help link of the meta rules.
/// (The project has no public address yet, so no link points into this repository.)
pub const METADATA_DOCS: &str =
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-metadata.html";

/// Writes one SARIF log: the driver with every rule first, then results as files arrive.
pub struct SarifWriter<W: Write> {
    out: W,
    first: bool,
    index: HashMap<String, usize>,
    errors: Vec<FileError>,
}

impl<W: Write> SarifWriter<W> {
    /// Starts the log with the tool driver describing every rule in force and the meta rules.
    pub fn new(mut out: W, rules: &RuleSet) -> io::Result<Self> {
        let mut descriptors = Vec::new();
        let mut index = HashMap::new();
        for info in rules.in_force() {
            index.insert(info.code.to_string(), descriptors.len());
            descriptors.push(match info.kind {
                Kind::Declarative(r) => descriptor(r, info.severity),
                Kind::Meta(m) => meta_descriptor(m, info.severity),
            });
        }
        let driver = json!({
            "name": "tap-lint",
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "version": env!("CARGO_PKG_VERSION"),
            "rules": descriptors,
        });
        write!(
            out,
            "{{\n\"$schema\":\"{SCHEMA}\",\n\"version\":\"2.1.0\",\n\"runs\":[{{\n\"tool\":{{\"driver\":"
        )?;
        serde_json::to_writer_pretty(&mut out, &driver)?;
        write!(
            out,
            "}},\n\"columnKind\":\"unicodeCodePoints\",\n\"results\":["
        )?;
        Ok(SarifWriter {
            out,
            first: true,
            index,
            errors: Vec::new(),
        })
    }

    /// Adds one file's findings as results (errors become notifications at the end).
    pub fn file(&mut self, report: &FileReport) -> io::Result<()> {
        for f in &report.findings {
            if !self.first {
                self.out.write_all(b",")?;
            }
            self.first = false;
            self.out.write_all(b"\n")?;
            let result = self.result(f);
            serde_json::to_writer(&mut self.out, &result)?;
        }
        self.errors.extend(report.errors.iter().cloned());
        Ok(())
    }

    fn result(&self, f: &Finding) -> Json {
        let region = json!({
            "startLine": f.line.max(1),
            "startColumn": f.column.max(1),
            "endLine": f.end_line.max(f.line).max(1),
            "endColumn": if f.end_line > f.line { f.end_column.max(1) } else { f.end_column.max(f.column + 1) },
        });
        let location = json!({
            "physicalLocation": {
                "artifactLocation": {"uri": uri(&f.file)},
                "region": region,
            },
            "logicalLocations": [{
                "name": f.resource,
                "fullyQualifiedName": f.cdk_path.as_deref().unwrap_or(&f.resource),
                "kind": "resource",
            }],
        });
        let mut result = json!({
            "ruleId": f.code,
            "level": level(f.severity),
            "message": {"text": format!("{}: {}", f.name, f.message)},
            "locations": [location],
            "partialFingerprints": {"tapLint/v1": fingerprint(f)},
        });
        if let Some(i) = self.index.get(&f.code) {
            result["ruleIndex"] = Json::from(*i);
        }
        let mut properties = serde_json::Map::new();
        properties.insert("pointer".into(), Json::from(f.pointer.as_str()));
        if let Some(path) = &f.cdk_path {
            properties.insert("cdkPath".into(), Json::from(path.as_str()));
        }
        if let Some(fix) = &f.fix {
            properties.insert(
                "fix".into(),
                json!({"applicability": fix.applicability, "title": fix.title}),
            );
        }
        // Display-only suggestions have no edits; applicable fixes carry the exact replacements
        // `--fix` would make, as SARIF `fixes` (GitHub code scanning shows them as suggestions).
        if let Some(fix) = f.fix.as_ref().filter(|_| !f.edits.is_empty()) {
            let replacements: Vec<Json> = f
                .edits
                .iter()
                .map(|e| {
                    json!({
                        "deletedRegion": {
                            "startLine": e.start_line,
                            "startColumn": e.start_column,
                            "endLine": e.end_line,
                            "endColumn": e.end_column,
                        },
                        "insertedContent": {"text": e.text},
                    })
                })
                .collect();
            result["fixes"] = json!([{
                "description": {"text": format!("{} ({})", fix.title, fix.applicability.as_str())},
                "artifactChanges": [{
                    "artifactLocation": result["locations"][0]["physicalLocation"]["artifactLocation"].clone(),
                    "replacements": replacements,
                }],
            }]);
        }
        result["properties"] = Json::Object(properties);
        result
    }

    /// Ends the log with the invocation: success flag and load errors as notifications.
    pub fn finish(mut self, summary: &Summary) -> io::Result<W> {
        let notifications: Vec<Json> = self
            .errors
            .iter()
            .map(|e| {
                let mut physical = json!({"artifactLocation": {"uri": uri(&e.file)}});
                if let Some(line) = e.line {
                    physical["region"] = json!({"startLine": line.max(1), "startColumn": e.column.unwrap_or(1).max(1)});
                }
                let text = match &e.help {
                    Some(h) => format!("{} (help: {h})", e.message),
                    None => e.message.clone(),
                };
                json!({"level": "error", "message": {"text": text}, "locations": [{"physicalLocation": physical}]})
            })
            .collect();
        let invocation = json!({
            "executionSuccessful": summary.errors == 0,
            "toolExecutionNotifications": notifications,
        });
        self.out
            .write_all(if self.first { b"],\n" } else { b"\n],\n" })?;
        self.out.write_all(b"\"invocations\":[")?;
        serde_json::to_writer(&mut self.out, &invocation)?;
        self.out.write_all(b"]\n}]\n}\n")?;
        Ok(self.out)
    }
}

/// SARIF levels for severities.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A file path as a URI reference: forward slashes, percent-encoded where URIs need it.
pub fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A fingerprint that survives unrelated edits: file, resource, rule and pointer, never lines.
pub fn fingerprint(f: &Finding) -> String {
    // FNV-1a: stable across Rust versions and platforms, unlike the std hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [uri(&f.file).as_str(), &f.resource, &f.code, &f.pointer] {
        for b in part.bytes().chain([0]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// The SARIF `reportingDescriptor` of a YAML rule: its docs as help, its first reference as link.
fn descriptor(r: &Rule, severity: Severity) -> Json {
    let help = format!(
        "{}\n\nWhy: {}\n\nFix: {}",
        r.docs.what.trim(),
        r.docs.why.trim(),
        r.docs.fix.trim()
    );
    let markdown = format!(
        "**{} {}**: {}\n\n{}\n\n**Why.** {}\n\n**Fix.** {}\n\n```yaml\n{}\n```",
        r.code,
        r.name,
        r.summary,
        r.docs.what.trim(),
        r.docs.why.trim(),
        r.docs.fix.trim(),
        r.docs.good.trim_end()
    );
    let mut d = json!({
        "id": r.code,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.docs.what.trim()},
        "help": {"text": help, "markdown": markdown},
        "defaultConfiguration": {"level": level(severity)},
        "properties": {"category": r.category, "tags": [r.category]},
    });
    // The rule's first reference (AWS documentation of the property it checks).
    if let Some(uri) = r.docs.references.first() {
        d["helpUri"] = Json::from(uri.as_str());
    }
    d
}

/// The descriptor of a meta rule; its help link is AWS's page on template `Metadata`.
fn meta_descriptor(m: &MetaRule, severity: Severity) -> Json {
    json!({
        "id": m.code,
        "name": m.name,
        "shortDescription": {"text": m.summary},
        "fullDescription": {"text": m.what},
        "help": {"text": format!("{}\n\nWhy: {}\n\nFix: {}", m.what, m.why, m.fix),
                 "markdown": format!("**{} {}**: {}\n\n**Why.** {}\n\n**Fix.** {}", m.code, m.name, m.what, m.why, m.fix)},
        "defaultConfiguration": {"level": level(severity)},
        "helpUri": METADATA_DOCS,
        "properties": {"category": "suppression", "tags": ["suppression"]},
    })
}
