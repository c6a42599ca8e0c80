//! `faultline sweep` and `faultline merge`.

use super::error::{CliError, ErrorKind};
use crate::progress::ProgressMode;
use crate::sweep::{self, Existing, SweepPlan};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

pub struct SweepOptions {
    pub seeds: Option<String>,
    pub jobs: Option<usize>,
    pub shard: Option<String>,
    pub resume: bool,
    pub force: bool,
    pub out: Option<PathBuf>,
    pub sets: Vec<String>,
    pub memory_total: Option<String>,
    pub progress_every: std::time::Duration,
    /// Each run's wall-clock budget (`--timeout`).
    pub timeout: Option<std::time::Duration>,
    /// Re-run this many of the sweep's runs and compare their trace hashes.
    pub check_determinism: Option<usize>,
    pub json: bool,
    /// Write the sweep's charts and report.html beside its results, so.
    pub report: Option<reports::sweep_report::SweepOptions>,
    /// Shrink each failing group's first failing seed, each within this
    /// wall time (`--shrink-budget`).
    pub shrink: Option<String>,
}

pub fn sweep(
    path: &Path,
    options: SweepOptions,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, CliError> {
    let plan = plan(path, &options)?;
    let jobs = super::jobs::jobs(options.jobs)?;
    let (jobs, note) = jobs_that_fit(&plan, jobs, options.memory_total.as_deref())
        .map_err(|e| CliError::argument("--memory-total", e))?;
    if let (Some(note), false) = (note, options.json) {
        let _ = writeln!(stderr, "note: {note}");
    }
    let name = &plan.groups[0].scenario.name;
    let out_dir = options
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("faultline-out").join(name).join("sweep"));
    let results_path = out_dir.join("results.jsonl");
    let (progress, existing) = modes(&options);
    let started = std::time::Instant::now();
    let results = sweep::run_sweep(&plan, jobs, &results_path, existing, progress, stderr)
        .map_err(|e| {
            CliError::new(ErrorKind::Results, e).with_file(results_path.display().to_string())
        })?;
    let wall = started.elapsed().as_secs_f64();
    let shard_units = plan.units().len() as u64;
    let summary = sweep::summarise(&plan.header(), shard_units, &results);
    let determinism = options
        .check_determinism
        .map(|count| recheck(&plan, &results, count, jobs));
    let shrunk = shrink_if_asked(&plan, &results, &options, jobs, &out_dir, stderr)?;
    write_tables(&out_dir, &plan, &results, &summary);
    let report = options
        .report
        .as_ref()
        .map(|o| write_report(&out_dir, &plan, &results, o))
        .transpose()?;
    let rate = results.len() as f64 / wall.max(1e-9);
    if options.json {
        let value = serde_json::json!({
            "summary": summary,
            "jobs": jobs,
            "wall_seconds": wall,
            "seeds_per_second": rate,
            "results": results_path.display().to_string(),
            "report": report.as_ref().map(|p| p.display().to_string()),
            "determinism": determinism,
            "shrunk": options.shrink.is_some().then_some(&shrunk),
        });
        super::print_json(stdout, &value);
    } else {
        print_text(
            &summary,
            jobs,
            (wall, rate),
            &results_path,
            report.as_deref(),
            determinism.as_ref(),
            stdout,
        );
        print_shrunk(options.shrink.is_some(), &shrunk, stdout);
    }
    // A rerun that differs fails the sweep, whatever its expectation.
    let diverged = determinism.is_some_and(|d| !d.mismatched.is_empty());
    Ok(if diverged { 1 } else { exit_code(&summary) })
}

/// The sweep's report, drawn from the records it holds.
fn write_report(
    out_dir: &Path,
    plan: &SweepPlan,
    results: &[sweep::UnitResult],
    options: &reports::sweep_report::SweepOptions,
) -> Result<PathBuf, CliError> {
    crate::sweep_report::write_results(out_dir, &plan.header(), results, options).map_err(|error| {
        CliError::new(
            ErrorKind::Output,
            format!("cannot write the report: {error}"),
        )
        .with_file(out_dir.display().to_string())
    })
}

/// With --shrink: each failing group's first failing seed, shrunk.
fn shrink_if_asked(
    plan: &SweepPlan,
    results: &[sweep::UnitResult],
    options: &SweepOptions,
    jobs: usize,
    out_dir: &Path,
    stderr: &mut dyn Write,
) -> Result<Vec<GroupShrunk>, CliError> {
    let Some(budget) = &options.shrink else {
        return Ok(Vec::new());
    };
    shrink_failures(
        plan,
        results,
        crate::shrinking::parse_budget(budget)
            .map_err(|e| CliError::argument("--shrink-budget", e))?,
        jobs,
        out_dir,
        options.progress_every,
        options.json,
        stderr,
    )
}

