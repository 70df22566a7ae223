//! Argument parsing and the commands: lint (default), rules, explain, test-rules, init.

mod fix_run;
mod lint_run;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use serde_json::Value as Json;

use tap_lint::report::outputs;
use tap_lint::rules::{Info, Kind, Rule, RuleSet, Settings};
use tap_lint::run::config::{self, Config};
use tap_lint::run::testing;

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
    /// Write a commented default `.tap-lint.yaml` in the current folder (never overwrites).
    Init,
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
    /// Config file (default: the first .tap-lint.yaml from the working directory upwards).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Ignore any .tap-lint.yaml.
    #[arg(long, conflicts_with = "config")]
    no_config: bool,
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
    /// Output format (repeatable; each --output goes to the nearest --format before it, a
    /// format without --output writes to stdout).
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Vec<outputs::Format>,
    /// Write the report of the preceding --format to FILE (atomically).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Vec<PathBuf>,
    /// Print how many findings each rule produced instead of listing them.
    #[arg(long)]
    statistics: bool,
    /// Report only findings that are not in this baseline file.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record the current findings in this baseline file (exit 0 unless files fail to load).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Lowest severity that makes the run fail (exit 1) [default: warning, or the config's].
    #[arg(long, value_enum)]
    fail_on: Option<tap_lint::run::config::FailOn>,
    /// Only these rules (codes, names or categories, repeatable).
    #[arg(long, value_name = "RULE")]
    select: Vec<String>,
    /// These rules on top of the selection (codes, names or categories, repeatable): the way
    /// to turn on an opt-in rule and keep the rest.
    #[arg(long, value_name = "RULE")]
    extend_select: Vec<String>,
    /// Skip these rules (codes, names or categories, repeatable).
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
enum Color {
    #[default]
    Auto,
    Always,
    Never,
}

