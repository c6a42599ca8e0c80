//! The behaviour of one directed link: latency, loss, duplication and ordering.

use crate::latency::Latency;
use serde::{Deserialize, Serialize};

/// Whether a link keeps send order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum LinkOrder {
    /// Each message takes its own sampled delay, so later sends may overtake.
    #[default]
    Unordered,
    /// Messages on the link are delivered in send order: a message is never
    /// delivered before one sent earlier on the same directed link (as over TCP).
    Fifo,
}

/// Configuration of a directed link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkConfig {
    pub latency: Latency,
    /// Probability in [0, 1] that a send is lost.
    pub loss: f64,
    /// Probability in [0, 1] that a send that was not lost is delivered twice.
    pub duplicate: f64,
    pub order: LinkOrder,
}

impl Default for LinkConfig {
    /// A LAN-like link: 1-10 ms uniform, no loss, no duplication, unordered.
    fn default() -> Self {
        LinkConfig {
            latency: Latency::uniform_ms(1, 10),
            loss: 0.0,
            duplicate: 0.0,
            order: LinkOrder::Unordered,
        }
    }
}

impl LinkConfig {
    pub fn with_latency(latency: Latency) -> Self {
        LinkConfig {
            latency,
            ..LinkConfig::default()
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        check_probability("loss", self.loss)?;
        check_probability("duplicate", self.duplicate)?;
        self.latency.validate().map_err(|e| format!("latency: {e}"))
    }
}

/// Checks that `p` is a probability; the error names the field.
pub fn check_probability(field: &str, p: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(format!("{field} must be a probability in [0, 1], got {p}"))
    }
}