/// The summary for people, and where everything went.
fn print_text(
    summary: &sweep::SweepSummary,
    jobs: usize,
    (wall, rate): (f64, f64),
    results_path: &Path,
    report: Option<&Path>,
    determinism: Option<&Recheck>,
    stdout: &mut dyn Write,
) {
    let _ = sweep::render(summary, stdout);
    let _ = writeln!(
        stdout,
        "{} jobs, {:.2} s wall, {:.1} runs/s; results in {}",
        jobs,
        wall,
        rate,
        results_path.display()
    );
    if let Some(report) = report {
        let _ = writeln!(stdout, "report: {}", report.display());
    }
    if let Some(recheck) = determinism {
        let _ = writeln!(stdout, "determinism: {}", recheck.text);
    }
}

/// How progress shows (a bar on a terminal, lines in a log) and what to do
/// with results already in --out (resume, replace, or refuse).
fn modes(options: &SweepOptions) -> (ProgressMode, Existing) {
    let progress = if std::io::stderr().is_terminal() && !options.json {
        ProgressMode::Bar
    } else {
        ProgressMode::Lines {
            every: options.progress_every,
        }
    };
    let existing = match (options.resume, options.force) {
        (true, _) => Existing::Resume,
        (false, true) => Existing::Replace,
        (false, false) => Existing::Refuse,
    };
    (progress, existing)
}

/// The tables beside the results: distribution.csv (when runs sampled),
/// the consistency tables, and summary.json. Best effort: the results
/// file is what a sweep must write, and it is written.
fn write_tables(
    out_dir: &Path,
    plan: &SweepPlan,
    results: &[sweep::UnitResult],
    summary: &sweep::SweepSummary,
) {
    let header = plan.header();
    if results.iter().any(|r| !r.samples.is_empty()) {
        let _ = std::fs::write(
            out_dir.join("distribution.csv"),
            crate::distribution::csv(&header, results),
        );
    }
    for (name, text) in crate::consistency::files(&header, results) {
        let _ = std::fs::write(out_dir.join(name), text);
    }
    let _ = std::fs::write(
        out_dir.join("summary.json"),
        serde_json::to_string_pretty(summary).expect("serialisable") + "\n",
    );
}

/// One line per shrunk failure, or why nothing was shrunk.
fn print_shrunk(asked: bool, shrunk: &[GroupShrunk], stdout: &mut dyn Write) {
    if asked && shrunk.is_empty() {
        let _ = writeln!(stdout, "shrunk: no group failed, so nothing to shrink");
    }
    for s in shrunk {
        let _ =
            writeln!(
            stdout,
            "shrunk {} seed {} ({}): faults {} → {}, events {} → {}, operations {} → {}{}\n  {}",
            s.group,
            s.summary.seed,
            s.summary.target,
            s.summary.before.faults,
            s.summary.after.faults,
            s.summary.before.events,
            s.summary.after.events,
            s.summary.before.operations,
            s.summary.after.operations,
            if s.summary.complete { "" } else { " (stopped at its budget)" },
            s.summary.reproduce
        );
    }
}

/// One group's shrunk failure (`sweep --shrink`).
#[derive(serde::Serialize)]
struct GroupShrunk {
    group: String,
    #[serde(flatten)]
    summary: crate::shrinking::ShrinkSummary,
}

