//! A run's plan: what the engine drive and the checks read of a resolved
//! scenario, converted once (the workload, the node names) and borrowed
//! otherwise. `run.rs` builds it; `drive.rs` and `checks.rs` read it.
//!
//! Why a plan and not the scenario: the drive is reached through the
//! protocol (`protocol.rs`), which the scenario holds; reading the plan
//! keeps the drive free of the scenario, and so the import graph free of
//! circles.

use crate::bytes::Bytes;
use crate::duration::Dur;
use crate::schema::{Expect, TimedFault};
use protocols::plugin::Setup;
use protocols::workload::WorkloadConfig;
use std::sync::Arc;

pub struct Plan<'a> {
    /// Every node's name, by id: servers, then clients.
    pub names: Vec<String>,
    pub servers: u32,
    pub clients: u32,
    /// What the protocol's plug-in sees of the scenario.
    pub setup: Setup,
    pub workload: Arc<WorkloadConfig>,
    /// The resolved fault schedule, in time order.
    pub schedule: &'a [TimedFault],
    pub duration: Dur,
    /// The run's memory budget (`limits.memory`).
    pub memory: Bytes,
    /// Events at most, in all and at one instant (`limits.events_max`,
    /// `limits.events_per_instant_max`).
    pub events_max: u64,
    pub events_per_instant_max: u64,
    /// Where the fault schedule stops being complete (`faults.cut_at`): the
    /// run stops there, inconclusive.
    pub schedule_cut_at: Option<sim_core::SimTime>,
    /// The checks the scenario names; empty means every one that applies.
    pub checks: &'a [String],
    pub expect: &'a Expect,
    /// Whether the history checks apply (clients read and write registers).
    pub registers: bool,
    /// Clients run transactions: lists or registers, and the models the
    /// list-append or rw-register check judges.
    pub transactions: Option<(bool, Vec<sim_core::txn::models::Model>)>,
    /// Clients audit a bank: the money its accounts hold in all.
    pub bank_total: Option<i64>,
    /// Stop the engine here rather than at `duration`: a replay of part of
    /// a run (`replay.rs`), whose verdicts are not asked for.
    pub stop_at: Option<sim_core::SimTime>,
}
