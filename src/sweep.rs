//! Sweeps: many seeds (and parameter values) of one scenario, in parallel,
//! appended to a results file as they finish, resumable, shardable and
//! mergeable.
//!
//! The unit of work is (group, seed), where a group is one combination of
//! swept parameter values. Units have a canonical order (group, then seed);
//! shard K of N takes the units whose index is K-1 modulo N, so N shards
//! cover every unit exactly once whatever the range. The results file starts
//! with a header line that fingerprints the sweep, so `--resume` and `merge`
//! refuse results of a different sweep.

use crate::progress::{Counts, ProgressMode, SweepProgress};
use crate::run_output;
use rayon::prelude::*;
use scenarios::schema::Expect;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};
use std::path::Path;

pub use scenarios::sweep::consistency;
use scenarios::sweep::results::Ended;
pub use scenarios::sweep::unit_consistency;
pub use scenarios::sweep::{
    parse_shard, subsample, summarise, Failure, Group, GroupHeader, GroupSummary, Header, Slow,
    SweepSummary, Timing, Undecided, UnitResult, FAILURES_LISTED_MAX, SAMPLES_PER_RUN_MAX,
};

#[derive(Clone, Debug)]
pub struct SweepPlan {
    pub scenario_path: String,
    pub seeds: (u64, u64),
    pub groups: Vec<Group>,
    /// (K, N) with K in 1..=N.
    pub shard: Option<(u64, u64)>,
    /// Each run's wall-clock budget: past it the run is inconclusive.
    pub run_timeout: Option<std::time::Duration>,
}

impl SweepPlan {
    pub fn units_total(&self) -> u64 {
        (self.seeds.1 - self.seeds.0) * self.groups.len() as u64
    }

    /// Whether unit number `index` (canonical order) belongs to this shard.
    pub fn in_shard(&self, index: u64) -> bool {
        match self.shard {
            None => true,
            Some((k, n)) => index % n == k - 1,
        }
    }

    /// This shard's units, in canonical order.
    pub fn units(&self) -> Vec<(usize, u64)> {
        let per_group = self.seeds.1 - self.seeds.0;
        let mut units = Vec::new();
        for group in 0..self.groups.len() {
            for offset in 0..per_group {
                let index = group as u64 * per_group + offset;
                if self.in_shard(index) {
                    units.push((group, self.seeds.0 + offset));
                }
            }
        }
        units
    }

    pub fn header(&self) -> Header {
        Header::new(&self.scenario_path, &self.groups, self.seeds, self.shard)
    }
}

/// Reads a results file: its header and every complete unit line. A torn
/// last line (the sweep was killed mid-write) is reported as `valid_bytes`
/// short of the file length, so the caller can cut it off.
pub fn read_results(path: &Path) -> Result<(Header, Vec<UnitResult>, u64), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut reader = std::io::BufReader::new(file);
    let mut line = String::new();
    let mut valid_bytes = 0u64;
    reader
        .read_line(&mut line)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let header: Header = serde_json::from_str(line.trim_end())
        .map_err(|e| format!("{}:1: not a faultline results file ({e})", path.display()))?;
    if !line.ends_with('\n') {
        return Err(format!(
            "{}:1: the header line is incomplete",
            path.display()
        ));
    }
    valid_bytes += line.len() as u64;
    let mut units = Vec::new();
    loop {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if read == 0 || !line.ends_with('\n') {
            break;
        }
        match serde_json::from_str::<UnitResult>(line.trim_end()) {
            Ok(unit) => units.push(unit),
            Err(_) => break,
        }
        valid_bytes += read as u64;
    }
    Ok((header, units, valid_bytes))
}

/// What a sweep does with results already in its folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// Stop with an error: results are never replaced by accident.
    Refuse,
    /// Continue them (`--resume`).
    Resume,
    /// Replace them (`--force`).
    Replace,
}

