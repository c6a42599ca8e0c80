//! The leaderless store on the plug-in boundary.

use super::params::{Coordinator, QuorumParams};
use super::ring::Ring;
use super::{Quorum, QuorumSetup};
use crate::client::ClientRouting;
use crate::plugin::{Capabilities, Clients, Invalid, Plugin, Setup};
use sim_core::NodeId;
use std::sync::Arc;

pub struct QuorumPlugin;

impl Plugin for QuorumPlugin {
    const NAME: &'static str = "Quorum";
    const SUMMARY: &'static str = "a leaderless Dynamo-style store: N replicas per key on a consistent-hashing ring, R and W quorums, last-writer-wins or version vectors, read repair, sloppy quorums with hinted handoff, anti-entropy";
    const CAPABILITIES: Capabilities =
        Capabilities::serving(Clients::Registers).without_conditional_writes();
    type Params = QuorumParams;
    type Service = Quorum;

    fn validate(params: &QuorumParams, setup: &Setup) -> Result<(), Invalid> {
        params.validate(setup.servers).map_err(|e| {
            if let Some(message) = e.strip_prefix("nodes: ") {
                Invalid::nodes(message.to_string())
            } else {
                Invalid::from_text(&e)
            }
        })
    }

    fn client_routing(params: &QuorumParams) -> ClientRouting {
        ClientRouting {
            spread: true,
            draw_each_operation: params.coordinator == Coordinator::RandomEachOperation,
            ..ClientRouting::default()
        }
    }

    fn servers(params: &QuorumParams, setup: &Setup) -> Box<dyn FnMut(NodeId) -> Quorum> {
        let servers = u32::try_from(setup.servers).expect("validated: at most SERVERS_MAX");
        let shared = Arc::new(QuorumSetup {
            params: params.clone(),
            ring: Ring::new(servers, params.vnodes),
            keys: (0..setup.keys).map(|i| format!("k{i}")).collect(),
        });
        Box::new(move |_| Quorum::new(shared.clone()))
    }
}
