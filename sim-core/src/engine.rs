//! The simulation: nodes, the network and the event loop.
//!
//! One `Simulation` owns true time, the event queue, every node's state and
//! the network. It pops the earliest event, applies it, and carries out the
//! commands the handler emitted. It is the only place that knows true time.

use crate::clock::{ClockConfig, NodeClock};
use crate::disk::{Disk, DiskConfig};
use crate::error::SimError;
use crate::event::{Event, EventKind, EventQueue};
use crate::fault::Fault;
use crate::hash::stable_hash;
use crate::ids::{MessageId, NodeId, SyncId};
use crate::memory::{MemoryMeter, MEMORY_BYTES_DEFAULT};
use crate::network::Network;
pub use crate::node_slot::NodeStatus;
use crate::node_slot::{self, NodeCold, NodeRng, NodeSlot};
use crate::node_stream::{self, NodeStream};
use crate::prefetch;
use crate::protocol::{Command, Context, NodeTimers, Protocol};
use crate::rng::{self, SimRng};
use crate::stats::{NodeStats, Stats};
use crate::storage::{DurableStorage, STORAGE_BYTES_MAX_DEFAULT};
use crate::time::{LocalTime, SimDuration, SimTime};
use crate::topology::Topology;
use crate::trace::{DropReason, Trace, TraceConfig, TraceKind, TraceRecord};
use serde::Serialize;

/// Bounds on a run. Exceeding the queue, event or memory bound stops the run
/// with a reason; exceeding a buffer bound drops the message with a reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Pending events at most (messages in flight, timers, scheduled faults).
    pub queue_len_max: usize,
    /// Events processed at most, in all (`EVENTS_MAX_DEFAULT`).
    pub events_max: u64,
    /// Events processed at one simulated instant at most
    /// (`EVENTS_PER_INSTANT_MAX_DEFAULT`): a protocol that loops at one
    /// instant (a zero-delay timer that re-arms itself, a message answered
    /// at once, for ever) never lets time pass, so no time bound ends it.
    pub events_per_instant_max: u64,
    /// Messages held by clogs at most, over all links.
    pub held_messages_max: usize,
    /// Inputs waiting on one paused node at most.
    pub deferred_per_node_max: usize,
    pub storage_bytes_per_node_max: u64,
    /// Outputs waiting to be drained at most; `run` returns
    /// `StopReason::OutputsPending` when they reach it, so a driver that drains
    /// between calls keeps memory bounded.
    pub outputs_pending_max: usize,
    /// The run's memory budget (see `memory.rs`): past it the run stops with
    /// `StopReason::MemoryLimit` rather than growing until the process aborts.
    pub memory_bytes_max: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            queue_len_max: 50_000_000,
            events_max: EVENTS_MAX_DEFAULT,
            events_per_instant_max: EVENTS_PER_INSTANT_MAX_DEFAULT,
            held_messages_max: 1_000_000,
            deferred_per_node_max: 100_000,
            storage_bytes_per_node_max: STORAGE_BYTES_MAX_DEFAULT,
            outputs_pending_max: 1_000_000,
            memory_bytes_max: MEMORY_BYTES_DEFAULT,
        }
    }
}

/// Events a run processes at most unless told otherwise: about ten minutes
/// of the engine at full speed, far beyond any curated scenario (the
/// largest runs some tens of millions), so only a run that never ends
/// reaches it.
pub const EVENTS_MAX_DEFAULT: u64 = 4_000_000_000;

/// Events at one simulated instant at most unless told otherwise. Ten
/// thousand clients all starting at time zero take some tens of thousands;
/// a million is a loop.
pub const EVENTS_PER_INSTANT_MAX_DEFAULT: u64 = 1_000_000;

/// Everything a simulation is built from, except the protocol.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub seed: u64,
    pub topology: Topology,
    /// One per node, or empty for perfect clocks.
    pub clocks: Vec<ClockConfig>,
    /// One per node, or empty for instant disks (see `disk.rs`).
    pub disks: Vec<DiskConfig>,
    /// One per node, or empty: how late each node's timers fire after
    /// their deadline (an OS scheduler's wake-up delay), drawn per timer;
    /// None, on time. Real servers that start in lockstep drift apart by
    /// it; timers that fire exactly on time never do.
    pub timer_lateness: Vec<Option<crate::latency::Latency>>,
    pub limits: Limits,
    pub trace: TraceConfig,
}

impl SimConfig {
    pub fn new(seed: u64, topology: Topology) -> Self {
        SimConfig {
            seed,
            topology,
            clocks: Vec::new(),
            disks: Vec::new(),
            timer_lateness: Vec::new(),
            limits: Limits::default(),
            trace: TraceConfig::default(),
        }
    }
}

/// When `run` stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stop {
    /// Stop before any event later than this.
    pub until: SimTime,
    /// Stop once this many messages have been delivered.
    pub delivered_max: u64,
    /// Pause once the run has processed this many events in all, with
    /// `StopReason::EventsReached`: a driver runs in slices of events to
    /// report progress and to be able to stop a run, however long it
    /// spends at one simulated instant.
    pub events_until: u64,
}

