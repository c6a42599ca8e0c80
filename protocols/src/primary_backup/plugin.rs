//! Primary-backup on the plug-in boundary: a replicated key-value store.

use super::params::{PrimaryBackupParams, ReadFrom};
use super::PrimaryBackup;
use crate::client::ClientRouting;
use crate::plugin::{Capabilities, Clients, Invalid, Plugin, Setup};
use sim_core::NodeId;
use std::sync::Arc;

pub struct PrimaryBackupPlugin;

impl Plugin for PrimaryBackupPlugin {
    const NAME: &'static str = "PrimaryBackup";
    const SUMMARY: &'static str = "primary-backup replication of the key-value store: Sync, SemiSync or Async, failover by election among the backups, fencing by epochs and a lease";
    const CAPABILITIES: Capabilities = Capabilities::serving(Clients::Registers)
        .with_leader()
        .with_tradeoff("lost_acked_writes", "commit_latency_ms");
    type Params = PrimaryBackupParams;
    type Service = PrimaryBackup;

    fn validate(params: &PrimaryBackupParams, setup: &Setup) -> Result<(), Invalid> {
        params.validate(setup.servers).map_err(|e| {
            if let Some(message) = e.strip_prefix("nodes: ") {
                Invalid::nodes(message.to_string())
            } else {
                Invalid::from_text(&e)
            }
        })
    }

    fn client_routing(params: &PrimaryBackupParams) -> ClientRouting {
        ClientRouting {
            reads_to_followers: params.read_from != ReadFrom::Primary,
            session: params.read_from == ReadFrom::BackupWithSession
                && !params.session_without_position,
            ..ClientRouting::default()
        }
    }

    fn servers(params: &PrimaryBackupParams, _: &Setup) -> Box<dyn FnMut(NodeId) -> PrimaryBackup> {
        let params = Arc::new(params.clone());
        Box::new(move |_| PrimaryBackup::new(params.clone()))
    }
}