/// `sweep --shrink`: each group with a failing seed has its first (lowest)
/// failing seed shrunk into <out>/shrunk/group-<i>-seed-<seed>/.
#[allow(clippy::too_many_arguments)]
fn shrink_failures(
    plan: &SweepPlan,
    results: &[sweep::UnitResult],
    budget: std::time::Duration,
    jobs: usize,
    out_dir: &Path,
    progress_every: std::time::Duration,
    json: bool,
    stderr: &mut dyn Write,
) -> Result<Vec<GroupShrunk>, CliError> {
    let mut out = Vec::new();
    for (index, group) in plan.groups.iter().enumerate() {
        let Some(first) = results
            .iter()
            .filter(|r| r.group == index && (!r.failed.is_empty() || r.panic.is_some()))
            .min_by_key(|r| r.seed)
        else {
            continue;
        };
        let target = first
            .failed
            .first()
            .cloned()
            .unwrap_or_else(|| scenarios::shrink::PANIC.to_string());
        if !json {
            let _ = writeln!(
                stderr,
                "shrinking {} seed {} ({target})",
                group.label, first.seed
            );
        }
        let resolved = scenarios::resolve(&group.scenario, first.seed);
        let params = crate::shrinking::Params {
            target: Some(scenarios::shrink::Target::Check(target)),
            candidates_max: scenarios::shrink::CANDIDATES_DEFAULT,
            jobs,
            budget,
            progress_every,
        };
        let log: Option<&mut dyn Write> = if json { None } else { Some(&mut *stderr) };
        let original =
            crate::run_output::reproduce_command(&plan.scenario_path, first.seed, &group.sets);
        let (shrunk, wall) = match crate::shrinking::search(&resolved, &params, log) {
            Ok(found) => found,
            Err(refusal) => {
                // The sweep saw this seed fail; only a protocol that is not
                // deterministic (see --check-determinism) gets here.
                let _ = writeln!(
                    stderr,
                    "note: {} seed {} failed in the sweep but not when run again to shrink: {refusal}",
                    group.label, first.seed
                );
                continue;
            }
        };
        let dir = out_dir
            .join("shrunk")
            .join(format!("group-{index}-seed-{}", first.seed));
        let summary = crate::shrinking::write(&dir, &shrunk, wall, original, None)?;
        out.push(GroupShrunk {
            group: group.label.clone(),
            summary,
        });
    }
    Ok(out)
}

/// `sweep --check-determinism K`: K of the sweep's runs, run again.
#[derive(serde::Serialize)]
struct Recheck {
    rerun: usize,
    /// (group, seed, trace hash in the results, trace hash now).
    mismatched: Vec<(usize, u64, Option<String>, Option<String>)>,
    text: String,
}

/// Runs the first `count` units again (spread evenly over the results, so
/// that groups and seeds at both ends are covered) and compares their trace
/// hashes with the results'.
fn recheck(plan: &SweepPlan, results: &[sweep::UnitResult], count: usize, jobs: usize) -> Recheck {
    use rayon::prelude::*;
    let count = count.min(results.len());
    let picked: Vec<&sweep::UnitResult> = (0..count)
        .map(|i| &results[i * results.len() / count.max(1)])
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .expect("a thread pool");
    let again: Vec<sweep::UnitResult> = pool.install(|| {
        picked
            .par_iter()
            .map(|u| sweep::run_unit(plan, u.group, u.seed))
            .collect()
    });
    let mismatched: Vec<(usize, u64, Option<String>, Option<String>)> = picked
        .iter()
        .zip(&again)
        .filter(|(before, now)| before.trace_hash != now.trace_hash)
        .map(|(before, now)| {
            (
                before.group,
                before.seed,
                before.trace_hash.clone(),
                now.trace_hash.clone(),
            )
        })
        .collect();
    let text = if mismatched.is_empty() {
        format!("{count} runs run again gave the same trace hashes")
    } else {
        let listed: Vec<String> = mismatched
            .iter()
            .map(|(group, seed, before, now)| {
                format!(
                    "group {group} seed {seed}: {} then {} (faultline run ... --seed {seed} --check-determinism shows the first diverging event)",
                    before.as_deref().unwrap_or("none"),
                    now.as_deref().unwrap_or("none")
                )
            })
            .collect();
        format!(
            "NONDETERMINISTIC: {} of {count} runs gave another trace hash when run again: {}",
            mismatched.len(),
            listed.join("; ")
        )
    };
    Recheck {
        rerun: count,
        mismatched,
        text,
    }
}

/// 0 the expectation held; 2 a run stopped on bad input; 3 it did not hold
/// only because runs were inconclusive or results are missing (a merge of
/// some of the shards); 1 otherwise (a check failed, or the
/// expected violation never showed).
fn exit_code(summary: &sweep::SweepSummary) -> u8 {
    if summary.expectation_held {
        0
    } else if summary.errors_total > 0 {
        2
    } else if !summary.decided {
        // Results missing (a merge of some shards), runs inconclusive, or
        // a shard that cannot see the whole range: undecided.
        3
    } else {
        1
    }
}

