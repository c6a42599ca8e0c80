//! TxnStore on the plug-in boundary.

use super::params::{CoordinatorAt, TxnStoreParams};
use super::server::{TxnServer, STAMP_SERVERS_MAX};
use crate::client::ClientRouting;
use crate::plugin::{Capabilities, Clients, Invalid, Plugin, Setup};
use sim_core::NodeId;
use std::sync::Arc;

pub struct TxnStorePlugin;

impl Plugin for TxnStorePlugin {
    const NAME: &'static str = "TxnStore";
    const SUMMARY: &'static str =
        "sharded transactional store (a shard per server or per Raft group, two-phase commit across shards) under 2PL, OCC, snapshot isolation or read committed";
    /// Gets and puts are one-key transactions; there is no compare-and-set
    /// or append on a register (lists are appended inside transactions).
    /// A sweep draws throughput (each group's mean) against commit
    /// latency (its p99), one point per group.
    const CAPABILITIES: Capabilities = Capabilities::serving(Clients::Registers)
        .with_transactions()
        .without_conditional_writes()
        .with_tradeoff("throughput_per_s", "commit_latency_ms");
    type Params = TxnStoreParams;
    type Service = TxnServer;

    fn validate(params: &TxnStoreParams, setup: &Setup) -> Result<(), Invalid> {
        if setup.servers as u64 > STAMP_SERVERS_MAX {
            return Err(Invalid::nodes(format!(
                "TxnStore runs at most {STAMP_SERVERS_MAX} servers, got {}",
                setup.servers
            )));
        }
        params.validate().map_err(|e| Invalid::from_text(&e))?;
        // A client coordinator's transaction ids carry its node id too.
        let nodes_max = setup.servers as u64 + u64::from(crate::workload::CLIENTS_MAX);
        if params.coordinator == CoordinatorAt::Client && nodes_max > STAMP_SERVERS_MAX {
            return Err(Invalid::nodes(format!(
                "TxnStore with coordinator: Client runs at most {} servers, got {}",
                STAMP_SERVERS_MAX - u64::from(crate::workload::CLIENTS_MAX),
                setup.servers
            )));
        }
        let servers = setup.servers as u64;
        let replicas = u64::from(params.replicas);
        if servers < replicas || !servers.is_multiple_of(replicas) {
            return Err(Invalid::nodes(format!(
                "TxnStore with replicas: {replicas} makes each shard a group of {replicas} servers; {servers} servers do not make whole groups: use a multiple of {replicas}"
            )));
        }
        Ok(())
    }

    /// A client keeps to the server that answered it last, its
    /// transactions' coordinator, and moves to another at random when it
    /// stops answering.
    fn client_routing(_: &TxnStoreParams) -> ClientRouting {
        ClientRouting::to_leader().spread()
    }

    fn servers(params: &TxnStoreParams, setup: &Setup) -> Box<dyn FnMut(NodeId) -> TxnServer> {
        let params = Arc::new(params.clone());
        let keys = setup.keys;
        let servers = setup.servers as u32;
        Box::new(move |_| TxnServer::new(params.clone(), keys, servers))
    }

    /// With `coordinator: Client`, each client node runs a TxnStore
    /// coordinator of its own, which its client process hands its
    /// transactions to.
    fn client_agents(
        params: &TxnStoreParams,
        setup: &Setup,
    ) -> Option<crate::cluster::MakeAgent<TxnServer>> {
        // An agent is a TxnServer as any server is; at a client node it
        // holds no shard and only coordinates (`TxnServer::start`).
        (params.coordinator == CoordinatorAt::Client).then(|| Self::servers(params, setup))
    }
}
