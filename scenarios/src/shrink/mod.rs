//! Shrinking: from a failing resolved scenario to the smallest one found
//! that still fails the same way.
//!
//! A resolved scenario is a complete description of a run, and the engine
//! is deterministic, so every candidate is a file that runs again exactly.
//! The search tries the reductions in `reduce.rs`, coarse to fine (faults
//! by delta debugging, a shorter run, fewer clients, servers, operations
//! and keys, a plainer workload and environment, shorter and earlier
//! faults), each pass over and over while it finds a smaller failing
//! candidate, and all passes again until none does. Each accepted candidate
//! is strictly smaller in `size::Complexity`, so the search ends.
//!
//! The target is a failure by name: a check, an invariant, or "panic". A
//! candidate that fails only in another way does not count, unless the
//! target is `Target::AnyFailure`.
//!
//! Determinism: candidates run in batches of `jobs` in parallel, and a
//! batch's results are read in candidate order, taking the first that
//! fails; the candidates after it are discarded and not counted. So the
//! search, and the count of candidates it reports, are those of a run one
//! candidate at a time, whatever `jobs` is. Only a watcher that stops the
//! search (a wall-clock budget) can make two searches differ, and then
//! only in how far they got.
//!
//! For CI, from Rust, on a failing proptest case built with
//! `strategies.rs`:
//!
//! ```no_run
//! # let scenario: scenarios::Scenario = unimplemented!();
//! let resolved = scenarios::resolve(&scenario, 1);
//! let shrunk = scenarios::shrink::shrink(
//!     &resolved,
//!     &scenarios::shrink::Options::default(),
//!     &scenarios::shrink::run_trial,
//!     &mut (),
//! )
//! .expect("the case fails");
//! std::fs::write("shrunk.ron", shrunk.to_file()).unwrap();
//! ```

mod reduce;
#[cfg(test)]
mod reduce_test;
mod simplify;
mod size;
mod trial;
mod units;

pub use reduce::{describe, Pass, PASSES};
pub use size::{Complexity, Size};
pub use trial::{run_trial, Target, Trial, TrialVerdict, PANIC};

use crate::scenario::Scenario;
use crate::schema::{Expect, TimedFault};
use serde::Serialize;

/// Candidates a search runs at most unless told otherwise.
pub const CANDIDATES_DEFAULT: u64 = 2_000;
/// The most candidates any search may run.
pub const CANDIDATES_MAX: u64 = 1_000_000;
/// Threads at most.
pub const JOBS_MAX: usize = 1_024;

/// How to search.
#[derive(Clone, Debug)]
pub struct Options {
    /// The failure to keep; `None` takes the first failure of the original
    /// run (in check order).
    pub target: Option<Target>,
    /// Candidates run at most (1..=`CANDIDATES_MAX`).
    pub candidates_max: u64,
    /// Candidates run at once (1..=`JOBS_MAX`). The result does not depend on it.
    pub jobs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            target: None,
            candidates_max: CANDIDATES_DEFAULT,
            jobs: 1,
        }
    }
}

/// How a search is going, after each batch.
#[derive(Clone, Debug, Serialize)]
pub struct Progress {
    pub candidates: u64,
    pub accepted: u64,
    pub pass: &'static str,
    pub size: Size,
}

/// What hears a search's progress, and may stop it.
pub trait ShrinkWatcher {
    fn progress(&mut self, _progress: &Progress) {}
    /// Asked before each batch; true ends the search with the best so far.
    fn stop(&mut self) -> bool {
        false
    }
}

/// A watcher that hears nothing and never stops the search.
impl ShrinkWatcher for () {}

/// Why a search ended before no reduction was left to try.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    /// It ran `candidates_max` candidates.
    Candidates,
    /// Its watcher stopped it: the time budget (the CLI's `--budget`).
    Time,
}

/// One accepted reduction.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub pass: &'static str,
    pub what: String,
    /// Candidates run when it was accepted.
    pub candidates: u64,
    pub size: Size,
}