/// Runs the plan's units on `jobs` threads, appending each result to
/// `results_path` as it finishes; returns every result (earlier ones too,
/// when resuming), sorted. Results are collected on this thread, which also
/// writes the file and the progress (to `log`), so a run's worker never
/// waits on either.
pub fn run_sweep(
    plan: &SweepPlan,
    jobs: usize,
    results_path: &Path,
    existing: Existing,
    progress: ProgressMode,
    log: &mut dyn Write,
) -> Result<Vec<UnitResult>, String> {
    let (mut done, mut file) = start_results(plan, results_path, existing)?;
    let finished: BTreeSet<(usize, u64)> = done.iter().map(|u| (u.group, u.seed)).collect();
    let todo: Vec<(usize, u64)> = plan
        .units()
        .into_iter()
        .filter(|u| !finished.contains(u))
        .collect();
    let failing = done.iter().filter(|u| !u.passed).count() as u64;
    let already = Counts {
        failing,
        ..Counts::default()
    };
    let mut shown = SweepProgress::new(progress, todo.len() as u64, already);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| e.to_string())?;
    let (sender, receiver) = std::sync::mpsc::channel::<UnitResult>();
    let mut fresh: Vec<UnitResult> = Vec::with_capacity(todo.len());
    // A results file that cannot be written (a full disk) stops the sweep
    // with an error, never a panic: the workers start no more runs, and
    // what was written stays resumable.
    let write_failed = std::sync::atomic::AtomicBool::new(false);
    let mut write_error: Option<std::io::Error> = None;
    std::thread::scope(|scope| {
        scope.spawn(|| {
            pool.install(|| {
                todo.par_iter()
                    .for_each_with(sender, |sender, &(group, seed)| {
                        if write_failed.load(std::sync::atomic::Ordering::Relaxed) {
                            return;
                        }
                        // The receiver lives until every sender is gone.
                        let _ = sender.send(run_unit(plan, group, seed));
                    })
            })
        });
        for result in receiver {
            if write_error.is_some() {
                continue;
            }
            let line = serde_json::to_string(&result).expect("serialisable") + "\n";
            // One write per line: a kill leaves at most one torn line.
            if let Err(e) = file.write_all(line.as_bytes()) {
                write_error = Some(e);
                write_failed.store(true, std::sync::atomic::Ordering::Relaxed);
                continue;
            }
            shown.finished(!result.passed, result.inconclusive.is_some(), log);
            fresh.push(result);
        }
    });
    shown.end(log);
    if let Some(e) = write_error {
        let (written, total) = (done.len() + fresh.len(), done.len() + todo.len());
        return Err(format!("{}: cannot write the results: {e}; {written} of {total} runs were written. Free space, then continue with --resume", results_path.display()));
    }
    done.extend(fresh);
    done.sort_by_key(|u| (u.group, u.seed));
    Ok(done)
}

/// The results file, ready for appends: continued (its torn last line cut
/// off) with the runs it already holds, or begun anew with the header.
/// Refuses a file that holds results unless asked to resume or replace it.
/// Returns the runs it holds and the file, open for appending.
fn start_results(
    plan: &SweepPlan,
    results_path: &Path,
    existing: Existing,
) -> Result<(Vec<UnitResult>, std::fs::File), String> {
    let header = plan.header();
    let mut done: Vec<UnitResult> = Vec::new();
    let present = results_path.exists();
    if present && existing == Existing::Refuse {
        let lines = std::fs::read_to_string(results_path)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        return Err(format!(
            "{} already holds a sweep's results ({lines} lines); add --resume to continue that sweep, --force to replace its results, or give another --out",
            results_path.display()
        ));
    }
    if present && existing == Existing::Resume {
        let (old_header, units, valid_bytes) = read_results(results_path)?;
        if old_header != header {
            return Err(format!(
                "{}: these results belong to a different sweep (scenario, seeds, parameters or shard differ); use another --out, or --force to replace them",
                results_path.display()
            ));
        }
        // Cut off a torn last line so appends start on a line boundary.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(results_path)
            .map_err(|e| e.to_string())?;
        file.set_len(valid_bytes).map_err(|e| e.to_string())?;
        done = units;
    } else {
        if let Some(parent) = results_path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let mut file = std::fs::File::create(results_path)
            .map_err(|e| format!("{}: {e}", results_path.display()))?;
        writeln!(
            file,
            "{}",
            serde_json::to_string(&header).expect("serialisable")
        )
        .map_err(|e| e.to_string())?;
    }
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(results_path)
        .map_err(|e| e.to_string())?;
    Ok((done, file))
}

/// Runs one (group, seed). Never panics: a protocol panic becomes a finding.
pub fn run_unit(plan: &SweepPlan, group: usize, seed: u64) -> UnitResult {
    let resolved = scenarios::resolve(&plan.groups[group].scenario, seed);
    let (result, timing) = match run_output::execute(&resolved, None, plan.run_timeout) {
        Ok(pair) => pair,
        Err(input_error) => {
            return UnitResult::of(
                group,
                seed,
                &resolved,
                Ended::InputError(&input_error.to_string()),
                0.0,
            )
        }
    };
    let ended = match &result {
        Ok(outcome) => Ended::Ran(outcome),
        Err(panic) => Ended::Panicked {
            message: &panic.message,
            progress: panic.progress.as_ref(),
        },
    };
    UnitResult::of(group, seed, &resolved, ended, timing.wall_seconds * 1e3)
}

