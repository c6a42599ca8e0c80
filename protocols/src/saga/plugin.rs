//! Sagas on the plug-in boundary: orders as sagas over four services.

use super::params::{validate_servers, SagaParams};
use super::Saga;
use crate::plugin::{Capabilities, Clients, Invalid, Plugin, Setup};
use sim_core::NodeId;
use std::sync::Arc;

pub struct SagaPlugin;

impl Plugin for SagaPlugin {
    const NAME: &'static str = "Saga";
    const SUMMARY: &'static str = "orders as sagas (reserve inventory, charge payment, ship; compensations on failure), orchestrated or choreographed; servers: orders, inventory, payment, shipping";
    /// The orchestrator (or the order service) counts as the leader.
    const CAPABILITIES: Capabilities = Capabilities::serving(Clients::Orders).with_leader();
    type Params = SagaParams;
    type Service = Saga;

    fn validate(params: &SagaParams, setup: &Setup) -> Result<(), Invalid> {
        validate_servers(setup.servers).map_err(Invalid::nodes)?;
        params.validate().map_err(|e| Invalid::from_text(&e))
    }

    fn servers(params: &SagaParams, setup: &Setup) -> Box<dyn FnMut(NodeId) -> Saga> {
        let params = Arc::new(SagaParams {
            items: setup.keys,
            ..params.clone()
        });
        Box::new(move |_| Saga::new(params.clone()))
    }
}
