//! Two-phase and three-phase commit on the plug-in boundary: two names for
//! one protocol with one params type; the name picks the variant.

use super::params::{CommitParams, CommitVariant};
use super::AtomicCommit;
use crate::plugin::{Clients, Invalid, Plugin, Setup};
use sim_core::NodeId;
use std::sync::Arc;

pub struct TwoPhasePlugin;
pub struct ThreePhasePlugin;

/// Checks params for either variant. The accounts are the workload's
/// keys, checked with the workload.
fn validate(params: &CommitParams, setup: &Setup) -> Result<(), Invalid> {
    params
        .validate(setup.servers)
        .map_err(|e| Invalid::from_text(&e))
}

fn servers(
    params: &CommitParams,
    setup: &Setup,
    variant: CommitVariant,
) -> Box<dyn FnMut(NodeId) -> AtomicCommit> {
    let params = Arc::new(CommitParams {
        variant,
        accounts: setup.keys,
        ..params.clone()
    });
    Box::new(move |_| AtomicCommit::new(params.clone()))
}

impl Plugin for TwoPhasePlugin {
    const NAME: &'static str = "TwoPhaseCommit";
    const SUMMARY: &'static str = "two-phase commit of bank transfers across shards (coordinator n1, shards n2..); blocks while the coordinator is down";
    const CLIENTS: Clients = Clients::Transfers;
    /// The coordinator counts as the leader.
    const HAS_LEADER: bool = true;
    type Params = CommitParams;
    type Service = AtomicCommit;

    fn validate(params: &CommitParams, setup: &Setup) -> Result<(), Invalid> {
        validate(params, setup)
    }
    fn servers(params: &CommitParams, setup: &Setup) -> Box<dyn FnMut(NodeId) -> AtomicCommit> {
        servers(params, setup, CommitVariant::TwoPhase)
    }
}

impl Plugin for ThreePhasePlugin {
    const NAME: &'static str = "ThreePhaseCommit";
    const SUMMARY: &'static str = "three-phase commit (Skeen) of bank transfers; a termination protocol finishes without the coordinator, but a partition can split the outcome";
    const CLIENTS: Clients = Clients::Transfers;
    const HAS_LEADER: bool = true;
    type Params = CommitParams;
    type Service = AtomicCommit;

    fn validate(params: &CommitParams, setup: &Setup) -> Result<(), Invalid> {
        validate(params, setup)
    }
    fn servers(params: &CommitParams, setup: &Setup) -> Box<dyn FnMut(NodeId) -> AtomicCommit> {
        servers(params, setup, CommitVariant::ThreePhase)
    }
}
