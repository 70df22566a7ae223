//! Argument parsing and the commands: lint (default), rules, explain, test-rules.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::Value as Json;

use tap_lint::discover::{Target, discover};
use tap_lint::fix::{self, FixOptions};
use tap_lint::lint::{self, LintOptions};
use tap_lint::report::{Summary, human, json::JsonWriter};
use tap_lint::rules::{RuleSet, Settings, Severity};
use tap_lint::testing;

/// Exit code: nothing at or above `--fail-on`.
const EXIT_CLEAN: u8 = 0;
/// Exit code: findings at or above `--fail-on`.
const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage, configuration or rule errors, or unreadable input.
const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "tap-lint",
    version,
    about = "Keeps CloudFormation/CDK stacks deployable, destroyable and secure before they reach an account."
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    lint: LintArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Lint templates, folders and cdk.out assemblies (the default command).
    Check(LintArgs),
    /// List the rules in force.
    Rules(RuleArgs),
    /// Show a rule's documentation.
    Explain {
        /// Rule code (TAP101) or name (retain-deletion-policy).
        rule: String,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Run rules against their own passing and failing examples.
    TestRules {
        /// Folder of rule files (default: ./rules).
        dir: Option<PathBuf>,
    },
}

#[derive(Args, Clone, Default)]
struct RuleArgs {
    /// Add the rules in this folder (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    rule_dirs: Vec<PathBuf>,
    /// Use only the rules from --rules folders, not the built-in pack.
    #[arg(long)]
    no_builtin: bool,
    /// Environment-suffix parameter name that physical names must reference.
    #[arg(long, value_name = "NAME")]
    suffix_parameter: Option<String>,
    /// Literal environment suffix, for templates where CDK already resolved it (e.g. pr42).
    #[arg(long, value_name = "SUFFIX")]
    env_suffix: Option<String>,
    /// Allowed region (repeatable; default us-east-1).
    #[arg(long = "allowed-region", value_name = "REGION")]
    allowed_regions: Vec<String>,
    /// Override a rule setting: KEY=VALUE (VALUE is parsed as JSON when it can be).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    settings: Vec<String>,
}

#[derive(Args, Clone, Default)]
struct LintArgs {
    /// Template files (.json, .yaml, .yml, .template), folders or cdk.out assemblies.
    paths: Vec<PathBuf>,
    /// Apply safe fixes in place (atomically), then report what remains.
    #[arg(long)]
    fix: bool,
    /// Also apply fixes that change behaviour (replacements, permissions); with --fix or --diff.
    #[arg(long)]
    unsafe_fixes: bool,
    /// Print the fixes as a unified diff and write nothing (exit 1 when something would change).
    #[arg(long, conflicts_with_all = ["fix", "fix_only"])]
    diff: bool,
    /// Apply fixes without reporting the remaining findings.
    #[arg(long)]
    fix_only: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Lowest severity that makes the run fail (exit 1).
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    fail_on: FailOn,
    /// Only these rules (codes or names, repeatable).
    #[arg(long, value_name = "RULE")]
    select: Vec<String>,
    /// Skip these rules (codes or names, repeatable).
    #[arg(long, value_name = "RULE")]
    ignore: Vec<String>,
    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j')]
    threads: Option<usize>,
    #[command(flatten)]
    rules: RuleArgs,
}

#[derive(Clone, Copy, Default, ValueEnum)]
enum Format {
    #[default]
    Human,
    Json,
}

#[derive(Clone, Copy, Default, ValueEnum)]
enum FailOn {
    Error,
    #[default]
    Warning,
    Info,
    Never,
}

#[derive(Clone, Copy, Default, ValueEnum)]
enum Color {
    #[default]
    Auto,
    Always,
    Never,
}

