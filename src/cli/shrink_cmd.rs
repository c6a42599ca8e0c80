//! `faultline shrink`: one failing seed, shrunk to the smallest scenario
//! found that fails the same check, written out with its report.

use super::error::{CliError, ErrorKind};
use crate::run_output::reproduce_command;
use crate::shrinking;
use scenarios::shrink::{Target, CANDIDATES_MAX};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct ShrinkOptions {
    pub seed: Option<u64>,
    pub sets: Vec<String>,
    pub check: Option<String>,
    pub any_failure: bool,
    pub budget: String,
    pub candidates: u64,
    pub jobs: Option<usize>,
    pub out: Option<PathBuf>,
    pub json: bool,
    pub progress_every: std::time::Duration,
    pub report: Option<reports::run_report::RunOptions>,
}

/// `--candidates`, checked.
fn candidates(n: u64) -> Result<u64, CliError> {
    if (1..=CANDIDATES_MAX).contains(&n) {
        Ok(n)
    } else {
        Err(CliError::argument(
            "--candidates",
            format!("{n}: must be between 1 and {CANDIDATES_MAX}"),
        ))
    }
}

pub fn shrink(
    path: &Path,
    options: ShrinkOptions,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, CliError> {
    let budget =
        shrinking::parse_budget(&options.budget).map_err(|e| CliError::argument("--budget", e))?;
    let candidates_max = candidates(options.candidates)?;
    let jobs = super::jobs::jobs(options.jobs)?.min(scenarios::shrink::JOBS_MAX);
    let (scenario, source, applied) = super::load_with_sets(path, &options.sets)?;
    let seed = options.seed.unwrap_or(scenario.seed);
    let target = target(&options, &scenario)?;
    let resolved = scenarios::resolve(&scenario, seed);
    // As many candidates at once as their memory budgets fit; the result
    // is the same for any number.
    let (jobs, note) = super::jobs::fit_jobs(resolved.limits.memory.0, jobs, None)
        .expect("no --memory-total to parse");
    if let (Some(note), false) = (note, options.json) {
        let _ = writeln!(
            stderr,
            "note: {}",
            note.replace(
                " (--memory-total); verdicts do not change",
                "; the result does not change"
            )
        );
    }
    let original = reproduce_command(&source, seed, &applied);
    let params = shrinking::Params {
        target,
        candidates_max,
        jobs,
        budget,
        progress_every: options.progress_every,
    };
    let (shrunk, wall) =
        shrinking::search(&resolved, &params, Some(&mut *stderr)).map_err(|refusal| {
            CliError::new(
                ErrorKind::Refused,
                format!("{source} seed {seed}: {refusal}"),
            )
            .with_file(&source)
        })?;
    let out_dir = options.out.unwrap_or_else(|| {
        PathBuf::from("faultline-out")
            .join(&scenario.name)
            .join(format!("shrink-seed-{seed}"))
    });
    let summary = shrinking::write(&out_dir, &shrunk, wall, original, options.report.as_ref())?;
    if options.json {
        super::print_json(stdout, &summary);
    } else {
        let _ = shrinking::render(&summary, stdout);
    }
    Ok(0)
}

/// The failure to keep: `--check`'s (a check or invariant the protocol
/// has), any failure, or (None) the run's first.
fn target(
    options: &ShrinkOptions,
    scenario: &scenarios::Scenario,
) -> Result<Option<Target>, CliError> {
    Ok(match (&options.check, options.any_failure) {
        (Some(name), _) => {
            let known = scenarios::validate::check_names(&scenario.protocol);
            if !known.contains(&name.as_str()) {
                return Err(CliError::argument(
                    "--check",
                    format!(
                        "{name}: not a check or invariant of this protocol; give one of {}",
                        known.join(", ")
                    ),
                ));
            }
            Some(Target::Check(name.clone()))
        }
        (None, true) => Some(Target::AnyFailure),
        (None, false) => None,
    })
}

/// `faultline shrink`'s flags, as clap reads them (the command's help is
/// its variant's doc comment in `cli/mod.rs`).
#[derive(clap::Args, Debug)]
pub struct ShrinkArgs {
    /// A scenario file, or a curated scenario's name (`faultline list`).
    pub scenario: PathBuf,
    /// The failing seed; defaults to the scenario's `seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override a field: --set network.default.loss=0.1 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// The failure to keep: a check or invariant name, or panic. By
    /// default the run's first failure.
    #[arg(long, value_name = "NAME", conflicts_with = "any_failure")]
    pub check: Option<String>,
    /// Any failure counts, not only the original one (a panic included).
    #[arg(long)]
    pub any_failure: bool,
    /// Wall time the search may take; it then stops with the best so far.
    #[arg(long, value_name = "TIME", default_value = "60s")]
    pub budget: String,
    /// Candidates run at most; the search then stops with the best so far.
    #[arg(long, value_name = "N", default_value_t = scenarios::shrink::CANDIDATES_DEFAULT)]
    pub candidates: u64,
    /// Candidates run at once; defaults to the number of cores. The
    /// result does not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Output directory; defaults to faultline-out/<name>/shrink-seed-<seed>.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seconds between progress lines on stderr.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub progress_every: f64,
    /// Skip the shrunk run's charts and report.html (written by default).
    #[arg(long)]
    pub no_report: bool,
    #[command(flatten)]
    pub window: super::WindowArgs,
}

/// Runs `faultline shrink` from its flags.
pub fn from_args(
    args: ShrinkArgs,
    json: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, CliError> {
    let ShrinkArgs {
        scenario,
        seed,
        sets,
        check,
        any_failure,
        budget,
        candidates,
        jobs,
        out,
        progress_every,
        no_report,
        window,
    } = args;
    let report = window.options()?;
    let options = ShrinkOptions {
        seed,
        sets,
        check,
        any_failure,
        budget,
        candidates,
        jobs,
        out,
        json,
        progress_every: super::progress_interval(progress_every)?,
        report: (!no_report).then_some(report),
    };
    shrink(&scenario, options, stdout, stderr)
}
