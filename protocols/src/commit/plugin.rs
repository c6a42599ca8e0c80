//! Two-phase and three-phase commit on the plug-in boundary: two names for
//! one protocol with one params type; the name picks the variant.

use super::params::{validate_servers, CommitParams, CommitVariant};
use super::AtomicCommit;
use crate::plugin::{Capabilities, Clients, Invalid, Plugin, Setup};
use sim_core::NodeId;
use std::sync::Arc;

/// Atomic commit, three-phase when `THREE_PHASE`.
pub struct CommitPlugin<const THREE_PHASE: bool>;

pub type TwoPhasePlugin = CommitPlugin<false>;
pub type ThreePhasePlugin = CommitPlugin<true>;

impl<const THREE_PHASE: bool> Plugin for CommitPlugin<THREE_PHASE> {
    const NAME: &'static str = if THREE_PHASE {
        "ThreePhaseCommit"
    } else {
        "TwoPhaseCommit"
    };
    const SUMMARY: &'static str = if THREE_PHASE {
        "three-phase commit (Skeen) of bank transfers; a termination protocol finishes without the coordinator, but a partition can split the outcome"
    } else {
        "two-phase commit of bank transfers across shards (coordinator n1, shards n2..); blocks while the coordinator is down"
    };
    /// The coordinator counts as the leader.
    const CAPABILITIES: Capabilities = Capabilities::serving(Clients::Transfers).with_leader();
    type Params = CommitParams;
    type Service = AtomicCommit;

    /// The accounts are the workload's keys, checked with the workload.
    fn validate(params: &CommitParams, setup: &Setup) -> Result<(), Invalid> {
        validate_servers(setup.servers).map_err(Invalid::nodes)?;
        params.validate().map_err(|e| Invalid::from_text(&e))
    }

    fn bank_total(params: &CommitParams, setup: &Setup) -> Option<i64> {
        Some(params.initial_balance.saturating_mul(i64::from(setup.keys)))
    }

    fn servers(params: &CommitParams, setup: &Setup) -> Box<dyn FnMut(NodeId) -> AtomicCommit> {
        let variant = if THREE_PHASE {
            CommitVariant::ThreePhase
        } else {
            CommitVariant::TwoPhase
        };
        let params = Arc::new(CommitParams {
            variant,
            accounts: setup.keys,
            ..params.clone()
        });
        Box::new(move |_| AtomicCommit::new(params.clone()))
    }
}
