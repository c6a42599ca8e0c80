//! How big a scenario is: the before/after table's columns (`Size`), and
//! the order the search shrinks along (`Complexity`).
//!
//! Every accepted candidate is strictly smaller in `Complexity`, a tuple
//! compared field by field, so the search always ends: no reduction can
//! undo another.

use super::simplify;
use super::trial::Trial;
use super::units;
use crate::names::server_names;
use crate::scenario::Scenario;
use serde::Serialize;

/// The before/after table's row for one scenario and its run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Size {
    pub faults: u64,
    pub events: u64,
    pub operations: u64,
    pub clients: u64,
    pub servers: u64,
    pub duration_ns: u64,
}

impl Size {
    pub fn of(scenario: &Scenario, trial: &Trial) -> Size {
        Size {
            faults: scenario.faults.schedule.len() as u64,
            events: trial.events,
            operations: trial.operations,
            clients: u64::from(scenario.workload.clients),
            servers: server_names(&scenario.nodes).len() as u64,
            duration_ns: scenario.duration.0.as_nanos(),
        }
    }
}

/// The shrink order, most important first: fewer faults beat everything
/// below them, then fewer servers, and so on down to earlier fault times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Complexity {
    pub faults: usize,
    pub servers: usize,
    pub clients: u32,
    pub keys: u32,
    /// `ops_per_client_max`, unbounded as `u64::MAX`.
    pub operations_cap: u64,
    /// Operation kinds in the mix with weight, and a skewed key choice.
    pub workload_shape: usize,
    pub duration_ns: u64,
    pub stop_after_ns: u64,
    /// Distributions, losses, duplications, per-kind latencies, disk
    /// throughputs and skewed clocks left (see `simplify`).
    pub environment: usize,
    /// Faults' lengths, summed.
    pub fault_length_ns: u128,
    /// Faults' times, summed.
    pub fault_time_ns: u128,
}

impl Complexity {
    pub fn of(scenario: &Scenario) -> Complexity {
        let schedule = &scenario.faults.schedule;
        let workload = &scenario.workload;
        let mix = &workload.mix;
        let kinds = [
            mix.read,
            mix.write,
            mix.cas,
            mix.append,
            mix.transfer,
            mix.order,
        ]
        .iter()
        .filter(|w| **w > 0.0)
        .count();
        let skewed = usize::from(workload.key_distribution != Default::default());
        Complexity {
            faults: schedule.len(),
            servers: server_names(&scenario.nodes).len(),
            clients: workload.clients,
            keys: workload.keys,
            operations_cap: workload.ops_per_client_max.unwrap_or(u64::MAX),
            workload_shape: kinds + workload.client_mixes.len() + skewed,
            duration_ns: scenario.duration.0.as_nanos(),
            stop_after_ns: workload.stop_after.map_or(u64::MAX, |d| d.0.as_nanos()),
            environment: simplify::items(scenario).len(),
            fault_length_ns: units::units(schedule)
                .iter()
                .map(|u| u128::from(u.length_ns(schedule)))
                .sum(),
            fault_time_ns: schedule.iter().map(|e| u128::from(e.at.0.as_nanos())).sum(),
        }
    }
}
