//! The sans-IO protocol interface: what a node reacts to, and the context
//! through which it acts.
//!
//! A protocol is a plain state machine. The engine calls one `on_*` method per
//! input; the method acts only through its `Context`: send, set or cancel timers,
//! read the node's local clock, draw from the node's random stream, and read or
//! write durable storage. Sends and timers are queued as `Command`s and carried
//! out by the engine after the method returns (as openraft's engine emits
//! commands instead of doing I/O), so a handler can never observe its own
//! effects half-applied.
//!
//! Architecture Invariant: protocol code never touches threads, sockets, wall
//! clocks or global RNGs. Everything nondeterministic comes through `Context`.

use crate::ids::{NodeId, SyncId, TimerId};
use crate::node_stream::NodeStream;
use crate::storage::DurableStorage;
use crate::time::{LocalTime, SimDuration};
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::hash::Hash;

/// A node's behaviour. One value per live node; a crash drops it, and a
/// restart builds a fresh one that recovers from durable storage.
pub trait Protocol: Sized + 'static {
    /// What nodes send each other. `Hash` feeds the trace hash.
    type Message: Clone + Debug + Hash;
    /// What a timer carries back to the node when it fires.
    type Timer: Clone + Debug + Hash;
    /// A request injected into the node by the workload (a client call, say).
    type Request: Debug + Hash;
    /// What a node reports to the outside world: a client's observation for
    /// the history, a protocol event for an invariant monitor. The engine
    /// stamps each with true time; the node never sees that stamp.
    type Output: Debug;

    /// The node boots for the first time, at time zero.
    fn on_start(&mut self, ctx: &mut Context<'_, Self>);

    /// The node restarts after a crash. Volatile state is fresh; durable state
    /// is whatever survived. The default treats it like a first start.
    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        self.on_start(ctx);
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, message: Self::Message);

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, id: TimerId, timer: Self::Timer);

    /// A sync the node asked for (`DurableStorage::sync`) has completed:
    /// the writes issued before it are durable. Syncs complete in the
    /// order they were asked for. The default ignores it.
    fn on_synced(&mut self, ctx: &mut Context<'_, Self>, id: SyncId) {
        let _ = (ctx, id);
    }

    /// A workload request arrives. The default ignores it.
    fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: Self::Request) {
        let _ = (ctx, request);
    }

    /// Whether the engine asks `state_heap_bytes` at its memory audits. A
    /// protocol whose state cannot grow leaves it false and saves the pass
    /// over every node.
    const COUNTS_STATE: bool = false;

    /// Heap memory this node's state holds beyond its inline size (logs,
    /// per-peer tables, maps), for the run's memory budget. An estimate, but
    /// a deterministic one: it must not read the allocator.
    fn state_heap_bytes(&self) -> usize {
        0
    }

    /// Heap memory a message holds beyond its inline size (entries, keys,
    /// values), for the run's memory budget. Counted while it is queued.
    fn message_heap_bytes(message: &Self::Message) -> usize {
        let _ = message;
        0
    }

    /// The names of this protocol's kinds of message, so that a link may
    /// give a kind its own latency (`LinkConfig::kind_latency`, indexed by
    /// kind). None by default: every message takes its link's latency.
    fn message_kinds() -> Vec<&'static str> {
        Vec::new()
    }

    /// The kind of `message`: an index into `message_kinds`, or `usize::MAX`
    /// for one of no named kind.
    fn message_kind(message: &Self::Message) -> usize {
        let _ = message;
        usize::MAX
    }
}

/// An effect a handler asked for; the engine applies it after the handler returns.
#[derive(Debug)]
pub enum Command<P: Protocol> {
    Send {
        to: NodeId,
        message: P::Message,
    },
    SetTimer {
        id: TimerId,
        after: SimDuration,
        timer: P::Timer,
    },
    Output(P::Output),
}

/// A node's timers: the next id, and the ids that are set and not yet fired or cancelled.
#[derive(Clone, Debug, Default)]
pub struct NodeTimers {
    next_id: u64,
    active: BTreeSet<u64>,
}

