//! At-least-once delivery: a message stays in the outbox, and is resent
//! every retry interval, until the receiver acknowledges it. Receivers
//! deduplicate, so at-least-once becomes effectively-once.
//!
//! The outbox is volatile. After a restart its owner refills it from its
//! durable log (everything not known to be finished goes out again), which
//! is why every receiver must be idempotent.

use sim_core::{NodeId, SimDuration};
use std::collections::BTreeMap;

/// Messages awaiting acknowledgement at most per server; more is a leak.
pub const OUTBOX_MAX: usize = 100_000;

#[derive(Debug)]
pub struct Outbox<K, M> {
    entries: BTreeMap<K, (NodeId, M)>,
    /// A retry timer is set.
    pub armed: bool,
    pub retry_interval: SimDuration,
}

impl<K: Ord, M: Clone> Outbox<K, M> {
    pub fn new(retry_interval: SimDuration) -> Self {
        Outbox {
            entries: BTreeMap::new(),
            armed: false,
            retry_interval,
        }
    }

    /// Keeps `message` for `to` until `ack(key)`; replaces what `key` held.
    pub fn put(&mut self, key: K, to: NodeId, message: M) {
        self.entries.insert(key, (to, message));
        assert!(
            self.entries.len() <= OUTBOX_MAX,
            "more than {OUTBOX_MAX} unacknowledged messages"
        );
    }

    /// Heap bytes held (for the run's memory budget): the messages' inline part.
    pub fn heap_bytes(&self) -> usize {
        crate::heap::map_bytes(&self.entries)
    }

    pub fn ack(&mut self, key: &K) {
        self.entries.remove(key);
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Everything to resend, in key order.
    pub fn pending(&self) -> Vec<(NodeId, M)> {
        self.entries.values().cloned().collect()
    }
}
