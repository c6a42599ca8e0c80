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
    /// Per kind of message (`Protocol::message_kind`), its own latency on
    /// this link; a kind without one takes `latency`. Empty for most links,
    /// which then pay nothing for the lookup. (The PBS model gives a write,
    /// its ack, a read and its response each their own distribution.)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kind_latency: Vec<Option<Latency>>,
}

impl Default for LinkConfig {
    /// A LAN-like link: 1-10 ms uniform, no loss, no duplication, unordered.
    fn default() -> Self {
        LinkConfig {
            latency: Latency::uniform_ms(1, 10),
            loss: 0.0,
            duplicate: 0.0,
            order: LinkOrder::Unordered,
            kind_latency: Vec::new(),
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
        self.latency
            .validate()
            .map_err(|e| format!("latency: {e}"))?;
        for (kind, latency) in self.kind_latency.iter().enumerate() {
            if let Some(latency) = latency {
                latency
                    .validate()
                    .map_err(|e| format!("kind {kind}'s latency: {e}"))?;
            }
        }
        Ok(())
    }

    /// The latency a message of `kind` takes on this link.
    #[inline]
    pub fn latency_of(&self, kind: usize) -> &Latency {
        if self.kind_latency.is_empty() {
            return &self.latency;
        }
        match self.kind_latency.get(kind) {
            Some(Some(latency)) => latency,
            _ => &self.latency,
        }
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
