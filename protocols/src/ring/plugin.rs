//! Ring election on the plug-in boundary: its name, its params' checks,
//! the ids the seed draws, and its servers.

use super::params::RingParams;
use super::RingElection;
use crate::plugin::{Clients, Invalid, Plugin, Setup};
use sim_core::NodeId;
use std::sync::Arc;

pub struct RingPlugin;

impl Plugin for RingPlugin {
    const NAME: &'static str = "RingElection";
    const SUMMARY: &'static str = "leader election on a unidirectional ring (Chang-Roberts, or LeLann), re-electing when the leader dies; no clients";
    const CLIENTS: Clients = Clients::None;
    const HAS_LEADER: bool = true;
    type Params = RingParams;
    type Service = RingElection;

    fn validate(params: &RingParams, setup: &Setup) -> Result<(), Invalid> {
        params
            .validate(setup.servers)
            .map_err(|e| Invalid::from_text(&e))
    }

    /// Random ids from the stream "ring.ids" (its name since ids were first
    /// drawn, so resolved runs stay as they were).
    fn resolve(params: &mut RingParams, setup: &Setup, seed: u64) {
        params.ids.resolve(setup.servers, seed, "ring.ids");
    }

    fn servers(params: &RingParams, setup: &Setup) -> Box<dyn FnMut(NodeId) -> RingElection> {
        let params = Arc::new(RingParams {
            uids: params.ids.uids(setup.servers),
            ..params.clone()
        });
        Box::new(move |_| RingElection::new(params.clone()))
    }
}