/// Why there is nothing to shrink.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// The original run did not fail (it passed, or was inconclusive).
    DidNotFail(Trial),
    /// It failed, but not the target.
    OtherFailure { target: String, trial: Trial },
    /// The original run refused its input.
    InputError(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::DidNotFail(trial) => match trial.verdict {
                TrialVerdict::Inconclusive => write!(
                    f,
                    "the run was inconclusive, not a failure, so there is nothing to shrink; raise the limit it reached, or pick a failing seed"
                ),
                _ => write!(
                    f,
                    "the run passed, so there is nothing to shrink; pick a failing seed (`faultline sweep` lists them)"
                ),
            },
            Refusal::OtherFailure { target, trial } => write!(
                f,
                "the run did not fail {target}; it failed {}. Name one of those with --check, or pass --any-failure",
                trial.failed.join(", ")
            ),
            Refusal::InputError(error) => write!(f, "the run refused its input: {error}"),
        }
    }
}

/// A search's result.
#[derive(Clone, Debug)]
pub struct Shrunk {
    pub target: Target,
    /// The smallest failing scenario found, as it was run.
    pub scenario: Scenario,
    pub trial: Trial,
    pub original: Trial,
    pub before: Size,
    pub after: Size,
    pub steps: Vec<Step>,
    /// The original's faults that are gone (faults kept but moved or
    /// shortened are not listed).
    pub removed_faults: Vec<TimedFault>,
    pub candidates: u64,
    /// Set when a budget ended the search: the result is the best so far.
    pub stopped: Option<Stopped>,
}

impl Shrunk {
    /// The shrunk scenario as a file: renamed `<name>-shrunk`, described,
    /// expecting the failure it shows. It runs exactly as the search ran it.
    pub fn file_scenario(&self) -> Scenario {
        let mut out = self.scenario.clone();
        out.name = format!("{}-shrunk", self.scenario.name);
        out.description = format!(
            "{} seed {}, shrunk: fails {} with {} faults, {} clients and {} servers in {}",
            self.scenario.name,
            self.scenario.seed,
            self.trial.failed.join(", "),
            self.after.faults,
            self.after.clients,
            self.after.servers,
            self.scenario.duration,
        );
        out.expect = Expect::Violation(self.trial.failed.clone());
        out
    }

    /// `file_scenario` as RON text, headed by what the search did.
    pub fn to_file(&self) -> String {
        let mut text = format!(
            "// Shrunk by `faultline shrink` from {} seed {}: it still fails {}.\n",
            self.scenario.name, self.scenario.seed, self.target
        );
        let row = |s: &Size| {
            format!(
                "{} faults, {} events, {} operations, {} clients, {} servers, {}",
                s.faults,
                s.events,
                s.operations,
                s.clients,
                s.servers,
                sim_core::SimDuration::from_nanos(s.duration_ns)
            )
        };
        text.push_str(&format!("// before: {}\n", row(&self.before)));
        text.push_str(&format!("// after:  {}\n", row(&self.after)));
        text.push_str(&crate::to_ron(&self.file_scenario()));
        text
    }
}

/// Shrinks the failing resolved scenario `resolved`, running candidates
/// with `runner` (`run_trial`, or one that catches panics quietly).
pub fn shrink(
    resolved: &Scenario,
    options: &Options,
    runner: &(dyn Fn(&Scenario) -> Trial + Sync),
    watcher: &mut dyn ShrinkWatcher,
) -> Result<Shrunk, Refusal> {
    assert!(
        (1..=CANDIDATES_MAX).contains(&options.candidates_max),
        "candidates_max out of range"
    );
    assert!((1..=JOBS_MAX).contains(&options.jobs), "jobs out of range");
    let original = runner(resolved);
    if original.verdict == TrialVerdict::InputError {
        return Err(Refusal::InputError(original.message.unwrap_or_default()));
    }
    if original.failed.is_empty() {
        return Err(Refusal::DidNotFail(original));
    }
    let target = match &options.target {
        Some(target) => target.clone(),
        None => Target::Check(original.failed[0].clone()),
    };
    if !original.fails(&target) {
        return Err(Refusal::OtherFailure {
            target: target.to_string(),
            trial: original,
        });
    }
    let pool = (options.jobs > 1).then(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(options.jobs)
            .build()
            .expect("a thread pool")
    });
    let mut search = Search {
        target: &target,
        runner,
        pool: pool.as_ref(),
        jobs: options.jobs,
        candidates_max: options.candidates_max,
        current: resolved.clone(),
        trial: original.clone(),
        candidates: 0,
        steps: Vec::new(),
        stopped: None,
    };
    search.run(watcher);
    let Search {
        current,
        trial,
        candidates,
        steps,
        stopped,
        ..
    } = search;
    let removed_faults = removed(&resolved.faults.schedule, &current.faults.schedule);
    debug_assert!(trial.fails(&target), "the result fails the target");
    Ok(Shrunk {
        target,
        before: Size::of(resolved, &original),
        after: Size::of(&current, &trial),
        scenario: current,
        trial,
        original,
        steps,
        removed_faults,
        candidates,
        stopped,
    })
}

