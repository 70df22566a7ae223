//! The fix stage of the lint command (`--fix`, `--fix-only`, `--diff`): fixing in parallel,
//! writing, and reporting each file in order.

use std::io::Write;
use std::path::Path;

use tap_lint::fix::{self, FixOptions};
use tap_lint::io::discover::Target;
use tap_lint::rules::RuleSet;

/// Totals of a fix run.
pub(super) struct FixTotals {
    /// Files fixed (or, with `--diff`, that would be).
    pub(super) changed: usize,
    /// Files that could not be fixed or written.
    pub(super) errors: usize,
}

/// Fixes every target (in parallel chunks, reported in order): diffs go to stdout, what was fixed
/// (with the CDK source change to make for cdk.out templates) and what could not be to stderr.
/// Unless `diff`, a writer thread puts each chunk on disk while the workers fix the next ones, so
/// waiting for the disk never idles them. With `report`, each file is also reported (what remains
/// after fixing) to the sink, in order, from the fix's own last evaluation.
pub(super) fn fix_phase(
    targets: &[Target],
    set: &RuleSet,
    opts: FixOptions,
    diff: bool,
    mut report: Option<(
        tap_lint::run::lint::LintOptions,
        &mut dyn FnMut(tap_lint::finding::FileReport),
    )>,
) -> FixTotals {
    let mut totals = FixTotals {
        changed: 0,
        errors: 0,
    };
    let lint_opts = report.as_ref().map(|(o, _)| *o);
    let emit = |results: Vec<(&Target, fix::FileFix)>| {
        // Locked only while writing: never across the parallel work.
        let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
        for (_, r) in results {
            let reported = r.report.is_some();
            print_outcome(&r, diff, reported, &mut totals, &mut out, &mut err);
            if let (Some((_, sink)), Some(file_report)) = (report.as_mut(), r.report) {
                // The sink writes its own output: release the locks while it runs.
                drop((out, err));
                sink(file_report);
                (out, err) = (std::io::stdout().lock(), std::io::stderr().lock());
            }
        }
    };
    let fix_one = |t: &Target| match lint_opts {
        Some(lo) => fix_and_report(&t.path, set, opts, lo),
        None => fix::fix_file(&t.path, set, opts, diff),
    };
    if diff {
        let fix_one = |t| (t, fix_one(t));
        tap_lint::run::lint::ordered_chunks(targets, FIX_CHUNK, fix_one, emit);
        return totals;
    }
    let mut sweeper = tap_lint::io::write::Sweeper::default();
    let write = |chunk: &mut Vec<(&Target, fix::FileFix)>| {
        sweep(&mut sweeper, chunk.iter().map(|(t, _)| *t));
        let written = fix::write_fixed(chunk.iter_mut().map(|(t, r)| (t.real.as_deref(), r)));
        for (outcome, (target, r)) in written.into_iter().zip(chunk) {
            let outcome = match outcome {
                fix::Written::Changed => refix(target, r, &fix_one),
                done => done,
            };
            if outcome == fix::Written::Failed
                && let Some(lo) = lint_opts
            {
                // The file is as it was: report it from disk, not from the unwritten fix, and
                // the failure with it.
                let mut report = tap_lint::run::lint::lint_file(&target.path, set, lo);
                if let Some(e) = &r.error {
                    report.push_error(e.clone(), None);
                }
                r.report = Some(report);
            }
        }
    };
    let fix_one = |t| (t, fix_one(t));
    write_behind(targets, fix_one, write, emit);
    totals
}

