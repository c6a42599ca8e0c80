//! The multi-leader store on the plug-in boundary: its name, its params'
//! checks, its servers, and its clients' homes (each its region's leader).

use super::params::MultiLeaderParams;
use super::server::MultiLeader;
use crate::client::ClientRouting;
use crate::plugin::{Capabilities, Clients, Invalid, Plugin, Setup};
use sim_core::NodeId;
use std::sync::Arc;

pub struct MultiLeaderPlugin;

impl Plugin for MultiLeaderPlugin {
    const NAME: &'static str = "MultiLeader";
    const SUMMARY: &'static str = "multi-leader replication across regions: a leader per region commits its clients' writes locally and replicates them asynchronously (all-to-all, ring or star), resolving conflicts by last-writer-wins, version vectors (siblings) or a CRDT, with optional causal delivery; client c writes to region (c mod regions)";
    // Reads and blind writes: a key has no single order of writes to
    // compare-and-set against.
    const CAPABILITIES: Capabilities = Capabilities::serving(Clients::Registers)
        .without_conditional_writes()
        .with_tradeoff("replication_lag_ms", "writes_lost_to_lww");
    type Params = MultiLeaderParams;
    type Service = MultiLeader;

    fn validate(params: &MultiLeaderParams, setup: &Setup) -> Result<(), Invalid> {
        params.validate(setup.servers).map_err(|e| {
            if e.starts_with("the store needs") {
                Invalid::nodes(e)
            } else {
                Invalid::from_text(&e)
            }
        })
    }

    fn client_routing(params: &MultiLeaderParams) -> ClientRouting {
        ClientRouting::to_leader().with_homes(params.regions, params.per_region())
    }

    fn servers(
        params: &MultiLeaderParams,
        _setup: &Setup,
    ) -> Box<dyn FnMut(NodeId) -> MultiLeader> {
        let params = Arc::new(params.clone());
        Box::new(move |node| MultiLeader::new(params.clone(), node))
    }
}
