//! Swarm testing (Groce et al., ISSTA 2012): generated valid scenarios
//! that draw the configuration as well as the faults, for every protocol
//! in its correct variant, each run through every check the protocol
//! promises under that configuration.
//!
//! Fixed configurations hide bugs that only some parameter, size or
//! environment exposes (a SemiSync election quorum that intersects the
//! commit quorum on 3 servers but not on 6; a monitor that loses sight of
//! a write only behind a slow disk). So each scenario draws:
//!
//! - the protocol's parameters, within their documented ranges;
//! - the cluster size;
//! - the network: latency family and tail, loss, duplication;
//! - the disks: sync latency, throughput;
//! - the clocks: offsets and drift;
//! - the workload;
//! - faults: a nemesis with a random mix of kinds, and outages.
//!
//! What each protocol promises depends on what was drawn (`protocols.rs`):
//! a lease assumes bounded drift and no clock jumps, 3PC assumes crashes
//! only, Raft's `eventual` needs the network healed before the end. Where
//! an assumption excludes a fault, the generator does not draw it; a
//! failure is then a bug in the protocol, its monitor or a check.
//!
//! Everything is a function of (protocol, index) and the seed, so a
//! failure is reproduced by its file (`Generated::text`) and seed.

mod environment;
mod protocols;

use crate::outcome::RunVerdict;
use crate::Scenario;
use rayon::prelude::*;
use std::ops::Range;

pub use self::protocols::SwarmProtocol;

/// One generated scenario: its file, as a user would write it, and the
/// scenario it loads as.
#[derive(Clone, Debug)]
pub struct Generated {
    pub protocol: SwarmProtocol,
    pub index: u64,
    /// The scenario file (RON); running it with a seed reproduces a run.
    pub text: String,
    pub scenario: Scenario,
}

/// Generates scenario `index` for `protocol`. Every scenario it returns is
/// valid (a test holds it to that over thousands of draws).
pub fn generate(protocol: SwarmProtocol, index: u64) -> Generated {
    let mut draw = environment::Draw::new(protocol.name(), index);
    let text = protocols::scenario_text(protocol, index, &mut draw);
    let scenario = crate::load_str(&text, "swarm.ron")
        .unwrap_or_else(|e| panic!("the swarm generator wrote an invalid scenario: {e:?}\n{text}"));
    Generated {
        protocol,
        index,
        text,
        scenario,
    }
}

/// A run of a generated scenario that failed, with what reproduces it.
#[derive(Clone, Debug)]
pub struct SwarmFailure {
    pub generated: Generated,
    pub seed: u64,
    /// The checks and invariants that failed (or "panic").
    pub failed: Vec<String>,
    /// The first failure's detail.
    pub detail: String,
}

/// What a swarm found.
#[derive(Clone, Debug, Default)]
pub struct SwarmOutcome {
    pub scenarios: u64,
    pub runs: u64,
    pub passed: u64,
    /// Runs cut short by a limit, or a check out of budget.
    pub inconclusive: u64,
    /// Failing runs, in (scenario, seed) order, at most `FAILURES_KEPT_MAX`.
    pub failures: Vec<SwarmFailure>,
    pub failures_total: u64,
    /// Events simulated in all runs.
    pub events: u64,
}

/// Failures a swarm keeps (all are counted).
pub const FAILURES_KEPT_MAX: usize = 50;

/// Runs scenarios `scenarios` of `protocol`, each over seeds `seeds`, on
/// rayon's pool. The outcome does not depend on the pool's size: runs are
/// independent and results are gathered in (scenario, seed) order.
pub fn run(protocol: SwarmProtocol, scenarios: Range<u64>, seeds: Range<u64>) -> SwarmOutcome {
    assert!(scenarios.start <= scenarios.end && seeds.start <= seeds.end);
    let units: Vec<(u64, u64)> = scenarios
        .clone()
        .flat_map(|i| seeds.clone().map(move |s| (i, s)))
        .collect();
    let generated: Vec<Generated> = scenarios
        .clone()
        .into_par_iter()
        .map(|i| generate(protocol, i))
        .collect();
    // Each run is reduced to its verdict where it ran, so a swarm of any
    // size holds one small record per run, never a run's history.
    let results: Vec<(u64, u64, Judged)> = units
        .into_par_iter()
        .map(|(i, seed)| {
            let scenario = &generated[(i - scenarios.start) as usize].scenario;
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                crate::run(&crate::resolve(scenario, seed))
            }));
            let judged = match run {
                Ok(Ok(outcome)) => Judged::of(&outcome),
                Ok(Err(error)) => Judged::failed(vec!["error".to_string()], error.to_string(), 0),
                Err(panic) => Judged::failed(
                    vec!["panic".to_string()],
                    crate::run::panic_message(panic.as_ref()),
                    0,
                ),
            };
            (i, seed, judged)
        })
        .collect();
    let mut swarm = SwarmOutcome {
        scenarios: scenarios.end - scenarios.start,
        ..SwarmOutcome::default()
    };
    for (i, seed, judged) in results {
        swarm.runs += 1;
        swarm.events += judged.events;
        match judged.verdict {
            RunVerdict::Pass => swarm.passed += 1,
            RunVerdict::Inconclusive => swarm.inconclusive += 1,
            RunVerdict::Fail => {
                swarm.failures_total += 1;
                if swarm.failures.len() < FAILURES_KEPT_MAX {
                    swarm.failures.push(SwarmFailure {
                        generated: generated[(i - scenarios.start) as usize].clone(),
                        seed,
                        failed: judged.failed,
                        detail: judged.detail,
                    });
                }
            }
        }
    }
    swarm
}

/// What a swarm keeps of one run.
struct Judged {
    verdict: RunVerdict,
    failed: Vec<String>,
    detail: String,
    events: u64,
}

impl Judged {
    fn of(outcome: &crate::RunOutcome) -> Judged {
        let detail = outcome
            .checks
            .iter()
            .find(|c| c.verdict == sim_core::checker::Verdict::Fail)
            .map(|c| format!("{}: {}", c.name, c.detail))
            .unwrap_or_default();
        Judged {
            verdict: outcome.verdict(),
            failed: outcome.failed(),
            detail,
            events: outcome.stats.events,
        }
    }

    fn failed(failed: Vec<String>, detail: String, events: u64) -> Judged {
        Judged {
            verdict: RunVerdict::Fail,
            failed,
            detail,
            events,
        }
    }
}

impl SwarmFailure {
    /// The failure as a reproducer: the file with a header naming the seed
    /// and what failed, ready to save and run (`faultline run FILE --seed S`).
    pub fn reproducer(&self) -> String {
        format!(
            "// Swarm failure: {} scenario {}, seed {}: {}\n// {}\n{}",
            self.generated.protocol.name(),
            self.generated.index,
            self.seed,
            self.failed.join(", "),
            self.detail.replace('\n', " "),
            self.generated.text
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_a_function_of_protocol_and_index() {
        for protocol in SwarmProtocol::ALL {
            let a = generate(protocol, 7);
            let b = generate(protocol, 7);
            assert_eq!(a.text, b.text);
            assert_ne!(a.text, generate(protocol, 8).text, "{protocol:?}");
        }
    }
}