struct Search<'a> {
    target: &'a Target,
    runner: &'a (dyn Fn(&Scenario) -> Trial + Sync),
    pool: Option<&'a rayon::ThreadPool>,
    jobs: usize,
    candidates_max: u64,
    current: Scenario,
    trial: Trial,
    candidates: u64,
    steps: Vec<Step>,
    stopped: Option<Stopped>,
}

impl Search<'_> {
    /// Every pass while it finds a smaller failing candidate, and all
    /// passes again until a round finds none or a budget ends it.
    fn run(&mut self, watcher: &mut dyn ShrinkWatcher) {
        loop {
            let mut changed = false;
            for pass in PASSES {
                while self.stopped.is_none() && self.step(pass, watcher) {
                    changed = true;
                }
                if self.stopped.is_some() {
                    return;
                }
            }
            if !changed {
                return;
            }
        }
    }

    /// One round of `pass`: true if it took a candidate.
    fn step(&mut self, pass: Pass, watcher: &mut dyn ShrinkWatcher) -> bool {
        let bound = Complexity::of(&self.current);
        // Only valid candidates, strictly smaller than the current scenario,
        // made a batch at a time.
        let current = self.current.clone();
        let mut candidates = reduce::candidates(pass, &current, &self.trial)
            .filter(|c| Complexity::of(&c.scenario) < bound)
            .filter(|c| crate::validate::validate(&c.scenario).is_ok());
        loop {
            if watcher.stop() {
                self.stopped = Some(Stopped::Time);
                return false;
            }
            let left = self.candidates_max - self.candidates;
            let size = self.jobs.min(usize::try_from(left).unwrap_or(usize::MAX));
            let batch: Vec<reduce::Candidate> = candidates.by_ref().take(size).collect();
            if batch.is_empty() {
                return false;
            }
            let trials = self.run_batch(&batch);
            let found = trials.iter().position(|t| t.fails(self.target));
            // Counted as if run one at a time: up to the one taken.
            self.candidates += found.map_or(batch.len(), |i| i + 1) as u64;
            if let Some(i) = found {
                let taken = &batch[i];
                self.current = taken.scenario.clone();
                self.trial = trials[i].clone();
                self.steps.push(Step {
                    pass: pass.name(),
                    what: taken.what.clone(),
                    candidates: self.candidates,
                    size: Size::of(&self.current, &self.trial),
                });
            }
            watcher.progress(&Progress {
                candidates: self.candidates,
                accepted: self.steps.len() as u64,
                pass: pass.name(),
                size: Size::of(&self.current, &self.trial),
            });
            if found.is_some() {
                return true;
            }
            if self.candidates >= self.candidates_max {
                self.stopped = Some(Stopped::Candidates);
                return false;
            }
        }
    }

    fn run_batch(&self, batch: &[reduce::Candidate]) -> Vec<Trial> {
        use rayon::prelude::*;
        let runner = self.runner;
        match self.pool {
            Some(pool) if batch.len() > 1 => {
                pool.install(|| batch.par_iter().map(|c| runner(&c.scenario)).collect())
            }
            _ => batch.iter().map(|c| runner(&c.scenario)).collect(),
        }
    }
}

/// The entries of `before` that no entry of `after` answers for. An entry
/// of `after` answers for one equal fault of `before`, or failing that for
/// one of the same kind (a fault moved, shortened, or with a server gone
/// from its partition), each at most once.
fn removed(before: &[TimedFault], after: &[TimedFault]) -> Vec<TimedFault> {
    let mut kept = vec![false; before.len()];
    let mut unmatched = Vec::new();
    for entry in after {
        match (0..before.len()).find(|&i| !kept[i] && before[i].fault == entry.fault) {
            Some(i) => kept[i] = true,
            None => unmatched.push(entry),
        }
    }
    let kind = |f: &crate::schema::FaultSpec| std::mem::discriminant(f);
    for entry in unmatched {
        if let Some(i) =
            (0..before.len()).find(|&i| !kept[i] && kind(&before[i].fault) == kind(&entry.fault))
        {
            kept[i] = true;
        }
    }
    before
        .iter()
        .zip(kept)
        .filter(|(_, kept)| !kept)
        .map(|(entry, _)| entry.clone())
        .collect()
}
