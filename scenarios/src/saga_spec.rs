//! How a scenario writes the saga protocol's params:
//! `protocol: Saga(style: Choreography, shipping_failure_probability: 0.2)`.
//! The items are the workload's keys; the customers are its clients.

use crate::duration::Dur;
use protocols::saga::params::{SagaBugs, SagaParams, SagaStyle};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SagaStyleSpec {
    #[default]
    Orchestration,
    Choreography,
}

fn default_initial_stock() -> i64 {
    20
}
fn default_initial_credit() -> i64 {
    100
}
fn default_unit_price() -> i64 {
    10
}
fn default_shipping_failure_probability() -> f64 {
    0.1
}
fn default_retry_interval() -> Dur {
    Dur(sim_core::SimDuration::from_millis(50))
}
fn default_step_timeout() -> Dur {
    Dur(sim_core::SimDuration::from_millis(1_000))
}
fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SagaSpec {
    #[serde(default)]
    pub style: SagaStyleSpec,
    /// Units of every item in stock at the start.
    #[serde(default = "default_initial_stock")]
    pub initial_stock: i64,
    /// Every customer's credit at the start.
    #[serde(default = "default_initial_credit")]
    pub initial_credit: i64,
    #[serde(default = "default_unit_price")]
    pub unit_price: i64,
    /// The shipping step is refused with this probability.
    #[serde(default = "default_shipping_failure_probability")]
    pub shipping_failure_probability: f64,
    #[serde(default = "default_retry_interval")]
    pub retry_interval: Dur,
    /// Orchestration: a step unanswered this long is given up and compensated.
    #[serde(default = "default_step_timeout")]
    pub step_timeout: Dur,
    /// BUG SWITCH: a failed saga does not refund the payment.
    #[serde(default, skip_serializing_if = "is_false")]
    pub skip_refund: bool,
    /// BUG SWITCH: services forget what they applied, so a retried or
    /// duplicated command applies twice.
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_dedup: bool,
}

impl Default for SagaSpec {
    fn default() -> Self {
        crate::dialect::ron_options()
            .from_str("()")
            .expect("every Saga field has a default")
    }
}

impl SagaSpec {
    pub const BUG_SWITCHES: &'static [&'static str] = &["skip_refund", "no_dedup"];

    pub fn params(&self, items: u32) -> SagaParams {
        SagaParams {
            style: match self.style {
                SagaStyleSpec::Orchestration => SagaStyle::Orchestration,
                SagaStyleSpec::Choreography => SagaStyle::Choreography,
            },
            items,
            initial_stock: self.initial_stock,
            initial_credit: self.initial_credit,
            unit_price: self.unit_price,
            shipping_failure_probability: self.shipping_failure_probability,
            retry_interval: self.retry_interval.0,
            step_timeout: self.step_timeout.0,
            bugs: SagaBugs {
                skip_refund: self.skip_refund,
                no_dedup: self.no_dedup,
            },
        }
    }
}
