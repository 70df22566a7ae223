//! Several reports in one run: each `--format` goes to stdout or to its `--output` file, written
//! atomically (a temporary file in the same folder, renamed into place when complete).

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::github::GithubWriter;
use super::json::JsonWriter;
use super::junit::JunitWriter;
use super::sarif::SarifWriter;
use super::{Summary, human};
use crate::finding::FileReport;
use crate::rules::RuleSet;

/// The report formats (also the values of `--format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc/ruff-style text with snippets.
    #[default]
    Human,
    /// The stable JSON document.
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// GitHub Actions workflow commands.
    Github,
    Junit,
}

/// Where a report goes.
pub enum Destination {
    Stdout(BufWriter<io::Stdout>),
    /// A temporary file renamed over `path` once the report is complete.
    File {
        /// The temporary file, in the target's folder so the rename is atomic.
        temp: BufWriter<crate::io::write::TempFile>,
        path: PathBuf,
    },
}

impl Destination {
    /// Opens stdout or a temporary file next to `path`.
    pub fn open(path: Option<&Path>) -> io::Result<Destination> {
        let Some(path) = path else {
            return Ok(Destination::Stdout(BufWriter::new(io::stdout())));
        };
        let dir = crate::io::write::folder_of(path);
        let temp = crate::io::write::TempFile::create_in(dir).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot write in {}: {e}", dir.display()))
        })?;
        Ok(Destination::File {
            temp: BufWriter::new(temp),
            path: path.to_path_buf(),
        })
    }

    /// Flushes, and for files renames the complete report into place.
    pub fn commit(self) -> io::Result<()> {
        match self {
            Destination::Stdout(mut out) => out.flush(),
            Destination::File { temp, path } => {
                let temp = temp.into_inner().map_err(io::IntoInnerError::into_error)?;
                temp.persist(&path).map_err(|e| {
                    io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
                })
            }
        }
    }

    /// Whether this goes to the terminal (or pipe) rather than a file.
    pub fn is_stdout(&self) -> bool {
        matches!(self, Destination::Stdout(_))
    }
}

impl Write for Destination {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Destination::Stdout(o) => o.write(buf),
            Destination::File { temp, .. } => temp.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Destination::Stdout(o) => o.flush(),
            Destination::File { temp, .. } => temp.flush(),
        }
    }
}

/// One report being written.
pub enum Output {
    /// Human text: each file's snippets, then the summary line.
    Human(Destination, human::Style),
    Json(JsonWriter<Destination>),
    Sarif(SarifWriter<Destination>),
    /// GitHub workflow commands.
    Github(GithubWriter<Destination>),
    Junit(JunitWriter<Destination>),
}

impl Output {
    /// Starts a report of `format` into `dest`.
    pub fn start(
        format: Format,
        dest: Destination,
        rules: &RuleSet,
        style: human::Style,
    ) -> io::Result<Output> {
        Ok(match format {
            Format::Human => Output::Human(dest, style),
            Format::Json => Output::Json(JsonWriter::new(dest)?),
            Format::Sarif => Output::Sarif(SarifWriter::new(dest, rules)?),
            Format::Github => Output::Github(GithubWriter::new(dest)),
            Format::Junit => Output::Junit(JunitWriter::new(dest, rules)?),
        })
    }

    /// Adds one file's report; `human` is false when `--statistics` replaces the listing.
    pub fn file(&mut self, report: &FileReport, human: bool) -> io::Result<()> {
        match self {
            Output::Human(out, style) if human => {
                if report.findings.is_empty() && report.errors.is_empty() {
                    return Ok(());
                }
                let source = report.source.as_deref().unwrap_or_default();
                out.write_all(human::render(report, source, *style).as_bytes())
            }
            Output::Human(..) => Ok(()),
            Output::Json(w) => w.file(report),
            Output::Sarif(w) => w.file(report),
            Output::Github(w) => w.file(report),
            Output::Junit(w) => w.file(report),
        }
    }

    /// Ends the report; `trailer` is extra text for human output (statistics, baseline lines).
    pub fn finish(self, summary: &Summary, trailer: &str) -> io::Result<()> {
        let dest = match self {
            Output::Human(mut out, _) => {
                out.write_all(trailer.as_bytes())?;
                writeln!(out, "{}", summary_line(summary))?;
                out
            }
            Output::Json(w) => w.finish(summary)?,
            Output::Sarif(w) => w.finish(summary)?,
            Output::Github(w) => w.finish(),
            Output::Junit(w) => w.finish()?,
        };
        dest.commit()
    }
}

/// The last line of human output.
pub fn summary_line(s: &Summary) -> String {
    format!(
        "{} finding(s) ({} error, {} warning, {} info; {} fixable) and {} error(s) in {} file(s)",
        s.findings,
        s.error_findings,
        s.warning_findings,
        s.info_findings,
        s.fixable,
        s.errors,
        s.files
    )
}

/// Pairs `--format` and `--output` by their positions on the command line: each `--output`
/// belongs to the nearest `--format` before it; a format without one writes to stdout (only one
/// may); with no `--format` at all, a single `--output` receives the human report.
pub fn pair(
    formats: &[(usize, Format)],
    outputs: &[(usize, PathBuf)],
) -> Result<Vec<(Format, Option<PathBuf>)>, String> {
    let mut pairs: Vec<(usize, Format, Option<PathBuf>)> =
        formats.iter().map(|(i, f)| (*i, *f, None)).collect();
    if pairs.is_empty() {
        pairs.push((0, Format::Human, None));
    }
    for (at, path) in outputs {
        let owner = if formats.is_empty() {
            pairs.first_mut()
        } else {
            pairs.iter_mut().rev().find(|(i, _, _)| i < at)
        };
        match owner {
            Some((_, _, slot @ None)) => *slot = Some(path.clone()),
            Some((_, f, Some(_))) => {
                return Err(format!(
                    "two --output files for one --format {f:?}; give each --output its own --format before it"
                ));
            }
            None => {
                return Err(format!(
                    "--output {} comes before any --format; write --format FORMAT --output FILE",
                    path.display()
                ));
            }
        }
    }
    if pairs.iter().filter(|p| p.2.is_none()).count() > 1 {
        return Err(
            "more than one --format writes to stdout; give all but one an --output FILE".into(),
        );
    }
    Ok(pairs.into_iter().map(|(_, f, p)| (f, p)).collect())
}
