//! A sweep's records: the header that fingerprints it, one `UnitResult`
//! per (group, seed) run, as the results file holds them line by line.
//! `faultline sweep` writes them; `summary.rs` and `consistency.rs` read
//! them; a Rust user can build and judge them the same way.

use crate::schema::Expect;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The first line of a results file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub kind: String,
    pub scenario_path: String,
    pub scenario: String,
    /// A hash of everything that decides the runs: the scenario, seeds and groups.
    pub fingerprint: String,
    pub seeds: String,
    pub groups: Vec<GroupHeader>,
    pub expect: Expect,
    pub shard: Option<String>,
    /// The protocol's trade-off metrics (x by mean, y by p99), which the
    /// report draws against each other per group (`Capabilities::tradeoff`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tradeoff: Option<(String, String)>,
    /// The scenario's description and lesson, which the report opens with.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson: Option<String>,
    /// The charts the report draws (`outputs.charts`; empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charts: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct GroupHeader {
    pub label: String,
    /// Its short name from the axes' `names`, which charts and tables use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub sets: Vec<(String, String)>,
    /// Paths in `sets` that follow another axis (see `Group::lockstep`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lockstep: Vec<String>,
    /// What theory predicts for the group's metrics (the report draws it
    /// beside the measured means); absent in older results files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub theory: Vec<crate::Theory>,
    /// The group's own expectation, where a sweep axis sets `expect` (with
    /// `with`: `Pass` for `Sync`, a violation for `Async`); absent when it
    /// is the scenario's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
}

/// Samples of one metric a run contributes at most. A run with more (commit
/// latencies, say) contributes an evenly spaced subset, so every run
/// weighs the same and results files stay small.
pub const SAMPLES_PER_RUN_MAX: usize = 32;

/// Picks at most `SAMPLES_PER_RUN_MAX` evenly spaced samples.
pub fn subsample(samples: &[f64]) -> Vec<f64> {
    if samples.len() <= SAMPLES_PER_RUN_MAX {
        return samples.to_vec();
    }
    (0..SAMPLES_PER_RUN_MAX)
        .map(|i| samples[i * samples.len() / SAMPLES_PER_RUN_MAX])
        .collect()
}

/// One line per finished unit.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct UnitResult {
    pub group: usize,
    pub seed: u64,
    pub passed: bool,
    pub failed: Vec<String>,
    pub unknown: Vec<String>,
    pub panic: Option<String>,
    /// The run stopped before its end: "reason: detail".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inconclusive: Option<String>,
    /// Bad input found only when the run bound a name (see `run_output::execute`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub trace_hash: Option<String>,
    pub events: u64,
    pub wall_ms: f64,
    /// Protocol metric samples (at most `SAMPLES_PER_RUN_MAX` each; see
    /// `distribution.rs`), by metric name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub samples: BTreeMap<String, Vec<f64>>,
    /// What the run's reads saw and what its clients got, for the sweep's
    /// consistency and availability tables (`consistency.rs`); none for
    /// protocols without register clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<super::unit_consistency::UnitConsistency>,
}

impl Header {
    /// How many units this file's sweep (or shard of it) runs: shard K of
    /// N takes the units whose canonical index is K-1 modulo N.
    pub fn units_expected(&self) -> Result<u64, String> {
        let (from, to) = crate::validate::parse_seed_range(&self.seeds)?;
        let total = (to - from) * self.groups.len() as u64;
        Ok(match self.shard.as_deref().map(parse_shard).transpose()? {
            None => total,
            Some((k, n)) => total / n + u64::from(total % n >= k),
        })
    }

    /// A sentence saying how many runs a results file lacks, if any.
    pub fn missing_note(&self, found: u64) -> Option<String> {
        let expected = self.units_expected().ok()?;
        (found < expected).then(|| {
            format!(
                "{} of {expected} runs are missing from the results (the sweep was stopped or its file cut short; `faultline sweep ... --resume` finishes it): every number below counts only the {found} runs present",
                expected - found
            )
        })
    }
}