/// Where a sweep's results are: `path` itself, or `path/results.jsonl` for
/// a folder that `sweep --out` wrote.
pub fn results_file(path: &Path) -> std::path::PathBuf {
    if path.is_dir() {
        path.join("results.jsonl")
    } else {
        path.to_path_buf()
    }
}

/// A merged sweep: its header (no shard), every unit once in canonical
/// order, and the summary.
pub struct Merged {
    pub header: Header,
    pub results: Vec<UnitResult>,
    pub summary: SweepSummary,
}

impl Merged {
    /// Writes the merged sweep as one results file (the header line, then
    /// each unit), readable by `read_results` and `faultline report`.
    pub fn write_results(&self, path: &Path) -> Result<(), String> {
        let mut text = serde_json::to_string(&self.header).expect("serialisable") + "\n";
        for unit in &self.results {
            text.push_str(&serde_json::to_string(unit).expect("serialisable"));
            text.push('\n');
        }
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Combines the results files (or `sweep --out` folders) of a sharded
/// sweep. The parts must share a fingerprint; a unit found in two parts
/// counts once. An incomplete set says what is missing (`missing`).
pub fn merge(paths: &[&Path]) -> Result<SweepSummary, String> {
    merge_parts(paths).map(|merged| merged.summary)
}

/// `merge`, keeping the merged header and units.
pub fn merge_parts(paths: &[&Path]) -> Result<Merged, String> {
    let mut header: Option<Header> = None;
    let mut all: BTreeMap<(usize, u64), (std::path::PathBuf, UnitResult)> = BTreeMap::new();
    let mut shards: BTreeSet<String> = BTreeSet::new();
    for path in paths {
        let file = results_file(path);
        let (part, units, _) = read_results(&file)?;
        match &header {
            None => header = Some(part.clone()),
            Some(first) if first.fingerprint != part.fingerprint => {
                return Err(format!(
                    "{}: belongs to a different sweep than {} (fingerprints differ)",
                    file.display(),
                    results_file(paths[0]).display()
                ));
            }
            Some(_) => {}
        }
        shards.extend(part.shard);
        for unit in units {
            match all.entry((unit.group, unit.seed)) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert((file.clone(), unit));
                }
                std::collections::btree_map::Entry::Occupied(held) => {
                    let (first_file, first) = held.get();
                    if first.verdict_key() != unit.verdict_key() {
                        return Err(format!(
                            "{} and {} disagree on seed {} of group {}: {} against {}; the same run must give the same result, so one file is from another build or was edited",
                            first_file.display(),
                            file.display(),
                            unit.seed,
                            unit.group,
                            first.verdict_key(),
                            unit.verdict_key(),
                        ));
                    }
                }
            }
        }
    }
    let mut header = header.ok_or("give at least one results file")?;
    header.shard = None;
    let seeds = scenarios::validate::parse_seed_range(&header.seeds)?;
    let expected = (seeds.1 - seeds.0) * header.groups.len() as u64;
    let results: Vec<UnitResult> = all.into_values().map(|(_, unit)| unit).collect();
    let mut summary = summarise(&header, expected, &results);
    summary.missing = missing_parts(&shards, expected, results.len() as u64);
    if !summary.missing.is_empty() {
        summary.expectation_note = format!(
            "{}; missing: {}",
            summary.expectation_note,
            summary.missing.join(", ")
        );
    }
    Ok(Merged {
        header,
        results,
        summary,
    })
}

/// The shards (or runs) a merge lacks, given the shards it has ("K/N").
fn missing_parts(shards: &BTreeSet<String>, expected: u64, found: u64) -> Vec<String> {
    if found >= expected {
        return Vec::new();
    }
    let parsed: Vec<(u64, u64)> = shards.iter().filter_map(|s| parse_shard(s).ok()).collect();
    let counts: BTreeSet<u64> = parsed.iter().map(|&(_, n)| n).collect();
    match counts.iter().next() {
        Some(&n) if counts.len() == 1 && parsed.len() == shards.len() => {
            let have: BTreeSet<u64> = parsed.iter().map(|&(k, _)| k).collect();
            let lacking: Vec<String> = (1..=n)
                .filter(|k| !have.contains(k))
                .map(|k| format!("shard {k}/{n}"))
                .collect();
            if lacking.is_empty() {
                // Every shard is there, but some stopped early.
                vec![format!(
                    "{} runs (a shard did not finish; --resume it)",
                    expected - found
                )]
            } else {
                lacking
            }
        }
        _ => vec![format!("{} of {expected} runs", expected - found)],
    }
}

