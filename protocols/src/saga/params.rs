//! The saga protocols' parameters and bug switches.

use sim_core::SimDuration;

/// Who drives a saga.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SagaStyle {
    /// A durable orchestrator sends each service its command, and the
    /// compensations in reverse order when a step fails or times out.
    Orchestration,
    /// No one in charge: each service reacts to the previous one's event
    /// and emits its own (reserve -> charge -> ship; failures flow back).
    Choreography,
}

/// Known broken variants, for showing that the checks catch them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SagaBugs {
    /// The payment service acknowledges a refund without refunding.
    pub skip_refund: bool,
    /// Services forget which steps they applied, so a retried or
    /// duplicated command applies again.
    pub no_dedup: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SagaParams {
    pub style: SagaStyle,
    /// Items "k0".."k{items-1}", each with `initial_stock` units.
    pub items: u32,
    pub initial_stock: i64,
    /// Each client is a customer with this much credit at the start.
    pub initial_credit: i64,
    /// What one unit of any item costs.
    pub unit_price: i64,
    /// The shipping service refuses an order with this probability (no
    /// carrier), which makes the saga compensate its first two steps.
    pub shipping_failure_probability: f64,
    /// How often unacknowledged commands and events are resent.
    pub retry_interval: SimDuration,
    /// Orchestration: a step with no answer for this long is given up,
    /// and the saga compensates (the step included, in case it happened).
    pub step_timeout: SimDuration,
    pub bugs: SagaBugs,
}

/// A saga cluster is exactly: orders (the orchestrator, or the order
/// service), inventory, payment, shipping.
pub const SAGA_SERVERS: usize = 4;

impl SagaParams {
    /// Checks the params for `servers` servers; errors name the field.
    pub fn validate(&self, servers: usize) -> Result<(), String> {
        if servers != SAGA_SERVERS {
            return Err(format!(
                "nodes: a saga cluster has exactly {SAGA_SERVERS} servers (orders, inventory, payment, shipping), got {servers}"
            ));
        }
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
        if self.retry_interval == SimDuration::ZERO || self.step_timeout == SimDuration::ZERO {
            return Err("retry_interval: retry_interval and step_timeout must be above 0".into());
        }
        Ok(())
    }
}