impl UnitResult {
    /// What two results of the same run must agree on: the verdict and
    /// the trace hash (wall time and samples' order are not compared).
    pub fn verdict_key(&self) -> String {
        let verdict = if self.passed {
            "pass".to_string()
        } else if let Some(panic) = &self.panic {
            format!("panic ({panic})")
        } else if let Some(error) = &self.error {
            format!("error ({error})")
        } else if !self.failed.is_empty() {
            format!("fail ({})", self.failed.join(", "))
        } else {
            "inconclusive".to_string()
        };
        match &self.trace_hash {
            Some(hash) => format!("{verdict}, trace {hash}"),
            None => verdict,
        }
    }
}

/// Parses "K/N".
pub fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let bad = || format!("--shard \"{text}\": write K/N with 1 <= K <= N, e.g. 2/8");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n) = (
        k.trim().parse::<u64>().map_err(|_| bad())?,
        n.trim().parse::<u64>().map_err(|_| bad())?,
    );
    if k == 0 || k > n || n > 1_000_000 {
        return Err(bad());
    }
    Ok((k, n))
}

/// How one run ended, as a sweep records it.
pub enum Ended<'a> {
    /// The run finished (or was cut short by a limit): its outcome.
    Ran(&'a crate::RunOutcome),
    /// The protocol panicked: the message, and how far the run got.
    Panicked {
        message: &'a str,
        progress: Option<&'a crate::outcome::PanicProgress>,
    },
    /// Bad input found only when the run bound a name ("@leader").
    InputError(&'a str),
}

impl UnitResult {
    /// A record of run (`group`, `seed`) that says nothing yet: not
    /// passed, nothing failed, no samples. `of` fills it in; tests build
    /// records from it.
    pub fn empty(group: usize, seed: u64) -> UnitResult {
        UnitResult {
            group,
            seed,
            passed: false,
            failed: Vec::new(),
            unknown: Vec::new(),
            panic: None,
            inconclusive: None,
            error: None,
            trace_hash: None,
            events: 0,
            wall_ms: 0.0,
            samples: BTreeMap::new(),
            consistency: None,
        }
    }

    /// The record of run (`group`, `seed`) of `resolved`, which took
    /// `wall_ms` (the caller's clock; the library reads none). The one
    /// place a run becomes a results line, for the CLI and a Rust user.
    pub fn of(
        group: usize,
        seed: u64,
        resolved: &crate::Scenario,
        ended: Ended<'_>,
        wall_ms: f64,
    ) -> UnitResult {
        let empty = UnitResult {
            wall_ms,
            ..UnitResult::empty(group, seed)
        };
        match ended {
            Ended::InputError(error) => UnitResult {
                error: Some(error.to_string()),
                wall_ms: 0.0,
                ..empty
            },
            Ended::Panicked { message, progress } => UnitResult {
                failed: vec!["panic".into()],
                panic: Some(message.to_string()),
                trace_hash: progress.map(|p| sim_core::trace::format_hash(p.trace_hash)),
                events: progress.map_or(0, |p| p.events),
                ..empty
            },
            Ended::Ran(outcome) => UnitResult {
                passed: outcome.passed(),
                failed: outcome.failed(),
                unknown: outcome.unknown(),
                inconclusive: outcome
                    .inconclusive
                    .as_ref()
                    .map(|cut| format!("{}: {}", cut.reason, cut.detail)),
                trace_hash: Some(sim_core::trace::format_hash(outcome.trace_hash)),
                events: outcome.stats.events,
                samples: outcome
                    .protocol_samples
                    .iter()
                    .map(|(name, values)| (name.to_string(), subsample(values)))
                    .collect(),
                consistency: resolved
                    .protocol
                    .serves_registers()
                    .then(|| super::unit_consistency::UnitConsistency::of(outcome)),
                ..empty
            },
        }
    }
}