/// The summary as a table for people.
pub fn render(summary: &SweepSummary, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "sweep {}: seeds {}, {} of {} runs",
        summary.scenario, summary.seeds, summary.units_run, summary.units_expected
    )?;
    writeln!(
        out,
        "{:<32} {:>7} {:>7} {:>7} {:>12} {:>7} {:>7}",
        "group", "runs", "pass", "fail", "inconclusive", "panic", "error"
    )?;
    for g in &summary.groups {
        writeln!(
            out,
            "{:<32} {:>7} {:>7} {:>7} {:>12} {:>7} {:>7}",
            g.label, g.runs, g.passed, g.failed, g.inconclusive, g.panicked, g.errors
        )?;
        for (check, count) in &g.failures_by_check {
            writeln!(out, "    {check}: {count} failing runs")?;
        }
        for (metric, count) in &g.runs_without_samples {
            writeln!(out, "    {metric}: no sample in {count} of {} runs", g.runs)?;
        }
    }
    render_slowest(summary, out)?;
    render_failures(summary, out)?;
    if !summary.violation_seeds.is_empty() {
        let shown: Vec<String> = summary
            .violation_seeds
            .iter()
            .take(20)
            .map(u64::to_string)
            .collect();
        writeln!(
            out,
            "expected violation shown by {} seeds: {}{}",
            summary.violation_seeds.len(),
            shown.join(", "),
            if summary.violation_seeds.len() > 20 {
                ", ..."
            } else {
                ""
            }
        )?;
    }
    let expect = match &summary.expect {
        // Each group judged by its own: the note names them.
        _ if summary.expectations_per_group => "per group".to_string(),
        Expect::Pass => "Pass".to_string(),
        Expect::Violation(names) => format!("Violation({})", names.join(", ")),
        Expect::Allow(names) => format!("Allow({})", names.join(", ")),
    };
    writeln!(
        out,
        "expectation {expect}: {} ({})",
        if summary.expectation_held {
            "HELD"
        } else {
            "NOT HELD"
        },
        summary.expectation_note
    )
}

/// The slowest runs, by wall time.
fn render_slowest(summary: &SweepSummary, out: &mut dyn Write) -> std::io::Result<()> {
    if !summary.timing.slowest.is_empty() {
        let slow: Vec<String> = summary
            .timing
            .slowest
            .iter()
            .map(|s| format!("seed {} ({:.0} ms)", s.seed, s.wall_ms))
            .collect();
        writeln!(out, "slowest: {}", slow.join(", "))?;
    }
    Ok(())
}

/// The failing, inconclusive and erring runs, each with its reproduce command.
fn render_failures(summary: &SweepSummary, out: &mut dyn Write) -> std::io::Result<()> {
    // Runs that failed only what their group expects are the lesson, not
    // bugs: one line for them all, with one reproduce command; every
    // other failure listed with its own.
    let expected: u64 = summary.groups.iter().map(|g| g.failed_as_expected).sum();
    let unexpected_total = summary.failures_total.saturating_sub(expected);
    if unexpected_total > 0 {
        let listed: Vec<_> = summary.failures.iter().filter(|f| !f.expected).collect();
        writeln!(
            out,
            "failures ({unexpected_total} in all{}):",
            if unexpected_total as usize > listed.len() {
                ", first ones listed"
            } else {
                ""
            }
        )?;
        for f in listed {
            let what = match &f.panic {
                Some(panic) => format!("panic: {panic}"),
                None => f.failed.join(", "),
            };
            writeln!(
                out,
                "  seed {} [{}] {what}\n    reproduce: {}",
                f.seed, f.group, f.reproduce
            )?;
        }
    }
    if expected > 0 {
        let mut checks: Vec<&str> = summary
            .failures
            .iter()
            .filter(|f| f.expected)
            .flat_map(|f| f.failed.iter().map(String::as_str))
            .collect();
        checks.sort_unstable();
        checks.dedup();
        writeln!(
            out,
            "expected violations: {expected} runs failed only checks their group expects to fail ({})",
            checks.join(", ")
        )?;
        if let Some(first) = summary.failures.iter().find(|f| f.expected) {
            writeln!(
                out,
                "  e.g. seed {} [{}]\n    reproduce: {}",
                first.seed, first.group, first.reproduce
            )?;
        }
    }
    for (title, total, list) in [
        (
            "inconclusive",
            summary.inconclusive_total,
            &summary.inconclusive,
        ),
        ("input errors", summary.errors_total, &summary.errors),
    ] {
        if total == 0 {
            continue;
        }
        writeln!(
            out,
            "{title} ({total} in all{}):",
            if total as usize > list.len() {
                ", first ones listed"
            } else {
                ""
            }
        )?;
        for u in list {
            writeln!(
                out,
                "  seed {} [{}] {}\n    reproduce: {}",
                u.seed, u.group, u.why, u.reproduce
            )?;
        }
    }
    Ok(())
}

