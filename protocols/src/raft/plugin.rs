//! Raft on the plug-in boundary: a replicated key-value store.

use super::params::RaftParams;
use super::Raft;
use crate::plugin::{Capabilities, Clients, Invalid, Plugin, Setup};
use sim_core::NodeId;
use std::sync::Arc;

pub struct RaftPlugin;

impl Plugin for RaftPlugin {
    const NAME: &'static str = "Raft";
    const SUMMARY: &'static str = "Raft (Figure 2 of the paper) replicating the key-value store, with PreVote, CheckQuorum and four read modes";
    const CAPABILITIES: Capabilities = Capabilities::serving(Clients::Registers)
        .with_leader()
        .with_transactions();
    type Params = RaftParams;
    type Service = Raft;

    fn validate(params: &RaftParams, setup: &Setup) -> Result<(), Invalid> {
        params
            .validate(setup.servers)
            .map_err(|e| Invalid::from_text(&e))
    }

    fn servers(params: &RaftParams, _: &Setup) -> Box<dyn FnMut(NodeId) -> Raft> {
        let params = Arc::new(params.clone());
        Box::new(move |_| Raft::new(params.clone()))
    }
}