impl Stop {
    pub fn at(until: SimTime) -> Self {
        Stop {
            until,
            delivered_max: u64::MAX,
            events_until: u64::MAX,
        }
    }
    pub fn after(duration: SimDuration) -> Self {
        Stop::at(SimTime::ZERO.saturating_add(duration))
    }
    pub fn after_delivered(delivered_max: u64) -> Self {
        Stop {
            until: SimTime::MAX,
            delivered_max,
            events_until: u64::MAX,
        }
    }
    /// The same stop, pausing once `events` events have been processed in all.
    pub fn pausing_at_events(self, events: u64) -> Self {
        Stop {
            events_until: events,
            ..self
        }
    }
}

/// Why `run` returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The next event lies past `Stop::until`.
    TimeReached,
    /// Nothing is left to do.
    QueueEmpty,
    DeliveredReached,
    /// `Limits::events_max` was reached.
    EventLimit,
    /// `Limits::queue_len_max` was exceeded (a protocol flooding the network?).
    QueueLimit,
    /// `Limits::outputs_pending_max` outputs wait; drain them and call `run` again.
    OutputsPending,
    /// The run's memory estimate reached `Limits::memory_bytes_max`.
    MemoryLimit,
    /// A node went past one of its protocol's own bounds (see
    /// `Context::limit_reached`); `Simulation::limit_detail` names it.
    ProtocolLimit,
    /// `Stop::events_until` was reached: a pause, like `OutputsPending`;
    /// call `run` again to go on.
    EventsReached,
    /// `Limits::events_per_instant_max` events happened at one simulated
    /// instant: a protocol looping without letting time pass.
    InstantLimit,
    /// The driver stopped the run (its watcher asked to: a wall-clock
    /// budget, a user's interrupt). The engine never returns it itself.
    Cancelled,
}

impl StopReason {
    /// Whether the run ended by its own stop condition. Any other reason
    /// (a limit) means it was cut short, and its verdict is inconclusive.
    pub fn is_complete(self) -> bool {
        matches!(
            self,
            StopReason::TimeReached | StopReason::QueueEmpty | StopReason::DeliveredReached
        )
    }

    /// The snake_case name used in summaries.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::TimeReached => "time_reached",
            StopReason::QueueEmpty => "queue_empty",
            StopReason::DeliveredReached => "delivered_reached",
            StopReason::EventLimit => "event_limit",
            StopReason::QueueLimit => "queue_limit",
            StopReason::OutputsPending => "outputs_pending",
            StopReason::MemoryLimit => "memory_limit",
            StopReason::ProtocolLimit => "protocol_limit",
            StopReason::EventsReached => "events_reached",
            StopReason::InstantLimit => "instant_limit",
            StopReason::Cancelled => "cancelled",
        }
    }
}

/// An output a node emitted, stamped with the true time it happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Emitted<O> {
    pub time: SimTime,
    pub node: NodeId,
    pub output: O,
}

type Factory<P> = Box<dyn FnMut(NodeId) -> P>;

/// A message held by a clog.
struct Held<M> {
    from: NodeId,
    to: NodeId,
    id: MessageId,
    message: M,
}

/// A deterministic simulation of one cluster running protocol `P`.
pub struct Simulation<P: Protocol> {
    now: SimTime,
    seed: u64,
    /// Whether any node's timers fire late: when none do, setting a timer
    /// never touches the nodes' cold data.
    timer_lateness_on: bool,
    queue: EventQueue<P>,
    nodes: Vec<NodeSlot<P>>,
    cold: Vec<NodeCold<P>>,
    factory: Factory<P>,
    topology: Topology,
    network: Network,
    held: Vec<Held<P::Message>>,
    trace: Trace,
    stats: Stats,
    limits: Limits,
    /// Reused between handlers so that dispatch allocates nothing.
    commands: Vec<Command<P>>,
    next_message_id: u64,
    /// A limit reached: `run` returns it before the next event.
    halt: Option<StopReason>,
    /// For `Limits::events_per_instant_max`: the time when the instant
    /// check last found time had moved, and the event count at which it
    /// looks again. Every event from that look to the next is at or after
    /// that time, so finding the time unchanged there means more than the
    /// bound's events happened at one instant.
    instant_time: SimTime,
    instant_check_events: u64,
    /// What a `ProtocolLimit` halt is about, naming the node.
    limit_detail: Option<String>,
    memory: MemoryMeter,
    outputs: Vec<Emitted<P::Output>>,
    /// Sync latencies and the in-flight survivors of a power loss.
    disk_rng: SimRng,
}