/// Fixtures for the tests of a sweep's results (here and in
/// `sweep_report.rs`).
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// A header of a "s.ron" sweep over seeds 0..3 expecting a pass, with
    /// groups named `labels`, each setting `x` to its label.
    pub(crate) fn header(labels: &[&str]) -> Header {
        Header {
            kind: "sweep".into(),
            scenario_path: "s.ron".into(),
            scenario: "s".into(),
            fingerprint: String::new(),
            seeds: "0..3".into(),
            groups: labels
                .iter()
                .map(|label| GroupHeader {
                    expect: None,
                    label: label.to_string(),
                    name: None,
                    sets: vec![("x".into(), label.to_string())],
                    lockstep: Vec::new(),
                    theory: Vec::new(),
                })
                .collect(),
            expect: Expect::Pass,
            shard: None,
            tradeoff: None,
            description: String::new(),
            lesson: None,
            charts: Vec::new(),
        }
    }

    /// A passing run of group `group` with these samples of metric `m`.
    pub(crate) fn unit(group: usize, seed: u64, samples: BTreeMap<String, Vec<f64>>) -> UnitResult {
        UnitResult {
            passed: true,
            samples,
            ..UnitResult::empty(group, seed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{header, unit};
    use super::*;

    #[test]
    fn subsample_keeps_short_lists_and_spaces_long_ones() {
        assert_eq!(subsample(&[1.0, 2.0]), vec![1.0, 2.0]);
        let long: Vec<f64> = (0..320).map(f64::from).collect();
        let picked = subsample(&long);
        assert_eq!(picked.len(), SAMPLES_PER_RUN_MAX);
        assert_eq!(picked[1], 10.0);
    }

    #[test]
    fn each_group_is_judged_by_its_own_expectation() {
        // "a" expects every run to pass, "b" a linearizability violation.
        let mut header = header(&["a", "b"]);
        header.groups[1].expect = Some(Expect::Violation(vec!["linearizability".into()]));
        let failing = |group: usize, seed: u64, check: &str| {
            let mut run = unit(group, seed, BTreeMap::new());
            run.passed = false;
            run.failed = vec![check.to_string()];
            run
        };
        let held = [
            unit(0, 0, BTreeMap::new()),
            failing(1, 0, "linearizability"),
        ];
        let summary = summarise(&header, 2, &held);
        assert!(summary.expectations_per_group);
        assert!(summary.expectation_held, "{}", summary.expectation_note);
        assert_eq!(
            summary.expectation_note,
            "a: every run passed; b: 1 seeds showed the expected violation of linearizability"
        );
        // The same failure in the group expecting a pass breaks the sweep,
        // and a group expecting a violation that shows none does too.
        let swapped = [
            failing(0, 0, "linearizability"),
            unit(1, 0, BTreeMap::new()),
        ];
        let summary = summarise(&header, 2, &swapped);
        assert!(!summary.expectation_held);
        assert!(
            summary
                .expectation_note
                .contains("b: no run showed the expected violation"),
            "{}",
            summary.expectation_note
        );
        // Another check failing where a violation is expected breaks it.
        let other = [unit(0, 0, BTreeMap::new()), failing(1, 0, "eventual")];
        assert!(!summarise(&header, 2, &other).expectation_held);
        let mut text = Vec::new();
        render(&summarise(&header, 2, &held), &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("expectation per group: HELD"), "{text}");
    }

    #[test]
    fn the_summary_counts_runs_without_a_sample_of_a_measured_metric() {
        let header = header(&["g"]);
        let leaderless =
            |samples: &[f64]| BTreeMap::from([("leaderless_ms".to_string(), samples.to_vec())]);
        // Seed 1 elected nobody (an empty list), seed 2 has no entry at all.
        let runs = [
            unit(0, 0, leaderless(&[150.0])),
            unit(0, 1, leaderless(&[])),
            unit(0, 2, BTreeMap::new()),
        ];
        let summary = summarise(&header, 3, &runs);
        assert_eq!(
            summary.groups[0].runs_without_samples,
            BTreeMap::from([("leaderless_ms".to_string(), 2)])
        );
        let mut text = Vec::new();
        render(&summary, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.contains("leaderless_ms: no sample in 2 of 3 runs"),
            "{text}"
        );
    }
}