/// Three stages, each chunk in order: the workers fix, a writer thread puts the fixed files on
/// disk (mostly waiting for it), and this thread reports what the writer has finished.
fn write_behind<'t, R: Send>(
    targets: &'t [Target],
    fix_one: impl Fn(&'t Target) -> R + Sync,
    mut write: impl FnMut(&mut Vec<R>) + Send,
    mut emit: impl FnMut(Vec<R>),
) {
    std::thread::scope(|s| {
        let (to_writer, jobs) = std::sync::mpsc::channel::<Vec<R>>();
        let (to_report, written) = std::sync::mpsc::channel();
        s.spawn(move || {
            for mut chunk in jobs {
                write(&mut chunk);
                if to_report.send(chunk).is_err() {
                    break;
                }
            }
        });
        let mut queued = 0usize;
        tap_lint::run::lint::ordered_chunks(targets, FIX_CHUNK, fix_one, |chunk| {
            // A closed channel means the writer panicked: the scope re-raises that below.
            let _ = to_writer.send(chunk);
            queued += 1;
            if queued > 1
                && let Ok(done) = written.recv()
            {
                queued -= 1;
                emit(done);
            }
        });
        drop(to_writer);
        written.into_iter().for_each(&mut emit);
    });
}

/// `--fix`: fixes a file in memory and reports what remains from the last fix round's
/// evaluation instead of linting the fixed text again (which would cost a whole extra pass). The
/// report assumes the caller writes the file; if `write_fixed` fails, lint the file again.
fn fix_and_report(
    path: &Path,
    rules: &RuleSet,
    opts: FixOptions,
    lint_opts: tap_lint::run::lint::LintOptions,
) -> fix::FileFix {
    let mut out = fix::fix_file(path, rules, opts, false);
    out.report = Some(match out.evaluated.take() {
        Some((text, t, raws)) => {
            let syntax = tap_lint::load::detect_syntax(path, &text);
            tap_lint::run::lint::report_of(
                &out.file,
                &text,
                syntax,
                Ok((&t, raws)),
                rules,
                lint_opts,
            )
        }
        // The fix failed or could not start: report the file as it is on disk, and the failure
        // unless linting finds it too (a file that does not load fails both the same way).
        None => {
            let mut report = tap_lint::run::lint::lint_file(path, rules, lint_opts);
            if let Some(e) = &out.error
                && report.errors.is_empty()
            {
                report.push_error(format!("cannot fix: {e}"), None);
            }
            report
        }
    });
    out
}

/// A file that changed while it was being fixed (another program, or another `--fix` run, wrote
/// it) is fixed again from what it holds now, a few times; if it keeps changing, it is left
/// alone and reported as an error. No change is ever overwritten unseen.
fn refix(
    target: &Target,
    r: &mut fix::FileFix,
    fix_one: &(impl Fn(&Target) -> fix::FileFix + Sync),
) -> fix::Written {
    const ATTEMPTS: usize = 3;
    for _ in 0..ATTEMPTS {
        *r = fix_one(target);
        match fix::write_fixed([(target.real.as_deref(), &mut *r)]).pop() {
            Some(fix::Written::Changed) => {}
            Some(done) => return done,
            None => break,
        }
    }
    r.write_failed(format!(
        "it changed {ATTEMPTS} times while it was being fixed (another program is writing it); it was left as that program wrote it, so run `--fix` again"
    ));
    fix::Written::Failed
}

/// Removes what killed runs left in the folders about to be written, and says so.
fn sweep<'a>(
    sweeper: &mut tap_lint::io::write::Sweeper,
    targets: impl Iterator<Item = &'a Target>,
) {
    for target in targets {
        let Some(dir) = target.real.as_deref().map(tap_lint::io::write::folder_of) else {
            continue;
        };
        let removed = sweeper.sweep(dir);
        if removed > 0 {
            eprintln!(
                "note: removed {removed} temporary file(s) left in {} by an interrupted tap-lint run",
                dir.display()
            );
        }
    }
}

/// Prints what fixing one file did: its diff to stdout; what was fixed (with the CDK source
/// change to make for cdk.out templates), what was not and why, to stderr. An error is left to
/// the file's report when there is one (`reported`), so it is not shown twice.
fn print_outcome(
    r: &fix::FileFix,
    diff: bool,
    reported: bool,
    totals: &mut FixTotals,
    out: &mut impl Write,
    err: &mut impl Write,
) {
    if let Some(e) = &r.error {
        totals.errors += 1;
        if !reported {
            let _ = writeln!(err, "error: {}: cannot fix: {e}", r.file);
        }
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

/// Files fixed in parallel per chunk (a fix holds more in memory than a lint).
const FIX_CHUNK: usize = 256;