/// A node may have at most this many timers set at once (a leak otherwise).
pub const ACTIVE_TIMERS_MAX: usize = 100_000;

impl NodeTimers {
    fn set(&mut self) -> TimerId {
        assert!(
            self.active.len() < ACTIVE_TIMERS_MAX,
            "a node set more than {ACTIVE_TIMERS_MAX} timers at once"
        );
        let id = self.next_id;
        self.next_id += 1;
        self.active.insert(id);
        TimerId(id)
    }
    /// Removes a timer; true if it was still active.
    pub(crate) fn take(&mut self, id: TimerId) -> bool {
        self.active.remove(&id.0)
    }
    pub(crate) fn clear(&mut self) {
        self.active.clear();
    }
    pub fn active_count(&self) -> usize {
        self.active.len()
    }
}

/// A handler's window on the world.
pub struct Context<'a, P: Protocol> {
    pub(crate) node: NodeId,
    pub(crate) node_count: u32,
    pub(crate) local_now: LocalTime,
    pub(crate) rng: NodeStream<'a>,
    pub(crate) storage: &'a mut DurableStorage,
    /// Whether the handler asked for its storage: only then does the engine
    /// look at the storage afterwards (its memory and any bound passed).
    pub(crate) storage_touched: bool,
    pub(crate) timers: &'a mut NodeTimers,
    pub(crate) commands: &'a mut Vec<Command<P>>,
}

impl<'a, P: Protocol> Context<'a, P> {
    /// This node's id.
    #[inline]
    pub fn id(&self) -> NodeId {
        self.node
    }
    /// How many nodes the cluster has; ids are `0..node_count`.
    #[inline]
    pub fn node_count(&self) -> u32 {
        self.node_count
    }
    /// Every node id but this one, in order.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + 'static {
        let me = self.node;
        (0..self.node_count).map(NodeId).filter(move |n| *n != me)
    }
    /// The node's local clock (skewed, drifting, jumping). Never true time.
    #[inline]
    pub fn now(&self) -> LocalTime {
        self.local_now
    }
    /// The node's own random stream.
    #[inline]
    pub fn rng(&mut self) -> &mut NodeStream<'a> {
        &mut self.rng
    }
    /// The node's durable storage. Writes become durable at `sync`.
    #[inline]
    pub fn storage(&mut self) -> &mut DurableStorage {
        self.storage_touched = true;
        self.storage
    }
    /// Reports that the scenario drove this node past one of the protocol's
    /// own bounds (a log longer than it supports, say). The run ends after
    /// this handler as *inconclusive*, naming `what`: not a pass, and not a
    /// panic, which is kept for broken promises of our own code. The handler
    /// should leave its state consistent; nothing after it is judged.
    pub fn limit_reached(&mut self, what: String) {
        self.storage().limit_reached(what);
    }
    /// Sends `message` to `to` over the simulated network.
    #[inline]
    pub fn send(&mut self, to: NodeId, message: P::Message) {
        assert!(
            to.0 < self.node_count,
            "node {} sent to {to}, which does not exist",
            self.node
        );
        self.commands.push(Command::Send { to, message });
    }
    /// Sends a copy of `message` to every other node.
    pub fn broadcast(&mut self, message: P::Message) {
        for peer in self.peers() {
            self.send(peer, message.clone());
        }
    }
    /// Sets a timer that fires after `after` of *local* time.
    pub fn set_timer(&mut self, after: SimDuration, timer: P::Timer) -> TimerId {
        let id = self.timers.set();
        self.commands.push(Command::SetTimer { id, after, timer });
        id
    }
    /// Reports `output` to whoever drives the simulation (see
    /// `Simulation::drain_outputs`). It does not affect the run.
    #[inline]
    pub fn output(&mut self, output: P::Output) {
        self.commands.push(Command::Output(output));
    }
    /// Cancels a timer; it will not fire. Cancelling a fired timer does nothing.
    pub fn cancel_timer(&mut self, id: TimerId) {
        self.timers.take(id);
    }
}
