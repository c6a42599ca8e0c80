//! The saga protocols' parameters and bug switches.

use serde::{Deserialize, Serialize};
use sim_core::{Dur, SimDuration};

/// Who drives a saga.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum SagaStyle {
    /// A durable orchestrator sends each service its command, and the
    /// compensations in reverse order when a step fails or times out.
    #[default]
    Orchestration,
    /// No one in charge: each service reacts to the previous one's event
    /// and emits its own (reserve -> charge -> ship; failures flow back).
    Choreography,
}

/// The saga protocol's params, as a scenario writes them:
/// `protocol: Saga(style: Choreography, shipping_failure_probability: 0.2)`.
/// The items are the workload's keys; the customers are its clients.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SagaParams {
    /// Orchestration (a durable orchestrator) or Choreography (services
    /// react to events).
    pub style: SagaStyle,
    /// Units of every item (the workload's keys) at the start.
    pub initial_stock: i64,
    /// Every customer's (client's) credit at the start.
    pub initial_credit: i64,
    /// What one unit of any item costs.
    pub unit_price: i64,
    /// Shipping refuses an order with this probability (no carrier), which
    /// makes the saga compensate its first two steps.
    pub shipping_failure_probability: f64,
    /// Unacknowledged commands and events are resent this often.
    pub retry_interval: Dur,
    /// Orchestration: a step unanswered this long is given up and
    /// compensated (the step included, in case it happened).
    pub step_timeout: Dur,
    /// BUG SWITCH: a failed saga does not refund the payment.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skip_refund: bool,
    /// BUG SWITCH: services forget what they applied, so a retried or
    /// duplicated command applies twice.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_dedup: bool,
    /// Items "k0".."k{items-1}" (the workload's keys; the plug-in sets it).
    #[serde(skip)]
    #[schemars(skip)]
    pub items: u32,
}

impl Default for SagaParams {
    fn default() -> Self {
        SagaParams {
            style: SagaStyle::Orchestration,
            initial_stock: 20,
            initial_credit: 100,
            unit_price: 10,
            shipping_failure_probability: 0.1,
            retry_interval: Dur::ms(50),
            step_timeout: Dur::ms(1_000),
            skip_refund: false,
            no_dedup: false,
            items: 0,
        }
    }
}

/// A saga cluster is exactly: orders (the orchestrator, or the order
/// service), inventory, payment, shipping.
pub const SAGA_SERVERS: usize = 4;

/// Checks the server count (the scenario's `nodes`).
pub fn validate_servers(servers: usize) -> Result<(), String> {
    if servers == SAGA_SERVERS {
        Ok(())
    } else {
        Err(format!(
            "a saga cluster has exactly {SAGA_SERVERS} servers (orders, inventory, payment, shipping), got {servers}"
        ))
    }
}

impl SagaParams {
    /// Checks the params; errors name the field.
    pub fn validate(&self) -> Result<(), String> {
        for (field, value) in [
            ("initial_stock", self.initial_stock),
            ("initial_credit", self.initial_credit),
            ("unit_price", self.unit_price),
        ] {
            if !(0..=1_000_000_000).contains(&value) {
                return Err(format!(
                    "{field}: must be between 0 and 1000000000, got {value}"
                ));
            }
        }
        let p = self.shipping_failure_probability;
        if !(0.0..=1.0).contains(&p) {
            return Err(format!(
                "shipping_failure_probability: must be a probability in [0, 1], got {p}"
            ));
        }
        if self.retry_interval.0 == SimDuration::ZERO || self.step_timeout.0 == SimDuration::ZERO {
            return Err("retry_interval: retry_interval and step_timeout must be above 0".into());
        }
        Ok(())
    }
}