fn plan(path: &Path, options: &SweepOptions) -> Result<SweepPlan, CliError> {
    let (scenario, source) = super::curated::load(path)?;
    let seeds_text = options
        .seeds
        .clone()
        .or_else(|| scenario.seeds.clone())
        .unwrap_or_else(|| "0..100".to_string());
    let seeds = scenarios::validate::parse_seed_range(&seeds_text)
        .map_err(|e| CliError::argument("--seeds", e))?;
    let shard = options
        .shard
        .as_deref()
        .map(sweep::parse_shard)
        .transpose()
        .map_err(|e| CliError::new(ErrorKind::Argument, e).with_path("--shard"))?;
    // Axes: the scenario's `sweep` section, then each --set.
    let mut extra = Vec::with_capacity(options.sets.len());
    for set in &options.sets {
        extra.push(
            scenarios::set::parse_assignment(set)
                .map_err(|e| CliError::argument("--set", format!("{set}: {e}")))?,
        );
    }
    let groups = scenarios::sweep::plan_groups(&scenario, &extra).map_err(|error| {
        use scenarios::sweep::{AxisSource, PlanError};
        match error {
            PlanError::Axis {
                axis: AxisSource::Assignment(i),
                path,
                message,
            } => CliError::argument("--set", format!("{}: {path}: {message}", options.sets[i])),
            PlanError::TooManyGroups { .. } => CliError::argument("--set", error.to_string()),
            other => CliError::from(other.into_scenario_error(&source)),
        }
    })?;
    Ok(SweepPlan {
        scenario_path: source,
        seeds,
        groups,
        shard,
        run_timeout: options.timeout,
    })
}

/// Where `merge` writes the merged sweep, if anywhere.
pub struct MergeOut {
    pub dir: PathBuf,
    /// Replace results already in `dir`.
    pub force: bool,
    /// Write the sweep's charts and report.html there too, so.
    pub report: Option<reports::sweep_report::SweepOptions>,
}

pub fn merge(
    paths: &[PathBuf],
    out: Option<MergeOut>,
    json: bool,
    stdout: &mut dyn Write,
) -> Result<u8, CliError> {
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    for path in &refs {
        if !path.exists() {
            return Err(CliError::new(
                ErrorKind::Io,
                format!("{}: no such file or folder", path.display()),
            )
            .with_file(path.display().to_string())
            .with_hint("give results.jsonl files, or the folders `sweep --out` wrote"));
        }
    }
    let merged = sweep::merge_parts(&refs).map_err(|e| CliError::new(ErrorKind::Results, e))?;
    let mut report = None;
    if let Some(out) = &out {
        report = write_merged(&merged, out)?;
    }
    let summary = &merged.summary;
    if json {
        super::print_json(
            stdout,
            &serde_json::json!({
                "summary": summary,
                "out": out.as_ref().map(|o| o.dir.display().to_string()),
                "report": report.as_ref().map(|p| p.display().to_string()),
            }),
        );
    } else {
        let _ = sweep::render(summary, stdout);
        if let Some(out) = &out {
            let _ = writeln!(
                stdout,
                "merged results in {}",
                out.dir.join("results.jsonl").display()
            );
        }
        if let Some(report) = &report {
            let _ = writeln!(stdout, "report: {}", report.display());
        }
    }
    Ok(exit_code(summary))
}

/// Writes a merged sweep as a sweep folder: results.jsonl, summary.json,
/// distribution.csv and (unless told not to) its report.
fn write_merged(merged: &sweep::Merged, out: &MergeOut) -> Result<Option<PathBuf>, CliError> {
    let results_path = out.dir.join("results.jsonl");
    let io =
        |e: String| CliError::new(ErrorKind::Output, e).with_file(out.dir.display().to_string());
    if results_path.exists() && !out.force {
        return Err(CliError::new(
            ErrorKind::Usage,
            format!("{} already holds results", out.dir.display()),
        )
        .with_file(out.dir.display().to_string())
        .with_hint("give another --out, or --force to replace them"));
    }
    std::fs::create_dir_all(&out.dir).map_err(|e| io(format!("{}: {e}", out.dir.display())))?;
    merged.write_results(&results_path).map_err(io)?;
    let summary = serde_json::to_string_pretty(&merged.summary).expect("serialisable") + "\n";
    std::fs::write(out.dir.join("summary.json"), summary).map_err(|e| io(e.to_string()))?;
    if merged.results.iter().any(|r| !r.samples.is_empty()) {
        std::fs::write(
            out.dir.join("distribution.csv"),
            crate::distribution::csv(&merged.header, &merged.results),
        )
        .map_err(|e| io(e.to_string()))?;
    }
    for (name, text) in crate::consistency::files(&merged.header, &merged.results) {
        std::fs::write(out.dir.join(name), text).map_err(|e| io(e.to_string()))?;
    }
    let Some(options) = &out.report else {
        return Ok(None);
    };
    crate::sweep_report::write_results(&out.dir, &merged.header, &merged.results, options)
        .map(Some)
        .map_err(|e| io(format!("cannot write the report: {e}")))
}

