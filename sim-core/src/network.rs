//! The network's mutable state: partitions, clogs, loss overrides, FIFO
//! bookkeeping, and the network's random stream.
//!
//! Loss and duplication are decided at send time (the link's own behaviour);
//! partitions and clogs are checked at delivery time (see `partition.rs`).

use crate::ids::NodeId;
use crate::link::{LinkConfig, LinkOrder};
use crate::partition::PartitionState;
use crate::rng::SimRng;
use crate::time::SimTime;
use rand::Rng;
use std::collections::BTreeMap;

/// At most this many clogs are active at once.
pub const ACTIVE_CLOGS_MAX: usize = 1_024;

/// When copies of a message arrive: `first` is `None` if the message was lost.
pub(crate) struct DeliveryPlan {
    pub first: Option<SimTime>,
    pub duplicate: Option<SimTime>,
}

pub(crate) struct Network {
    rng: SimRng,
    pub partitions: PartitionState,
    clogs: Vec<(Option<NodeId>, Option<NodeId>)>,
    pub loss_override: Option<f64>,
    /// Latest scheduled delivery per FIFO link, so no later send overtakes it.
    fifo_last: BTreeMap<(NodeId, NodeId), SimTime>,
}

impl Network {
    pub fn new(rng: SimRng) -> Self {
        Network {
            rng,
            partitions: PartitionState::default(),
            clogs: Vec::new(),
            loss_override: None,
            fifo_last: BTreeMap::new(),
        }
    }

    /// Draws loss, duplication and latency for one send on `link`.
    #[inline]
    pub fn plan(
        &mut self,
        link: &LinkConfig,
        kind: usize,
        from: NodeId,
        to: NodeId,
        now: SimTime,
    ) -> DeliveryPlan {
        let loss = self.loss_override.unwrap_or(link.loss);
        if loss > 0.0 && self.rng.random::<f64>() < loss {
            return DeliveryPlan {
                first: None,
                duplicate: None,
            };
        }
        let duplicated = link.duplicate > 0.0 && self.rng.random::<f64>() < link.duplicate;
        let first = self.arrival(link, kind, from, to, now);
        let duplicate = if duplicated {
            Some(self.arrival(link, kind, from, to, now))
        } else {
            None
        };
        DeliveryPlan {
            first: Some(first),
            duplicate,
        }
    }

    #[inline]
    fn arrival(
        &mut self,
        link: &LinkConfig,
        kind: usize,
        from: NodeId,
        to: NodeId,
        now: SimTime,
    ) -> SimTime {
        let at = now.saturating_add(link.latency_of(kind).sample(&mut self.rng));
        if link.order == LinkOrder::Unordered {
            return at;
        }
        // Equal times keep send order, because the queue breaks ties by sequence.
        let last = self.fifo_last.entry((from, to)).or_insert(SimTime::ZERO);
        let at = at.max(*last);
        *last = at;
        at
    }

    pub fn clog(&mut self, from: Option<NodeId>, to: Option<NodeId>) {
        assert!(
            self.clogs.len() < ACTIVE_CLOGS_MAX,
            "more than {ACTIVE_CLOGS_MAX} clogs active at once"
        );
        self.clogs.push((from, to));
    }

    /// Removes clogs with exactly these endpoints.
    pub fn release(&mut self, from: Option<NodeId>, to: Option<NodeId>) {
        self.clogs.retain(|c| *c != (from, to));
    }

    #[inline]
    pub fn is_clogged(&self, from: NodeId, to: NodeId) -> bool {
        !self.clogs.is_empty()
            && self
                .clogs
                .iter()
                .any(|(f, t)| f.is_none_or(|f| f == from) && t.is_none_or(|t| t == to))
    }
}