impl<P: Protocol> Simulation<P> {
    /// Builds the simulation; `factory` makes a node's fresh state at start and
    /// at every restart. Every node starts at time zero.
    pub fn new(
        config: SimConfig,
        factory: impl FnMut(NodeId) -> P + 'static,
    ) -> Result<Self, SimError> {
        let node_count = config.topology.node_count();
        if !config.clocks.is_empty() && config.clocks.len() != node_count {
            return Err(SimError::PerNodeCount {
                what: "clock",
                given: config.clocks.len(),
                nodes: node_count,
            });
        }
        let node_error = |what: &'static str, index: usize, message: String| SimError::Node {
            what,
            node: config.topology.node_names()[index].clone(),
            message,
        };
        for (index, clock) in config.clocks.iter().enumerate() {
            clock
                .validate()
                .map_err(|e| node_error("clock", index, e.to_string()))?;
        }
        if !config.disks.is_empty() && config.disks.len() != node_count {
            return Err(SimError::PerNodeCount {
                what: "disk",
                given: config.disks.len(),
                nodes: node_count,
            });
        }
        for (index, disk) in config.disks.iter().enumerate() {
            disk.validate()
                .map_err(|e| node_error("disk", index, e.to_string()))?;
        }
        if !config.timer_lateness.is_empty() && config.timer_lateness.len() != node_count {
            return Err(SimError::PerNodeCount {
                what: "timer lateness",
                given: config.timer_lateness.len(),
                nodes: node_count,
            });
        }
        for (index, lateness) in config.timer_lateness.iter().enumerate() {
            if let Some(latency) = lateness {
                latency
                    .validate()
                    .map_err(|e| node_error("timer lateness", index, e))?;
            }
        }
        let mut nodes = prefetch::with_huge_pages(node_count);
        let names = config.topology.node_names();
        nodes.extend((0..node_count).map(|index| NodeSlot {
            rng: NodeRng(rng::stream(config.seed, &rng::names::node(&names[index]))),
            status: NodeStatus::Down,
            rng_words_drawn: 0,
            sent: 0,
            delivered: 0,
            clock: NodeClock::new(config.clocks.get(index).copied().unwrap_or_default()),
            state: None,
        }));
        let cold = (0..node_count)
            .map(|index| NodeCold {
                dropped: 0,
                timers_fired: 0,
                storage: DurableStorage::new(config.limits.storage_bytes_per_node_max),
                disk: Disk::new(config.disks.get(index).cloned().unwrap_or_default()),
                timers: NodeTimers::default(),
                deferred: Vec::new(),
                lateness: config
                    .timer_lateness
                    .get(index)
                    .cloned()
                    .flatten()
                    .map(|l| {
                        let stream =
                            rng::stream(config.seed, &rng::names::timer_lateness(&names[index]));
                        Box::new((l, stream))
                    }),
            })
            .collect();
        let memory = MemoryMeter::new(
            config.limits.memory_bytes_max,
            2 * EventQueue::<P>::EVENT_BYTES,
            node_count as u64,
            (std::mem::size_of::<NodeSlot<P>>() + std::mem::size_of::<NodeCold<P>>()) as u64,
            P::COUNTS_STATE,
        );
        let mut sim = Simulation {
            now: SimTime::ZERO,
            seed: config.seed,
            timer_lateness_on: config.timer_lateness.iter().any(Option::is_some),
            queue: EventQueue::new(),
            nodes,
            cold,
            factory: Box::new(factory),
            network: Network::new(rng::stream(config.seed, rng::names::NETWORK)),
            topology: config.topology,
            held: Vec::new(),
            trace: Trace::new(config.trace),
            stats: Stats::default(),
            limits: config.limits,
            commands: Vec::new(),
            next_message_id: 0,
            halt: None,
            instant_time: SimTime::ZERO,
            instant_check_events: config.limits.events_per_instant_max.saturating_add(1),
            limit_detail: None,
            memory,
            outputs: Vec::new(),
            disk_rng: rng::stream(config.seed, rng::names::DISK),
        };
        for index in 0..node_count {
            sim.push(SimTime::ZERO, EventKind::Start(NodeId(index as u32)));
        }
        Ok(sim)
    }

    // ----- scheduling inputs -------------------------------------------------

    /// Schedules a fault at true time `at`.
    pub fn schedule_fault(&mut self, at: SimTime, fault: Fault) -> Result<(), SimError> {
        fault.validate(self.nodes.len()).map_err(SimError::Fault)?;
        if at < self.now {
            return Err(SimError::Fault(format!(
                "cannot schedule a fault at {at}, before the current time {}",
                self.now
            )));
        }
        self.push(at, EventKind::Fault(Box::new(fault)));
        Ok(())
    }

    /// Schedules a workload request to `node` at true time `at`.
    pub fn schedule_request(
        &mut self,
        at: SimTime,
        node: NodeId,
        request: P::Request,
    ) -> Result<(), String> {
        if node.index() >= self.nodes.len() {
            return Err(format!("node {node} does not exist"));
        }
        if at < self.now {
            return Err(format!(
                "cannot schedule a request at {at}, before the current time {}",
                self.now
            ));
        }
        self.push(at, EventKind::Request { node, request });
        Ok(())
    }

    // ----- observing ---------------------------------------------------------

    pub fn now(&self) -> SimTime {
        self.now
    }
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Totals and per-node counters. O(nodes): call it for reports, not per event.
    pub fn stats(&self) -> Stats {
        let mut stats = self.stats.clone();
        stats.per_node = (self.nodes.iter().zip(&self.cold))
            .map(|(hot, cold)| NodeStats {
                sent: hot.sent,
                delivered: hot.delivered,
                dropped: cold.dropped,
                timers_fired: cold.timers_fired,
            })
            .collect();
        stats
    }
    /// Messages delivered so far (O(1)).
    pub fn delivered(&self) -> u64 {
        self.stats.delivered
    }
    /// Events processed so far (O(1)).
    pub fn events(&self) -> u64 {
        self.stats.events
    }
    pub fn trace(&self) -> &Trace {
        &self.trace
    }
    pub fn trace_hash(&self) -> u64 {
        self.trace.hash()
    }
    pub fn trace_records(&self) -> &[TraceRecord] {
        self.trace.records()
    }
    pub fn topology(&self) -> &Topology {
        &self.topology
    }
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
    /// A live node's protocol state (for invariant checks and tests).
    pub fn node(&self, node: NodeId) -> Option<&P> {
        self.nodes[node.index()].state.as_ref()
    }
    pub fn node_status(&self, node: NodeId) -> NodeStatus {
        self.nodes[node.index()].status
    }
    /// What `node`'s clock reads now.
    pub fn local_time(&self, node: NodeId) -> LocalTime {
        self.nodes[node.index()].clock.read(self.now)
    }
    pub fn storage(&self, node: NodeId) -> &DurableStorage {
        &self.cold[node.index()].storage
    }
    /// How long `node`'s completed syncs took (see `disk.rs`).
    pub fn sync_latencies(&self, node: NodeId) -> &crate::histogram::LatencyHistogram {
        &self.cold[node.index()].disk.latencies
    }
    /// Events waiting in the queue.
    pub fn pending_events(&self) -> usize {
        self.queue.len()
    }
    pub fn held_messages(&self) -> usize {
        self.held.len()
    }
    /// Messages in flight from and to nodes `among` accepts that will not
    /// arrive before `time` (a scan of the queue: for a run's end, not its
    /// loop). What tells whether a network has gone quiet: a message still
    /// on its way may carry what a replica lacks.
    pub fn messages_arriving_after(&self, time: SimTime, among: impl Fn(NodeId) -> bool) -> usize {
        self.queue
            .pending()
            .filter(|(at, kind)| {
                *at > time
                    && matches!(kind, EventKind::Deliver { from, to, .. } if among(*from) && among(*to))
            })
            .count()
    }
    /// Takes the outputs emitted since the last drain, in emission order.
    pub fn drain_outputs(&mut self) -> std::vec::Drain<'_, Emitted<P::Output>> {
        self.outputs.drain(..)
    }
    /// Outputs waiting to be drained.
    pub fn pending_outputs(&self) -> usize {
        self.outputs.len()
    }

    // ----- running -----------------------------------------------------------

    /// Runs until `stop` or a limit; returns why it stopped. May be called again
    /// to continue. On `TimeReached` the clock advances to `stop.until`.
    pub fn run(&mut self, stop: Stop) -> StopReason {
        // The checks by event count (the memory audit, the event bounds,
        // the slice's end, the instant bound) share one comparison per
        // event: the loop looks at them only once the count reaches the
        // nearest of them.
        let mut next_check = self.next_check_events(&stop);
        loop {
            if let Some(reason) = self.halt {
                return reason;
            }
            if self.stats.events >= next_check {
                if let Some(reason) = self.check_by_events(&stop) {
                    return reason;
                }
                next_check = self.next_check_events(&stop);
                debug_assert!(next_check > self.stats.events || self.halt.is_some());
                continue;
            }
            if self.stats.delivered >= stop.delivered_max {
                return StopReason::DeliveredReached;
            }
            if self.outputs.len() >= self.limits.outputs_pending_max {
                return StopReason::OutputsPending;
            }
            match self.queue.peek_time() {
                None => return StopReason::QueueEmpty,
                Some(time) if time > stop.until => {
                    self.now = self.now.max(stop.until);
                    return StopReason::TimeReached;
                }
                Some(_) => {}
            }
            let event = self.queue.pop().expect("peeked");
            node_slot::prefetch_upcoming(&mut self.queue, &self.nodes);
            self.process(event);
        }
    }

    /// The event count at which `run` next looks at the checks by count.
    fn next_check_events(&self, stop: &Stop) -> u64 {
        self.memory
            .next_audit_events
            .min(self.limits.events_max)
            .min(stop.events_until)
            .min(self.instant_check_events)
    }

    /// The checks by event count, once the count reaches one of them: the
    /// memory audit, then the bounds. `Some` ends (or pauses) the run.
    #[cold]
    fn check_by_events(&mut self, stop: &Stop) -> Option<StopReason> {
        let events = self.stats.events;
        if events >= self.memory.next_audit_events {
            self.audit_memory();
            debug_assert!(self.memory.next_audit_events > events);
        }
        if events >= self.limits.events_max {
            return Some(StopReason::EventLimit);
        }
        if events >= stop.events_until {
            return Some(StopReason::EventsReached);
        }
        if events >= self.instant_check_events {
            if self.now == self.instant_time {
                // More than the bound's events since the last look, all at
                // this instant: a loop. It stays stopped.
                self.halt = Some(StopReason::InstantLimit);
                return self.halt;
            }
            self.instant_time = self.now;
            self.instant_check_events =
                events.saturating_add(self.limits.events_per_instant_max.saturating_add(1));
        }
        None
    }

    #[inline]
    fn push(&mut self, time: SimTime, kind: EventKind<P>) {
        if let EventKind::Deliver { message, .. } = &kind {
            self.memory.queued_heap_bytes += P::message_heap_bytes(message) as u64;
        }
        let len = self.queue.len();
        if len >= self.limits.queue_len_max {
            self.halt.get_or_insert(StopReason::QueueLimit);
        } else if !self.memory.queue_fits(len + 1) {
            self.halt.get_or_insert(StopReason::MemoryLimit);
        }
        self.queue.push(time, kind);
    }

    /// Counts what only an audit sees (protocol state, trace records,
    /// outputs), schedules the next audit, and halts the run if the estimate
    /// is over budget.
    #[cold]
    fn audit_memory(&mut self) {
        let mut audited = self.trace.memory_bytes()
            + (self.outputs.capacity() * std::mem::size_of::<Emitted<P::Output>>()) as u64
            + (self.held.capacity() * std::mem::size_of::<Held<P::Message>>()) as u64;
        if P::COUNTS_STATE {
            for slot in &self.nodes {
                if let Some(state) = &slot.state {
                    audited += state.state_heap_bytes() as u64;
                }
            }
        }
        if !self
            .memory
            .audited(self.stats.events, audited, self.queue.len())
        {
            self.halt.get_or_insert(StopReason::MemoryLimit);
        }
    }

    /// The largest memory estimate seen so far, in bytes.
    pub fn memory_peak_bytes(&self) -> u64 {
        self.memory.peak_bytes
    }

    /// Tells the engine how much memory its driver holds for this run (the
    /// history, the monitor): it counts against the same budget, and the
    /// run halts with `MemoryLimit` if the total is over.
    pub fn set_external_bytes(&mut self, bytes: u64) {
        self.memory.external_bytes = bytes;
        self.memory.update_room();
        if !self.memory.within_budget(self.queue.len()) {
            self.halt.get_or_insert(StopReason::MemoryLimit);
        }
    }

    /// For a run that stopped with `ProtocolLimit`: the bound, naming the node.
    pub fn limit_detail(&self) -> Option<&str> {
        self.limit_detail.as_deref()
    }

    #[inline]
    fn process(&mut self, event: Event<P>) {
        debug_assert!(event.time >= self.now, "time never goes backwards");
        self.now = event.time;
        self.stats.events += 1;
        match event.kind {
            EventKind::Deliver {
                from,
                to,
                id,
                message,
            } => {
                let heap = P::message_heap_bytes(&message) as u64;
                self.memory.queued_heap_bytes -= heap;
                self.deliver(from, to, id, message)
            }
            EventKind::Fault(fault) => self.apply_fault(*fault),
            EventKind::Synced { node, id } => self.synced(node, id),
            other => self.dispatch_to_node(Event {
                time: event.time,
                seq: event.seq,
                kind: other,
            }),
        }
    }

    /// Delivery rule: partitions and clogs are checked now, at delivery time.
    #[inline]
    fn deliver(&mut self, from: NodeId, to: NodeId, id: MessageId, message: P::Message) {
        if self.network.partitions.blocks(from, to) {
            self.drop_message(from, to, id, DropReason::Partition, &message);
            return;
        }
        if self.network.is_clogged(from, to) {
            self.hold(from, to, id, message);
            return;
        }
        let kind = EventKind::Deliver {
            from,
            to,
            id,
            message,
        };
        self.dispatch_to_node(Event {
            time: self.now,
            seq: 0,
            kind,
        });
    }

    /// Hands an input to its node, or drops or defers it by the node's status.
    #[inline]
    fn dispatch_to_node(&mut self, event: Event<P>) {
        let node = match &event.kind {
            EventKind::Deliver { to, .. } => *to,
            EventKind::Timer { node, .. }
            | EventKind::Request { node, .. }
            | EventKind::Synced { node, .. }
            | EventKind::Start(node) => *node,
            EventKind::Fault(_) => unreachable!("faults are applied by the engine"),
        };
        match self.nodes[node.index()].status {
            NodeStatus::Up => {}
            NodeStatus::Paused if !matches!(event.kind, EventKind::Start(_)) => {
                return self.defer(node, event)
            }
            _ if matches!(event.kind, EventKind::Start(_)) => {}
            _ => return self.discard(event),
        }
        match event.kind {
            EventKind::Deliver {
                from,
                to,
                id,
                message,
            } => {
                self.stats.delivered += 1;
                self.nodes[to.index()].delivered += 1;
                self.trace.event(
                    self.now,
                    TraceKind::Deliver,
                    Some(to),
                    Some(from),
                    Some(id),
                    0,
                    || format!("{message:?}"),
                );
                self.invoke(to, |state, ctx| state.on_message(ctx, from, message));
            }
            EventKind::Timer { node, id, timer } => {
                if !self.cold[node.index()].timers.take(id) {
                    return; // Cancelled: not an event the node sees.
                }
                self.stats.timers_fired += 1;
                self.cold[node.index()].timers_fired += 1;
                self.trace.event(
                    self.now,
                    TraceKind::Timer,
                    Some(node),
                    None,
                    None,
                    id.0,
                    || format!("{timer:?}"),
                );
                self.invoke(node, |state, ctx| state.on_timer(ctx, id, timer));
            }
            EventKind::Request { node, request } => {
                self.stats.requests += 1;
                let content = stable_hash(&request);
                self.trace.event(
                    self.now,
                    TraceKind::Request,
                    Some(node),
                    None,
                    None,
                    content,
                    || format!("{request:?}"),
                );
                self.invoke(node, |state, ctx| state.on_request(ctx, request));
            }
            EventKind::Synced { node, id } => {
                self.invoke(node, |state, ctx| state.on_synced(ctx, id));
            }
            EventKind::Start(node) => {
                let slot = &mut self.nodes[node.index()];
                if slot.state.is_some() {
                    return;
                }
                slot.state = Some((self.factory)(node));
                slot.status = NodeStatus::Up;
                self.trace.event(
                    self.now,
                    TraceKind::Start,
                    Some(node),
                    None,
                    None,
                    0,
                    String::new,
                );
                self.invoke(node, |state, ctx| state.on_start(ctx));
            }
            EventKind::Fault(_) => unreachable!(),
        }
    }

    /// Runs one handler of `node` and then carries out its commands.
    #[inline]
    fn invoke(&mut self, node: NodeId, handler: impl FnOnce(&mut P, &mut Context<'_, P>)) {
        let node_count = self.nodes.len() as u32;
        let slot = &mut self.nodes[node.index()];
        let cold = &mut self.cold[node.index()];
        let state = slot.state.as_mut().expect("an up node has state");
        let mut ctx = Context {
            node,
            node_count,
            local_now: slot.clock.read(self.now),
            rng: NodeStream::new(&mut slot.rng.0, &mut slot.rng_words_drawn),
            storage: &mut cold.storage,
            storage_touched: false,
            timers: &mut cold.timers,
            commands: &mut self.commands,
        };
        handler(state, &mut ctx);
        let storage_touched = ctx.storage_touched;
        debug_assert!(
            node_stream::agrees(&slot.rng.0, slot.rng_words_drawn),
            "the word count follows the node's stream"
        );
        if storage_touched {
            self.storage_used(node);
        }
        self.apply_commands(node);
    }

    /// After a handler that used its storage: counts the storage's memory
    /// and ends the run if the node passed a bound kept on it.
    #[cold]
    fn storage_used(&mut self, node: NodeId) {
        if self.cold[node.index()].storage.has_asked() {
            self.schedule_syncs(node);
        }
        let cold = &mut self.cold[node.index()];
        let storage = &mut cold.storage;
        let now = storage.memory_bytes() + cold.disk.latencies.heap_bytes();
        self.memory.storage(storage.accounted_bytes, now);
        storage.accounted_bytes = now;
        if let Some(limit) = storage.take_limit() {
            let name = &self.topology.node_names()[node.index()];
            self.limit_detail
                .get_or_insert(format!("node {name}: {limit}"));
            self.halt.get_or_insert(StopReason::ProtocolLimit);
        }
    }

    /// Schedules the completion of each sync the handler asked for.
    fn schedule_syncs(&mut self, node: NodeId) {
        let cold = &mut self.cold[node.index()];
        let asked: Vec<(SyncId, u64)> = cold.storage.take_asked().collect();
        for (id, bytes) in asked {
            let done = self.cold[node.index()]
                .disk
                .schedule(self.now, bytes, &mut self.disk_rng);
            self.trace.event(
                self.now,
                TraceKind::Sync,
                Some(node),
                None,
                None,
                id.0,
                || format!("sync {} ({bytes} bytes, done at {done})", id.0),
            );
            self.push(done, EventKind::Synced { node, id });
        }
    }

    /// A sync's completion is due: after any stall, its writes become
    /// durable (even on a paused node: the disk goes on), and the node
    /// hears of it (a paused one when it resumes). A sync lost in a crash
    /// is not an event.
    fn synced(&mut self, node: NodeId, id: SyncId) {
        let cold = &mut self.cold[node.index()];
        if self.now < cold.disk.stall_until {
            let until = cold.disk.stall_until;
            return self.push(until, EventKind::Synced { node, id });
        }
        let Some(id) = cold.storage.complete(id) else {
            return; // Lost in a crash.
        };
        cold.disk.completed(self.now);
        if cold.storage.has_asked() {
            // A grouped sync that waited for this one (`sync_grouped`).
            self.schedule_syncs(node);
        }
        self.stats.syncs += 1;
        self.trace.event(
            self.now,
            TraceKind::Synced,
            Some(node),
            None,
            None,
            id.0,
            || format!("synced {}", id.0),
        );
        self.dispatch_to_node(Event {
            time: self.now,
            seq: 0,
            kind: EventKind::Synced { node, id },
        });
    }

    #[inline]
    fn apply_commands(&mut self, node: NodeId) {
        if self.commands.is_empty() {
            return;
        }
        let mut commands = std::mem::take(&mut self.commands);
        for command in commands.drain(..) {
            match command {
                Command::Send { to, message } => self.send(node, to, message),
                Command::SetTimer { id, after, timer } => {
                    let mut delay = self.nodes[node.index()].clock.true_delay(self.now, after);
                    if self.timer_lateness_on {
                        if let Some(lateness) = &mut self.cold[node.index()].lateness {
                            let (latency, stream) = &mut **lateness;
                            delay = delay.saturating_add(latency.sample(stream));
                        }
                    }
                    self.push(
                        self.now.saturating_add(delay),
                        EventKind::Timer { node, id, timer },
                    );
                }
                Command::Output(output) => self.outputs.push(Emitted {
                    time: self.now,
                    node,
                    output,
                }),
            }
        }
        debug_assert!(self.commands.is_empty(), "handlers run one at a time");
        self.commands = commands;
    }

    #[inline]
    fn send(&mut self, from: NodeId, to: NodeId, message: P::Message) {
        let id = MessageId(self.next_message_id);
        self.next_message_id += 1;
        self.stats.sent += 1;
        self.nodes[from.index()].sent += 1;
        let content = stable_hash(&message);
        self.trace.event(
            self.now,
            TraceKind::Send,
            Some(from),
            Some(to),
            Some(id),
            content,
            || format!("{message:?}"),
        );
        let link = self.topology.link(from, to);
        let kind = P::message_kind(&message);
        let plan = self.network.plan(link, kind, from, to, self.now);
        let Some(first_at) = plan.first else {
            self.drop_message(from, to, id, DropReason::Loss, &message);
            return;
        };
        if let Some(second_at) = plan.duplicate {
            self.stats.duplicated += 1;
            self.push(
                second_at,
                EventKind::Deliver {
                    from,
                    to,
                    id,
                    message: message.clone(),
                },
            );
        }
        self.push(
            first_at,
            EventKind::Deliver {
                from,
                to,
                id,
                message,
            },
        );
    }

    fn drop_message(
        &mut self,
        from: NodeId,
        to: NodeId,
        id: MessageId,
        reason: DropReason,
        message: &P::Message,
    ) {
        self.stats.dropped.add(reason);
        self.cold[to.index()].dropped += 1;
        self.trace.event(
            self.now,
            TraceKind::Drop(reason),
            Some(to),
            Some(from),
            Some(id),
            0,
            || format!("{message:?}"),
        );
    }

    fn hold(&mut self, from: NodeId, to: NodeId, id: MessageId, message: P::Message) {
        if self.held.len() >= self.limits.held_messages_max {
            self.drop_message(from, to, id, DropReason::ClogOverflow, &message);
            return;
        }
        self.trace.event(
            self.now,
            TraceKind::Hold,
            Some(to),
            Some(from),
            Some(id),
            0,
            String::new,
        );
        self.memory
            .buffered(P::message_heap_bytes(&message) as u64, 0);
        self.held.push(Held {
            from,
            to,
            id,
            message,
        });
    }

    /// A paused node's input waits, in order, up to a bound.
    fn defer(&mut self, node: NodeId, event: Event<P>) {
        // A completed sync is the node's own news, not an input that can
        // be lost: it waits whatever the bound (syncs in flight are bounded).
        let own = matches!(event.kind, EventKind::Synced { .. });
        if !own && self.cold[node.index()].deferred.len() >= self.limits.deferred_per_node_max {
            return self.discard_with(event, DropReason::PauseOverflow);
        }
        let (peer, id) = match &event.kind {
            EventKind::Deliver { from, id, .. } => (Some(*from), Some(*id)),
            _ => (None, None),
        };
        self.trace.event(
            self.now,
            TraceKind::Defer,
            Some(node),
            peer,
            id,
            0,
            String::new,
        );
        self.memory.buffered(Self::deferred_bytes(&event), 0);
        self.cold[node.index()].deferred.push(event);
    }

    /// What an input waiting on a paused node counts for.
    fn deferred_bytes(event: &Event<P>) -> u64 {
        let heap = match &event.kind {
            EventKind::Deliver { message, .. } => P::message_heap_bytes(message),
            _ => 0,
        };
        (std::mem::size_of::<Event<P>>() + heap) as u64
    }

    /// An input for a crashed node: messages are dropped (traced); timers and
    /// requests vanish with the node.
    fn discard(&mut self, event: Event<P>) {
        self.discard_with(event, DropReason::NodeDown)
    }

    fn discard_with(&mut self, event: Event<P>, reason: DropReason) {
        match event.kind {
            EventKind::Deliver {
                from,
                to,
                id,
                message,
            } => self.drop_message(from, to, id, reason, &message),
            EventKind::Timer { node, id, .. } => {
                self.cold[node.index()].timers.take(id);
            }
            _ => {}
        }
    }

    // ----- faults ------------------------------------------------------------

    fn apply_fault(&mut self, fault: Fault) {
        self.stats.faults += 1;
        let describe = || fault.describe();
        match &fault {
            Fault::Crash {
                node,
                lose_unsynced,
            } => {
                let slot = &mut self.nodes[node.index()];
                if slot.status == NodeStatus::Down {
                    return self.trace_fault(TraceKind::NoOp, Some(*node), 0, describe);
                }
                slot.state = None;
                slot.status = NodeStatus::Down;
                let cold = &mut self.cold[node.index()];
                cold.timers.clear();
                let in_flight = cold.storage.syncs_in_flight();
                let surviving = if *lose_unsynced {
                    crate::disk::surviving(in_flight, &mut self.disk_rng)
                } else {
                    0
                };
                if *lose_unsynced {
                    self.stats.syncs_lost += (in_flight - surviving) as u64;
                }
                cold.storage.crash(*lose_unsynced, surviving);
                cold.disk.crashed(self.now);
                let deferred = std::mem::take(&mut cold.deferred);
                self.memory
                    .buffered(0, deferred.iter().map(Self::deferred_bytes).sum());
                self.trace_fault(
                    TraceKind::Crash,
                    Some(*node),
                    *lose_unsynced as u64,
                    describe,
                );
                for event in deferred {
                    self.discard(event);
                }
            }
            Fault::Restart(node) => {
                let slot = &mut self.nodes[node.index()];
                if slot.status != NodeStatus::Down {
                    return self.trace_fault(TraceKind::NoOp, Some(*node), 1, describe);
                }
                slot.state = Some((self.factory)(*node));
                slot.status = NodeStatus::Up;
                self.trace_fault(TraceKind::Restart, Some(*node), 0, describe);
                self.invoke(*node, |state, ctx| state.on_recover(ctx));
            }
            Fault::Pause { node, duration } => {
                let slot = &mut self.nodes[node.index()];
                if slot.status != NodeStatus::Up {
                    return self.trace_fault(TraceKind::NoOp, Some(*node), 2, describe);
                }
                slot.status = NodeStatus::Paused;
                self.trace_fault(TraceKind::Pause, Some(*node), 0, describe);
                if let Some(duration) = duration {
                    let at = self.now.saturating_add(*duration);
                    self.push(at, EventKind::Fault(Box::new(Fault::Resume(*node))));
                }
            }
            Fault::Resume(node) => self.resume(*node, describe),
            Fault::Partition(partition) => {
                self.network
                    .partitions
                    .add(partition, self.nodes.len())
                    .unwrap_or_else(|e| panic!("a validated partition was rejected: {e}"));
                self.trace_fault(TraceKind::Partition, None, stable_hash(partition), describe);
            }
            Fault::Heal => {
                self.network.partitions.heal();
                self.trace
                    .event(self.now, TraceKind::Heal, None, None, None, 0, describe);
            }
            Fault::Clog { from, to } => {
                self.network.clog(*from, *to);
                self.trace
                    .event(self.now, TraceKind::Clog, *from, *to, None, 0, describe);
            }
            Fault::Release { from, to } => {
                self.network.release(*from, *to);
                self.trace
                    .event(self.now, TraceKind::Release, *from, *to, None, 0, describe);
                self.redeliver_released();
            }
            Fault::ClockJump { node, delta_ns } => {
                self.nodes[node.index()].clock.jump(*delta_ns);
                self.trace_fault(
                    TraceKind::ClockJump,
                    Some(*node),
                    *delta_ns as u64,
                    describe,
                );
            }
            Fault::DiskSlow {
                node,
                factor,
                duration,
            } => {
                let until = self.now.saturating_add(*duration);
                self.cold[node.index()].disk.slow(*factor, until);
                self.trace_fault(TraceKind::DiskSlow, Some(*node), factor.to_bits(), describe);
            }
            Fault::DiskStall { node, duration } => {
                let until = self.now.saturating_add(*duration);
                self.cold[node.index()].disk.stall(until);
                self.trace_fault(
                    TraceKind::DiskStall,
                    Some(*node),
                    duration.as_nanos(),
                    describe,
                );
            }
            Fault::SetLoss(loss) => {
                self.network.loss_override = *loss;
                self.trace.event(
                    self.now,
                    TraceKind::SetLoss,
                    None,
                    None,
                    None,
                    loss.map_or(u64::MAX, f64::to_bits),
                    describe,
                );
            }
        }
    }

    /// Traces a fault (or a fault that found nothing to do).
    fn trace_fault(
        &mut self,
        kind: TraceKind,
        node: Option<NodeId>,
        aux: u64,
        describe: impl FnOnce() -> String,
    ) {
        self.trace
            .event(self.now, kind, node, None, None, aux, describe);
    }

    /// Resumes a paused node and hands it everything that waited, in order.
    /// Waiting messages already passed the partition check when they arrived.
    fn resume(&mut self, node: NodeId, describe: impl FnOnce() -> String) {
        let slot = &mut self.nodes[node.index()];
        if slot.status != NodeStatus::Paused {
            return self.trace_fault(TraceKind::NoOp, Some(node), 3, describe);
        }
        slot.status = NodeStatus::Up;
        let deferred = std::mem::take(&mut self.cold[node.index()].deferred);
        self.memory
            .buffered(0, deferred.iter().map(Self::deferred_bytes).sum());
        self.trace_fault(
            TraceKind::Resume,
            Some(node),
            deferred.len() as u64,
            describe,
        );
        for event in deferred {
            // A handler cannot pause or crash a node, so the node stays up throughout.
            debug_assert_eq!(self.nodes[node.index()].status, NodeStatus::Up);
            self.dispatch_to_node(event);
        }
    }

    /// Delivers, in their original order, held messages that no clog matches any more.
    fn redeliver_released(&mut self) {
        let held = std::mem::take(&mut self.held);
        let mut still_held = Vec::new();
        let mut released = Vec::new();
        for message in held {
            if self.network.is_clogged(message.from, message.to) {
                still_held.push(message);
            } else {
                released.push(message);
            }
        }
        self.held = still_held;
        let released_bytes = released
            .iter()
            .map(|h| P::message_heap_bytes(&h.message) as u64)
            .sum();
        self.memory.buffered(0, released_bytes);
        // Each released message is its own event, due now, rather than all
        // handled inside this one: a clog can hold thousands, and the
        // memory budget is checked between events, so handling them all at
        // once let one event run far past it.
        for Held {
            from,
            to,
            id,
            message,
        } in released
        {
            self.push(
                self.now,
                EventKind::Deliver {
                    from,
                    to,
                    id,
                    message,
                },
            );
        }
    }

    /// The timer ids a node has set and not yet seen fire (for tests).
    pub fn active_timers(&self, node: NodeId) -> usize {
        self.cold[node.index()].timers.active_count()
    }

    /// Whether every node's word count agrees with its stream (for tests:
    /// release builds skip the per-handler check).
    #[cfg(test)]
    pub(crate) fn stream_counts_agree(&self) -> bool {
        self.nodes
            .iter()
            .all(|slot| node_stream::agrees(&slot.rng.0, slot.rng_words_drawn))
    }
}

impl<P: Protocol> Simulation<P> {
    /// Turns event recording on or off (the hash is always on). Call before `run`.
    pub fn record_trace(&mut self, detail: bool, records_max: usize) {
        let config = TraceConfig {
            record: true,
            detail,
            records_max,
            ..TraceConfig::default()
        };
        assert_eq!(
            self.stats.events, 0,
            "recording must be chosen before the run starts"
        );
        self.trace = Trace::new(config);
    }
}
