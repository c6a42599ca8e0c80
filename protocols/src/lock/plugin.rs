//! The lock on the plug-in boundary: its name, its params' checks and its
//! nodes (lock servers, the resource, the clients).

use super::params::LockParams;
use super::Lock;
use crate::plugin::{Capabilities, Clients, Invalid, Plugin, Setup};
use sim_core::NodeId;
use std::sync::Arc;

pub struct LockPlugin;

impl Plugin for LockPlugin {
    const NAME: &'static str = "Lock";
    const SUMMARY: &'static str = "a distributed lock with a TTL guarding a storage resource: one node (with an optional standby and failover) or Redlock, with or without fencing tokens; its clients are nodes after the lock servers and the resource, and \"@leader\" names the client holding the lock";
    const CAPABILITIES: Capabilities = Capabilities::serving(Clients::None)
        .with_leader()
        .with_lock_history()
        .with_tradeoff("unavailable_after_crash_ms", "zombie_writes_per_run");
    type Params = LockParams;
    type Service = Lock;

    fn validate(params: &LockParams, setup: &Setup) -> Result<(), Invalid> {
        params
            .validate(setup.servers)
            .map_err(|e| Invalid::from_text(&e))
            .map_err(|mut invalid| {
                if invalid.message.starts_with("the lock needs")
                    || invalid.message.starts_with("at most")
                {
                    invalid = Invalid::nodes(invalid.message);
                }
                invalid
            })
    }

    fn servers(params: &LockParams, _setup: &Setup) -> Box<dyn FnMut(NodeId) -> Lock> {
        let params = Arc::new(params.clone());
        Box::new(move |node| Lock::new(params.clone(), node))
    }
}
