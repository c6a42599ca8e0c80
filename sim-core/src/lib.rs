//! faultline's deterministic discrete-event engine.
//!
//! A `Simulation` runs one protocol (a sans-IO state machine implementing
//! `Protocol`) on a simulated cluster: a `Topology` of nodes and links, node
//! clocks, durable storage, and scheduled `Fault`s. Everything random draws
//! from named ChaCha streams derived from one root seed, and events are
//! ordered by (time, sequence), so a seed reproduces a run to the byte; the
//! trace hash proves it.
//!
//! See ARCHITECTURE.md at the repository root for the invariants this crate keeps.
//!
//! # Code map
//!
//! `engine.rs` owns true time, the event queue, the
//! nodes and the network, and is the only code that knows true time. `event.rs` is
//! the queue: a binary heap while small and a radix heap when large (keys are
//! monotone in a discrete-event simulation, so the radix heap's pop cost does not
//! grow with the number of pending events). The radix heap buckets by time
//! alone and moves 16-byte entries (time, slab slot, node hint) while the
//! events, with their sequence numbers, stay put in a slab; equal times share a
//! bucket and are put in sequence order when it becomes the front. Small buckets
//! are sorted into the front whole, so the queue knows the next events in
//! order. A node's slot holds its ChaCha stream (five lines) followed by the hot
//! part (status, counters, clock, small protocol state). The engine prefetches in
//! two stages from the front: the hot part eight events ahead, then the two lines
//! of the stream that the next draw reads four events ahead. It knows those lines
//! because handlers draw through `NodeStream` (`node_stream.rs`), which counts
//! the words drawn. `prefetch.rs` asks for huge pages for the node array.
//! Prefetches and page hints are only hints, so they cannot change a run.
//! `protocol.rs` defines the sans-IO
//! `Protocol` trait and the `Context` handlers act through. `network.rs`,
//! `link.rs`, `latency.rs`, `topology.rs` and `partition.rs` model links (latency
//! distributions, loss, duplication, FIFO), regions (a petgraph graph of regions
//! with link defaults on its edges) and partitions. `clock.rs` models node clocks,
//! `storage.rs` durable storage with explicit sync, `memory.rs` the run's
//! memory budget and what counts against it, `fault.rs` the fault actions,
//! `trace.rs` the trace hash and records, `stats.rs` the counters, `rng.rs` the
//! named random streams, `hash.rs` our stable hash, `time.rs` virtual time and
//! duration parsing, `determinism.rs` the run-twice self-check. `testkit/` holds
//! proptest strategies (links, clocks, fault schedules) and a test protocol,
//! public so that users can property-test their own protocols.
//!
//! `history/` is the client-history model (Jepsen outcomes ok/fail/info, JSON
//! lines) and its importers (`import.rs`: Jepsen/Knossos EDN through a small
//! bounded EDN reader, Porcupine's etcd logs and kv files). `checker/` holds
//! the consistency checkers over histories: a `Model` trait (the key-value
//! register model with read/write/cas/append is built in; users can plug in
//! their own), `linearizability.rs` (Wing & Gong with Lowe's memo, per key in
//! parallel rounds of growing budgets, or as one object; before searching it
//! leaves out what the model calls `removable`, for the register model the
//! unknown writes whose value no completed read and no cas ever observed, which
//! is where a cut-off leader's timed-out writes would otherwise double the
//! search each), `memo.rs` (the
//! search memo, with dominance for unknown operations), `sequential.rs`
//! (sequential consistency), `session.rs` (the four session guarantees),
//! `convergence.rs` (replicas' final data agree), `staleness.rs` (how far reads
//! lag behind completed writes) and `explain.rs` (counterexamples as text). Checkers run under a `Budget` of
//! steps and memo entries and answer `Unknown` when it runs out; a wall-clock
//! deadline comes in only as a `cancel` callback from the CLI, so checker code
//! stays free of wall clocks.

pub mod bytes;
pub mod checker;
pub mod clock;
pub mod determinism;
pub mod disk;
pub mod duration;
pub mod engine;
pub mod error;
mod event;
pub mod fault;
pub mod hash;
pub mod histogram;
pub mod history;
pub mod ids;
pub mod latency;
pub mod link;
pub mod memory;
mod network;
mod node_slot;
pub mod node_stream;
pub mod partition;
mod prefetch;
pub mod protocol;
mod radix_heap;
pub mod rng;
pub mod stats;
pub mod storage;
pub mod testkit;
pub mod time;
pub mod topology;
pub mod trace;
pub mod txn;
pub mod workload;

pub use clock::ClockConfig;
pub use disk::DiskConfig;
pub use duration::{Dur, SignedDur};
pub use engine::{Emitted, Limits, NodeStatus, SimConfig, Simulation, Stop, StopReason};
pub use fault::Fault;
pub use ids::{MessageId, NodeId, SyncId, TimerId};
pub use latency::Latency;
pub use link::{LinkConfig, LinkOrder};
pub use partition::Partition;
pub use protocol::{Context, Protocol};
pub use stats::Stats;
pub use time::{LocalTime, SimDuration, SimTime};
pub use topology::{Topology, TopologyBuilder};
pub use trace::{DropReason, TraceConfig, TraceKind, TraceRecord};
