//! The lint command's run: config, selection, discovery, baseline, and every requested report.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use tap_lint::finding::FileReport;
use tap_lint::fix::FixOptions;
use tap_lint::io::discover::{DiscoverError, Target, discover};
use tap_lint::report::baseline::{Baseline, BaselineWriter};
use tap_lint::report::outputs::{self, Destination, Output};
use tap_lint::report::statistics::Statistics;
use tap_lint::report::{Summary, human};
use tap_lint::rules::RuleSet;
use tap_lint::run::config::Config;
use tap_lint::run::lint::{self, LintOptions};

use super::fix_run::fix_phase;
use super::{Color, EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, LintArgs, load_config, load_rules};

/// Runs the lint command with its reports already paired with their destinations.
pub(super) fn lint(
    args: LintArgs,
    pairs: Vec<(outputs::Format, Option<PathBuf>)>,
) -> miette::Result<u8> {
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
    let config = load_config(&args.rules)?;
    let mut set = load_rules(&args.rules, config.as_ref())?;
    select(&mut set, &args, config.as_ref())?;

    let (mut targets, discover_errors) = discover(&args.paths);
    if let Some(c) = &config {
        let filter = c.file_filter()?;
        targets.retain(|t| args.paths.contains(&t.path) || filter.accepts(&t.path));
    }
    let fix_opts = FixOptions {
        unsafe_fixes: args.unsafe_fixes,
    };
    // `--diff` and `--fix-only` stop after fixing; `--fix` fixes and reports in one pass.
    if args.fix_only || args.diff {
        return Ok(fix_only(&args, &targets, &discover_errors, &set, fix_opts));
    }
    let totals = report(&args, &pairs, &set, &targets, &discover_errors, fix_opts)?;
    if targets.is_empty() && discover_errors.is_empty() {
        eprintln!("warning: no templates found under the given paths");
    }
    let threshold = args
        .fail_on
        .or_else(|| config.as_ref().and_then(Config::fail_on))
        .unwrap_or_default()
        .threshold();
    Ok(if totals.hard_errors > 0 {
        EXIT_ERROR
    } else if args.write_baseline.is_some() {
        EXIT_CLEAN
    } else if threshold.is_some_and(|t| totals.summary.at_or_above(t) > 0) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}

/// `--diff` and `--fix-only`: fix (or show the fixes) and report nothing else.
fn fix_only(
    args: &LintArgs,
    targets: &[Target],
    discover_errors: &[DiscoverError],
    set: &RuleSet,
    fix_opts: FixOptions,
) -> u8 {
    for e in discover_errors {
        eprintln!("error: {}: {}", e.path.display(), e.message);
        if let Some(help) = &e.help {
            eprintln!("  help: {help}");
        }
    }
    let outcome = fix_phase(targets, set, fix_opts, args.diff, None);
    if outcome.errors > 0 || !discover_errors.is_empty() {
        EXIT_ERROR
    } else if args.diff && outcome.changed > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

/// What the reports of a run add up to, for the exit status.
struct Totals {
    summary: Summary,
    hard_errors: usize,
}

/// Lints (or fixes and lints) every target into every requested report, with the baseline's
/// filter and recorder between the findings and the reports.
fn report(
    args: &LintArgs,
    pairs: &[(outputs::Format, Option<PathBuf>)],
    set: &RuleSet,
    targets: &[Target],
    discover_errors: &[DiscoverError],
    fix_opts: FixOptions,
) -> miette::Result<Totals> {
    let mut baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    let mut recorder = args.write_baseline.as_deref().map(BaselineWriter::new);
    let human_on_stdout = pairs
        .iter()
        .any(|(f, p)| *f == outputs::Format::Human && p.is_none());
    let style = human::Style {
        color: colour(args.color, pairs, human_on_stdout),
    };
    let mut reports = Vec::new();
    for (format, path) in pairs {
        let dest = Destination::open(path.as_deref()).map_err(io)?;
        reports.push(Output::start(*format, dest, set, style).map_err(io)?);
    }
    let opts = LintOptions {
        keep_source: pairs.iter().any(|(f, _)| *f == outputs::Format::Human),
        fix_edits: pairs.iter().any(|(f, _)| *f == outputs::Format::Sarif),
    };
    let mut totals = Totals {
        summary: Summary::default(),
        hard_errors: 0,
    };
    let mut statistics = Statistics::default();
    let mut failed = None;
    let mut sink = |mut report: FileReport| {
        if let Some(r) = recorder.as_mut() {
            r.add(&report);
        }
        if let Some(b) = baseline.as_mut() {
            b.filter(&mut report);
        }
        totals.summary.add(&report);
        statistics.add(&report);
        totals.hard_errors += report.errors.len();
        for (out, (_, path)) in reports.iter_mut().zip(pairs) {
            let listing = !(args.statistics && path.is_none());
            if failed.is_none()
                && let Err(e) = out.file(&report, listing)
            {
                failed = Some(e);
            }
        }
    };
    unusable_paths(discover_errors)
        .into_iter()
        .for_each(&mut sink);
    if args.fix {
        // Each file's report comes from its last fix round: no second lint pass.
        fix_phase(targets, set, fix_opts, false, Some((opts, &mut sink)));
    } else {
        lint::lint_stream(targets, set, opts, sink);
    }
    if let Some(e) = failed {
        return Err(io(e));
    }
    let trailer = trailer(args, &statistics, baseline.as_ref())?;
    if !human_on_stdout && !trailer.is_empty() {
        eprint!("{trailer}");
    }
    for (out, (_, path)) in reports.into_iter().zip(pairs) {
        out.finish(&totals.summary, if path.is_none() { &trailer } else { "" })
            .map_err(io)?;
    }
    if let (Some(r), Some(path)) = (recorder, &args.write_baseline) {
        let n = r
            .write()
            .map_err(|e| miette::miette!("cannot write the baseline {}: {e}", path.display()))?;
        eprintln!("wrote {n} finding(s) to the baseline {}", path.display());
    }
    Ok(totals)
}

fn io(e: std::io::Error) -> miette::Report {
    miette::miette!("cannot write the report: {e}")
}

/// Colour only when human output goes to stdout alone (a file must not get escape codes) and
/// `--color`, `NO_COLOR` and the terminal agree.
fn colour(
    choice: Color,
    pairs: &[(outputs::Format, Option<PathBuf>)],
    human_on_stdout: bool,
) -> bool {
    human_on_stdout
        && pairs
            .iter()
            .all(|(f, p)| *f != outputs::Format::Human || p.is_none())
        && match choice {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
}

/// A path that could not be used is reported like a file that could not be read, in every
/// format's errors and in the summary: one report per path, however many of its entries failed
/// (a manifest can name many).
fn unusable_paths(errors: &[DiscoverError]) -> Vec<FileReport> {
    let mut by_path: Vec<FileReport> = Vec::new();
    for e in errors {
        let file = e.path.display().to_string();
        match by_path.iter_mut().find(|r| r.file == file) {
            Some(r) => {
                r.push_error(e.message.clone(), e.help.clone());
            }
            None => by_path.push(lint::failed(&file, e.message.clone(), e.help.clone())),
        }
    }
    by_path
}

/// Statistics and baseline lines: they end the human report on stdout, else go to stderr.
fn trailer(
    args: &LintArgs,
    statistics: &Statistics,
    baseline: Option<&Baseline>,
) -> miette::Result<String> {
    let mut out = Vec::new();
    if args.statistics {
        statistics.write(&mut out).map_err(io)?;
    }
    if let Some(b) = baseline {
        writeln!(
            out,
            "{} finding(s) hidden by the baseline; {} baselined finding(s) fixed",
            b.baselined,
            b.fixed()
        )
        .map_err(io)?;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Applies `select`/`extend-select`/`ignore` from the CLI and the config: CLI `--select`
/// replaces the config's, the other two add to it; keys are codes, names or categories (meta
/// rules: `suppression`). `ignore` wins over both selections.
fn select(set: &mut RuleSet, args: &LintArgs, config: Option<&Config>) -> miette::Result<()> {
    if let Some(key) = (args.select.iter())
        .chain(&args.extend_select)
        .chain(&args.ignore)
        .find(|k| !set.knows(k))
    {
        miette::bail!(
            help = "`tap-lint rules` lists codes, names and categories",
            "unknown rule `{key}`"
        );
    }
    let select: Vec<String> = if args.select.is_empty() {
        config.map(|c| c.select().to_vec()).unwrap_or_default()
    } else {
        args.select.clone()
    };
    let extend: Vec<&String> = (config.map(Config::extend_select).unwrap_or_default().iter())
        .chain(&args.extend_select)
        .collect();
    let ignore: Vec<&String> = config
        .map(Config::ignore)
        .unwrap_or_default()
        .iter()
        .chain(&args.ignore)
        .collect();
    set.select(|r| {
        (r.selected_by(&select) || (!extend.is_empty() && r.selected_by(&extend)))
            && !ignore.iter().any(|k| r.matches(k))
    });
    Ok(())
}