/// How many of `jobs` runs fit the machine-wide budget (`--memory-total`,
/// or 80% of the memory available) at the largest run budget of the plan,
/// with a note when that is fewer. Only concurrency changes, never a
/// run's own budget, so verdicts do not depend on it.
fn jobs_that_fit(
    plan: &SweepPlan,
    jobs: usize,
    memory_total: Option<&str>,
) -> Result<(usize, Option<String>), String> {
    let per_run = plan
        .groups
        .iter()
        .map(|g| g.scenario.limits.memory.0)
        .max()
        .unwrap_or(0);
    let (fit, note) = super::jobs::fit_jobs(per_run, jobs, memory_total)?;
    Ok((
        fit,
        note.map(|n| format!("{n} (--memory-total); verdicts do not change")),
    ))
}

/// `faultline sweep`'s flags, as clap reads them (the command's help is
/// its variant's doc comment in `cli/mod.rs`).
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// A scenario file, or a curated scenario's name (`faultline list`).
    pub scenario: PathBuf,
    /// Seed range "start..end" (end exclusive); defaults to the scenario's `seeds`.
    #[arg(long)]
    pub seeds: Option<String>,
    /// Worker threads; defaults to the number of cores.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run only part K of N (1-based), e.g. 3/16, for CI matrices and job arrays.
    #[arg(long)]
    pub shard: Option<String>,
    /// Continue the results file in --out where a killed sweep left it.
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// Replace the results in --out; without --resume or --force, a
    /// sweep refuses a folder that already holds results.
    #[arg(long)]
    pub force: bool,
    /// Output directory; defaults to faultline-out/<name>/sweep.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Sweep a field over values: --set path=v1,v2,... (repeatable; combinations multiply).
    #[arg(long = "set", value_name = "PATH=V1,V2,...")]
    pub sets: Vec<String>,
    /// Each run's memory budget, e.g. 512MiB (the scenario's limits.memory, 1GiB by default).
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// Memory all runs in progress may use together, e.g. 16GiB; fewer
    /// jobs run at once if it cannot hold --jobs budgets. Defaults to
    /// 80% of the memory available when the sweep starts. It changes
    /// only how many runs share the machine, never a verdict.
    #[arg(long, value_name = "SIZE")]
    pub memory_total: Option<String>,
    /// Seconds between progress lines on stderr when it is not a
    /// terminal (a CI log); a terminal gets a bar instead.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub progress_every: f64,
    /// Wall time each run may take, e.g. 30s; a run past it counts as
    /// inconclusive, never with a verdict.
    #[arg(long, value_name = "TIME")]
    pub timeout: Option<String>,
    /// After the sweep, run K of its runs again and compare their trace
    /// hashes with the results (exit 1 if any differs).
    #[arg(long, value_name = "K")]
    pub check_determinism: Option<usize>,
    /// Skip the charts and report.html (written by default).
    #[arg(long)]
    pub no_report: bool,
    /// Shrink each failing group's first failing seed (see `faultline
    /// shrink`) into <out>/shrunk/, and list the shrunk files.
    #[arg(long)]
    pub shrink: bool,
    /// With --shrink: the wall time each group's shrink may take.
    #[arg(long, value_name = "TIME", default_value = "60s")]
    pub shrink_budget: String,
    #[command(flatten)]
    pub cdf: super::CdfArgs,
}

/// Runs `faultline sweep` from its flags.
pub fn from_args(
    args: SweepArgs,
    json: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, CliError> {
    let SweepArgs {
        scenario,
        seeds,
        jobs,
        shard,
        resume,
        force,
        out,
        mut sets,
        memory,
        memory_total,
        progress_every,
        timeout,
        check_determinism,
        no_report,
        shrink,
        shrink_budget,
        cdf,
    } = args;
    let timeout = super::wall_timeout(timeout)?;
    sets.extend(memory.map(|m| format!("limits.memory={m}")));
    let progress_every = super::progress_interval(progress_every)?;
    let options = SweepOptions {
        seeds,
        jobs,
        shard,
        resume,
        force,
        out,
        sets,
        memory_total,
        progress_every,
        timeout,
        check_determinism,
        json,
        report: (!no_report).then(|| cdf.options()),
        shrink: shrink.then_some(shrink_budget),
    };
    sweep(&scenario, options, stdout, stderr)
}
