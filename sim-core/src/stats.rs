//! Run statistics: events, and messages sent, delivered and dropped by reason,
//! in total and per node.

use crate::ids::NodeId;
use crate::trace::DropReason;
use serde::Serialize;

/// Drop counts by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DropCounts {
    pub loss: u64,
    pub partition: u64,
    pub node_down: u64,
    pub clog_overflow: u64,
    pub pause_overflow: u64,
}

impl DropCounts {
    pub fn add(&mut self, reason: DropReason) {
        *self.slot(reason) += 1;
    }
    pub fn get(&self, reason: DropReason) -> u64 {
        match reason {
            DropReason::Loss => self.loss,
            DropReason::Partition => self.partition,
            DropReason::NodeDown => self.node_down,
            DropReason::ClogOverflow => self.clog_overflow,
            DropReason::PauseOverflow => self.pause_overflow,
        }
    }
    fn slot(&mut self, reason: DropReason) -> &mut u64 {
        match reason {
            DropReason::Loss => &mut self.loss,
            DropReason::Partition => &mut self.partition,
            DropReason::NodeDown => &mut self.node_down,
            DropReason::ClogOverflow => &mut self.clog_overflow,
            DropReason::PauseOverflow => &mut self.pause_overflow,
        }
    }
    pub fn total(&self) -> u64 {
        DropReason::ALL.iter().map(|r| self.get(*r)).sum()
    }
}

/// One node's counters. `dropped` counts messages addressed to the node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeStats {
    pub sent: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub timers_fired: u64,
}

/// The whole run's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Events taken off the queue.
    pub events: u64,
    pub sent: u64,
    pub delivered: u64,
    /// Extra copies made by duplication.
    pub duplicated: u64,
    pub dropped: DropCounts,
    pub timers_fired: u64,
    pub requests: u64,
    pub faults: u64,
    /// Syncs completed.
    pub syncs: u64,
    /// Syncs in flight at a power loss that did not survive it: their
    /// writes were lost, and nothing that waited for them was sent.
    pub syncs_lost: u64,
    pub per_node: Vec<NodeStats>,
}

impl Stats {
    pub fn node(&self, node: NodeId) -> &NodeStats {
        &self.per_node[node.index()]
    }
}
