//! One node outside the engine, for handler tests: build a `Context` for a
//! node at a chosen local time, run one handler, and get back the commands
//! it emitted (sends, timers, outputs) and what it did to its storage.
//!
//! As openraft keeps a `*_test.rs` beside each handler that feeds one
//! input and asserts the exact commands out, a protocol's handler tests
//! call `NodeHarness::call` with the handler they test. Nothing else of
//! the engine runs: no network, no clock but the one the test sets, no
//! faults; the random stream is the node's own, from a seed.
//!
//! The harness's disk is instant: a sync the handler asked for has
//! completed when `call` returns (its writes are durable), and `Handled`
//! lists its id, so that a test can hand the node `on_synced` itself —
//! or, to test what happens before a sync completes, not hand it.

use crate::ids::{NodeId, SyncId};
use crate::node_stream::NodeStream;
use crate::protocol::{Command, Context, NodeTimers, Protocol};
use crate::rng::{self, SimRng};
use crate::storage::DurableStorage;
use crate::time::{LocalTime, SimDuration};

/// A node's state as a handler sees it, kept between calls.
pub struct NodeHarness {
    id: NodeId,
    node_count: u32,
    now: LocalTime,
    rng: SimRng,
    rng_words_drawn: u8,
    storage: DurableStorage,
    timers: NodeTimers,
    /// Syncs complete only when the test says (`complete_sync`), not when
    /// `call` returns.
    slow_disk: bool,
}

/// What one handler call did.
#[derive(Debug)]
pub struct Handled<P: Protocol, R> {
    /// What the handler returned.
    pub result: R,
    /// The commands it emitted, in order.
    pub commands: Vec<Command<P>>,
    /// Storage keys it wrote or deleted, in key order.
    pub stored: Vec<String>,
    /// Whether it synced its storage.
    pub synced: bool,
    /// The syncs it asked for, in order (complete when `call` returns).
    pub syncs: Vec<SyncId>,
}

impl NodeHarness {
    /// Node `id` of `node_count`, at local time zero, with empty storage
    /// and its random stream drawn from `seed`.
    pub fn new(id: NodeId, node_count: u32, seed: u64) -> Self {
        assert!(id.0 < node_count, "node {id} of {node_count}");
        NodeHarness {
            id,
            node_count,
            now: LocalTime::from_nanos(0),
            rng: rng::stream(seed, &format!("harness/node/{}", id.0)),
            rng_words_drawn: 0,
            storage: DurableStorage::new(u64::MAX),
            timers: NodeTimers::default(),
            slow_disk: false,
        }
    }

    /// From now on syncs stay in flight after `call` until the test
    /// completes them with `complete_sync`, to look between a write and
    /// its sync's completion.
    pub fn hold_syncs(&mut self) {
        self.slow_disk = true;
    }

    /// Whether syncs wait for `complete_sync` (see `hold_syncs`).
    pub fn holds_syncs(&self) -> bool {
        self.slow_disk
    }

    /// Completes the oldest sync in flight (and takes a grouped sync that
    /// its completion issues, which stays in flight); its id, or None when
    /// none is in flight.
    pub fn complete_sync(&mut self) -> Option<SyncId> {
        let front = self.storage.oldest_sync_in_flight()?;
        let done = self.storage.complete(front);
        assert_eq!(done, Some(front), "the harness completes syncs in order");
        let _ = self.storage.take_asked().count();
        done
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The node's clock reads `now` at the next call.
    pub fn set_now(&mut self, now: LocalTime) {
        self.now = now;
    }

    /// Moves the node's clock on by `by`.
    pub fn advance(&mut self, by: SimDuration) {
        self.now = self.now.saturating_add(by);
    }

    pub fn now(&self) -> LocalTime {
        self.now
    }

    pub fn storage(&self) -> &DurableStorage {
        &self.storage
    }

    /// Runs `handler` with this node's context and returns what it did.
    pub fn call<P: Protocol, R>(
        &mut self,
        handler: impl FnOnce(&mut Context<'_, P>) -> R,
    ) -> Handled<P, R> {
        let before = self.storage.clone();
        let syncs = self.storage.syncs();
        let mut commands = Vec::new();
        let result = {
            let mut ctx = Context {
                node: self.id,
                node_count: self.node_count,
                local_now: self.now,
                rng: NodeStream::new(&mut self.rng, &mut self.rng_words_drawn),
                storage: &mut self.storage,
                storage_touched: false,
                timers: &mut self.timers,
                commands: &mut commands,
            };
            handler(&mut ctx)
        };
        let stored = self.storage.changed_since(&before);
        if self.slow_disk {
            let asked: Vec<SyncId> = self.storage.take_asked().map(|(id, _)| id).collect();
            return Handled {
                result,
                commands,
                stored,
                synced: self.storage.syncs() > syncs,
                syncs: asked,
            };
        }
        // An instant disk: every sync completes, and so does a grouped sync
        // that a completion issues.
        let mut asked: Vec<SyncId> = Vec::new();
        loop {
            let batch: Vec<SyncId> = self.storage.take_asked().map(|(id, _)| id).collect();
            if batch.is_empty() {
                break;
            }
            for id in batch {
                assert_eq!(
                    self.storage.complete(id),
                    Some(id),
                    "the harness completes syncs in order"
                );
                asked.push(id);
            }
        }
        Handled {
            result,
            commands,
            stored,
            synced: self.storage.syncs() > syncs,
            syncs: asked,
        }
    }
}