/// Parses arguments and runs the command; every failure becomes a message and exit code 2.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_CLEAN
            });
        }
    };
    let result = match cli.command {
        Some(Command::Check(args)) => lint_command(args),
        None => lint_command(cli.lint),
        Some(Command::Rules(args)) => rules_command(&args),
        Some(Command::Explain { rule, rules }) => explain_command(&rule, &rules),
        Some(Command::TestRules { dir }) => test_rules_command(dir),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn settings(args: &RuleArgs) -> miette::Result<Settings> {
    let mut s = Settings::default();
    if let Some(p) = &args.suffix_parameter {
        s.values
            .insert("suffix_parameter".into(), Json::from(p.as_str()));
    }
    if let Some(p) = &args.env_suffix {
        s.values.insert("env_suffix".into(), Json::from(p.as_str()));
    }
    if !args.allowed_regions.is_empty() {
        s.values.insert(
            "allowed_regions".into(),
            Json::from(args.allowed_regions.clone()),
        );
    }
    for kv in &args.settings {
        let Some((k, v)) = kv.split_once('=') else {
            miette::bail!(
                help = "write --set glacier_transition_days=60",
                "`--set {kv}` is not KEY=VALUE"
            );
        };
        let value = serde_json::from_str(v).unwrap_or_else(|_| Json::from(v));
        s.values.insert(k.trim().to_string(), value);
    }
    Ok(s)
}

fn load_rules(args: &RuleArgs) -> miette::Result<RuleSet> {
    let settings = settings(args)?;
    let mut set = if args.no_builtin {
        RuleSet::default()
    } else {
        RuleSet::builtin(&settings)?
    };
    for dir in &args.rule_dirs {
        let extra = RuleSet::load_dir(dir, &settings)?;
        set.extend(extra)?;
    }
    if set.rules.is_empty() {
        miette::bail!(
            help = "pass --rules DIR with rule files, or drop --no-builtin",
            "no rules to run"
        );
    }
    Ok(set)
}

fn lint_command(args: LintArgs) -> miette::Result<u8> {
    if args.paths.is_empty() {
        miette::bail!(
            help = "tap-lint cdk.out   or   tap-lint template.yaml",
            "no paths given"
        );
    }
    if let Some(n) = args.threads {
        // Ignore the error when a global pool already exists (only possible in embedding programs).
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let mut set = load_rules(&args.rules)?;
    for key in args.select.iter().chain(&args.ignore) {
        if set.find(key).is_none() {
            miette::bail!(
                help = "`tap-lint rules` lists codes and names",
                "unknown rule `{key}`"
            );
        }
    }
    if !args.select.is_empty() {
        set.retain(|r| {
            args.select
                .iter()
                .any(|k| r.code.eq_ignore_ascii_case(k) || r.name == *k)
        });
    }
    set.retain(|r| {
        !args
            .ignore
            .iter()
            .any(|k| r.code.eq_ignore_ascii_case(k) || r.name == *k)
    });

    let (targets, discover_errors) = discover(&args.paths);
    if args.fix || args.fix_only || args.diff {
        let opts = FixOptions {
            unsafe_fixes: args.unsafe_fixes,
        };
        let outcome = fix_phase(&targets, &set, opts, args.diff);
        if args.diff || args.fix_only {
            return Ok(if outcome.errors > 0 || !discover_errors.is_empty() {
                EXIT_ERROR
            } else if args.diff && outcome.changed > 0 {
                EXIT_FINDINGS
            } else {
                EXIT_CLEAN
            });
        }
    }
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut summary = Summary::default();
    let mut hard_errors = discover_errors.len();
    for e in &discover_errors {
        eprintln!("error: {}: {}", e.path.display(), e.message);
    }
    let io = |e: std::io::Error| miette::miette!("cannot write the report: {e}");
    match args.format {
        Format::Human => {
            let opts = LintOptions {
                human: Some(human::Style { color }),
            };
            let mut failed = None;
            lint::lint_stream(&targets, &set, opts, |report| {
                summary.add(&report);
                hard_errors += report.errors.len();
                if failed.is_none()
                    && let Err(e) = out.write_all(report.rendered.as_bytes())
                {
                    failed = Some(e);
                }
            });
            if let Some(e) = failed {
                return Err(io(e));
            }
            writeln!(
                out,
                "{} finding(s) ({} error, {} warning, {} info; {} fixable) and {} error(s) in {} file(s)",
                summary.findings, summary.error_findings, summary.warning_findings, summary.info_findings, summary.fixable, summary.errors, summary.files
            )
            .map_err(io)?;
        }
        Format::Json => {
            let mut writer = JsonWriter::new(&mut out).map_err(io)?;
            let mut failed = None;
            lint::lint_stream(&targets, &set, LintOptions::default(), |report| {
                summary.add(&report);
                hard_errors += report.errors.len();
                if failed.is_none()
                    && let Err(e) = writer.file(&report)
                {
                    failed = Some(e);
                }
            });
            if let Some(e) = failed {
                return Err(io(e));
            }
            writer.finish(&summary).map_err(io)?;
        }
    }
    out.flush().map_err(io)?;
    if targets.is_empty() && discover_errors.is_empty() {
        eprintln!("warning: no templates found under the given paths");
    }
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    Ok(if hard_errors > 0 {
        EXIT_ERROR
    } else if threshold.is_some_and(|t| summary.at_or_above(t) > 0) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}

fn rules_command(args: &RuleArgs) -> miette::Result<u8> {
    let set = load_rules(args)?;
    let mut out = std::io::stdout().lock();
    for r in &set.rules {
        let fix = r.fix().map_or("-", |f| f.applicability.as_str());
        let _ = writeln!(
            out,
            "{:<8} {:<42} {:<8} {:<15} {:<12} {}",
            r.code,
            r.name,
            r.severity.as_str(),
            r.category,
            fix,
            r.summary
        );
    }
    Ok(EXIT_CLEAN)
}

fn explain_command(key: &str, args: &RuleArgs) -> miette::Result<u8> {
    let set = load_rules(args)?;
    let Some(r) = set.find(key) else {
        miette::bail!(
            help = "`tap-lint rules` lists codes and names",
            "unknown rule `{key}`"
        );
    };
    let d = &r.docs;
    // Every distinct fix the rule's assertions offer, best first.
    let mut fixes: Vec<String> = Vec::new();
    for f in r.assertions.iter().filter_map(|a| a.fix.as_ref()) {
        let line = format!("{} ({})", f.title, f.applicability.as_str());
        if !fixes.contains(&line) {
            fixes.push(line);
        }
    }
    let fix = if fixes.is_empty() {
        "none".to_string()
    } else {
        fixes.join("\n             ")
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} {} ({}, {})\n\n{}\n\nWhat\n  {}\n\nWhy\n  {}\n\nBad\n{}\nGood\n{}\nFix\n  {}\n  automatic: {}\n",
        r.code,
        r.name,
        r.severity.as_str(),
        r.category,
        r.summary,
        d.what.trim(),
        d.why.trim(),
        indent(&d.bad),
        indent(&d.good),
        d.fix.trim(),
        fix
    );
    if !d.references.is_empty() {
        let _ = writeln!(out, "References");
        for link in &d.references {
            let _ = writeln!(out, "  {link}");
        }
    }
    Ok(EXIT_CLEAN)
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

fn test_rules_command(dir: Option<PathBuf>) -> miette::Result<u8> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("rules"));
    let rules = RuleSet::load_dir(&dir, &Settings::default())?;
    if rules.is_empty() {
        miette::bail!(
            help = "rule files are YAML files that are not *.pass.* or *.fail.* examples",
            "no rule files in {}",
            dir.display()
        );
    }
    let results = testing::test_rules(rules);
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    for r in &results {
        if r.problems.is_empty() {
            let _ = writeln!(out, "ok    {}", r.rule);
        } else {
            failed += 1;
            let _ = writeln!(out, "FAIL  {}", r.rule);
            for p in &r.problems {
                let _ = writeln!(out, "      {p}");
            }
        }
    }
    let _ = writeln!(out, "{} passed, {} failed", results.len() - failed, failed);
    Ok(if failed == 0 {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    })
}

/// Totals of a fix run.
struct FixTotals {
    changed: usize,
    errors: usize,
}

/// Fixes every target (in parallel chunks, reported in order): diffs go to stdout, what was fixed
/// (with the CDK source change to make for cdk.out templates) and what could not be to stderr.
fn fix_phase(targets: &[Target], set: &RuleSet, opts: FixOptions, diff: bool) -> FixTotals {
    use rayon::prelude::*;
    let mut totals = FixTotals {
        changed: 0,
        errors: 0,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut err = std::io::stderr().lock();
    for chunk in targets.chunks(256) {
        let results: Vec<fix::FileFix> = chunk
            .par_iter()
            .map(|t| fix::fix_file(&t.path, set, opts, !diff, diff))
            .collect();
        for r in results {
            if let Some(e) = &r.error {
                totals.errors += 1;
                let _ = writeln!(err, "error: {}: cannot fix: {e}", r.file);
            }
            if let Some(d) = &r.diff {
                let _ = out.write_all(d.as_bytes());
            }
            if !r.applied.is_empty() {
                totals.changed += 1;
                let verb = if diff { "would fix" } else { "fixed" };
                let _ = writeln!(err, "{verb} {} issue(s) in {}", r.applied.len(), r.file);
                for a in &r.applied {
                    if let Some(cdk_path) = &a.cdk_path {
                        let change = a
                            .cdk
                            .as_deref()
                            .map_or_else(String::new, |c| format!(" (set `{c}`)"));
                        let _ = writeln!(
                            err,
                            "  note: {} {} was generated by CDK: change {cdk_path} in the CDK source too{change}, or the next synth undoes the fix",
                            a.code, a.resource
                        );
                    }
                }
            }
            for d in &r.dropped {
                let _ = writeln!(err, "warning: {}: not fixed: {d}", r.file);
            }
        }
    }
    totals
}
