//! Bully election on the plug-in boundary: its name, its params' checks
//! (with the server count its memory budget allows), the ids the seed
//! draws, and its servers.

use super::params::{bully_servers_max, BullyParams, BULLY_BYTES_PER_SERVER_SQUARED};
use super::Bully;
use crate::plugin::{Capabilities, Clients, Invalid, Plugin, Setup};
use sim_core::bytes::Bytes;
use sim_core::NodeId;
use std::sync::Arc;

pub struct BullyPlugin;

impl Plugin for BullyPlugin {
    const NAME: &'static str = "BullyElection";
    const SUMMARY: &'static str = "leader election by the Bully algorithm on a fully connected network: the largest live id wins and takes over when it comes back; no clients";
    const CAPABILITIES: Capabilities = Capabilities::serving(Clients::None).with_leader();
    type Params = BullyParams;
    type Service = Bully;

    fn validate(params: &BullyParams, setup: &Setup) -> Result<(), Invalid> {
        params
            .validate(setup.servers)
            .map_err(|e| Invalid::from_text(&e))?;
        let fit = bully_servers_max(setup.memory_bytes);
        if setup.servers > fit {
            return Err(Invalid::nodes(format!(
                    "at most {fit} servers run Bully within limits.memory = {}: an election sends n² messages, about n²/2 of them in flight at once, so memory grows with the square of the servers (measured: 2,048 servers peak near 600 MB). Use fewer servers or raise limits.memory (√(memory / {BULLY_BYTES_PER_SERVER_SQUARED} bytes) servers fit)",
                Bytes(setup.memory_bytes)
            )));
        }
        Ok(())
    }

    /// Random ids from the stream "bully.ids", apart from ring election's.
    fn resolve(params: &mut BullyParams, setup: &Setup, seed: u64) {
        params.ids.resolve(setup.servers, seed, "bully.ids");
    }

    /// An explicit id goes with its server.
    fn without_server(params: &mut BullyParams, index: usize) {
        params.ids.without_server(index);
    }

    fn servers(params: &BullyParams, setup: &Setup) -> Box<dyn FnMut(NodeId) -> Bully> {
        let params = Arc::new(BullyParams {
            uids: params.ids.uids(setup.servers),
            ..params.clone()
        });
        Box::new(move |_| Bully::new(params.clone()))
    }
}