/// Parses arguments and runs the command; every failure becomes a message and exit code 2.
pub fn run() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|c| (c, m)));
    let (cli, matches) = match parsed {
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
    // Before any file is written: Ctrl-C must not leave temporary files behind. Without the
    // handler the run is still safe (no template is ever half-written), only less tidy.
    if let Err(e) = tap_lint::io::write::install_signal_cleanup() {
        eprintln!(
            "warning: cannot handle SIGINT/SIGTERM ({e}); an interrupted run may leave `.tap-lint-*.tmp` files"
        );
    }
    let result = match cli.command {
        Some(Command::Check(args)) => {
            let sub = matches.subcommand_matches("check").unwrap_or(&matches);
            lint_command(args, sub)
        }
        None => lint_command(cli.lint, &matches),
        Some(Command::Rules(args)) => rules_command(&args),
        Some(Command::Explain { rule, rules }) => explain_command(&rule, &rules),
        Some(Command::TestRules { dir }) => test_rules_command(dir),
        Some(Command::Init) => init_command(),
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

/// The config in force: `--config FILE`, else the nearest `.tap-lint.yaml`, unless `--no-config`.
fn load_config(args: &RuleArgs) -> miette::Result<Option<Config>> {
    let path = match &args.config {
        Some(p) => Some(p.clone()),
        None if args.no_config => None,
        None => std::env::current_dir().ok().and_then(|d| config::find(&d)),
    };
    match path {
        Some(p) => Ok(Some(Config::load(&p)?)),
        None => Ok(None),
    }
}

fn load_rules(args: &RuleArgs, config: Option<&Config>) -> miette::Result<RuleSet> {
    let cli = settings(args)?;
    let mut settings = cli.clone();
    if let Some(c) = config {
        for (k, v) in c.settings() {
            settings
                .values
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
    }
    let mut set = if args.no_builtin {
        RuleSet::default()
    } else {
        RuleSet::builtin(&settings)?
    };
    for dir in config
        .map(Config::rule_dirs)
        .unwrap_or_default()
        .iter()
        .chain(&args.rule_dirs)
    {
        let extra = RuleSet::load_dir(dir, &settings)?;
        set.extend(extra)?;
    }
    if set.is_empty() {
        miette::bail!(
            help = "pass --rules DIR with rule files, or drop --no-builtin",
            "no rules to run"
        );
    }
    let known = set.known_settings();
    for (key, value) in &cli.values {
        if let Err((message, help)) = Settings::check(&known, key, value) {
            let help = help.unwrap_or_else(|| format!("write --set {key}=VALUE"));
            miette::bail!(help = help, "--set {key}: {message}");
        }
    }
    if let Some(c) = config {
        c.check_settings(&set)?;
        c.apply(&mut set)?;
    }
    Ok(set)
}

fn lint_command(args: LintArgs, matches: &ArgMatches) -> miette::Result<u8> {
    let positions = |id: &str| -> Vec<usize> {
        matches
            .indices_of(id)
            .map(Iterator::collect)
            .unwrap_or_default()
    };
    let formats: Vec<(usize, outputs::Format)> = positions("format")
        .into_iter()
        .zip(args.format.iter().copied())
        .collect();
    let files: Vec<(usize, PathBuf)> = positions("output")
        .into_iter()
        .zip(args.output.iter().cloned())
        .collect();
    let pairs = outputs::pair(&formats, &files).map_err(|e| {
        miette::miette!(
            help = "tap-lint --format human --format sarif --output results.sarif PATHS",
            "{e}"
        )
    })?;
    lint_run::lint(args, pairs)
}

fn rules_command(args: &RuleArgs) -> miette::Result<u8> {
    let config = load_config(args)?;
    let set = load_rules(args, config.as_ref())?;
    let mut out = std::io::stdout().lock();
    for r in set.all() {
        let fix = match r.kind {
            Kind::Declarative(rule) => rule.fix().map_or("-", |f| f.applicability.as_str()),
            Kind::Meta(_) => "-",
        };
        let opt_in = if r.opt_in { "(opt-in) " } else { "" };
        let _ = writeln!(
            out,
            "{:<8} {:<42} {:<8} {:<15} {:<12} {opt_in}{}",
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
    let config = load_config(args)?;
    let set = load_rules(args, config.as_ref())?;
    let Some(info) = set.find(key) else {
        miette::bail!(
            help = "`tap-lint rules` lists codes and names",
            "unknown rule `{key}`"
        );
    };
    let text = match info.kind {
        Kind::Declarative(rule) => explain_rule(&info, rule),
        Kind::Meta(m) => format!(
            "{} {} ({}, suppression; built into the engine)\n\n{}\n\nWhat\n  {}\n\nWhy\n  {}\n\nFix\n  {}\n  automatic: none\n\nSee docs/configuration.md, `Suppressions`.\n",
            m.code,
            m.name,
            info.severity.as_str(),
            m.summary,
            m.what,
            m.why,
            m.fix
        ),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(EXIT_CLEAN)
}

/// `tap-lint explain` for a YAML rule: its docs, examples, every fix it offers and references.
fn explain_rule(info: &Info<'_>, r: &Rule) -> String {
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
    let mut out = format!(
        "{} {} ({}, {})\n\n{}\n\nWhat\n  {}\n\nWhy\n  {}\n\nBad\n{}\nGood\n{}\nFix\n  {}\n  automatic: {}\n\n",
        r.code,
        r.name,
        info.severity.as_str(),
        r.category,
        r.summary,
        d.what.trim(),
        d.why.trim(),
        indent(&d.bad),
        indent(&d.good),
        d.fix.trim(),
        fix
    );
    if r.opt_in {
        out.push_str(&format!(
            "Opt-in\n  a policy choice, off unless named by code or name: `extend-select: [{}]` in\n  .tap-lint.yaml or `--extend-select {}` (a category does not enable it)\n\n",
            r.code, r.code
        ));
    }
    if !r.declared_settings.is_empty() {
        out.push_str("Settings (.tap-lint.yaml `settings:` or --set NAME=VALUE)\n");
        for (name, default) in &r.declared_settings {
            let value = r.settings.get(name).unwrap_or(default);
            let now = if value == default {
                String::new()
            } else {
                format!(" (in force: {value})")
            };
            out.push_str(&format!("  {name}: {default}{now}\n"));
        }
        out.push('\n');
    }
    if !d.references.is_empty() {
        out.push_str("References\n");
        for link in &d.references {
            out.push_str(&format!("  {link}\n"));
        }
    }
    out
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

fn init_command() -> miette::Result<u8> {
    use std::io::ErrorKind;
    let path = PathBuf::from(config::FILE_NAME);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(mut f) => {
            f.write_all(config::DEFAULT_CONFIG.as_bytes())
                .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?;
            println!("wrote {}", path.display());
            Ok(EXIT_CLEAN)
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => miette::bail!(
            help = "edit it, or delete it first to start over",
            "{} already exists; not overwriting it",
            path.display()
        ),
        Err(e) => miette::bail!("cannot write {}: {e}", path.display()),
    }
}
