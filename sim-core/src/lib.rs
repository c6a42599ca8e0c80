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

pub mod bytes;
pub mod checker;
pub mod clock;
pub mod determinism;
pub mod duration;
pub mod engine;
mod event;
pub mod fault;
pub mod hash;
pub mod history;
pub mod ids;
pub mod latency;
pub mod link;
pub mod memory;
mod network;
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

pub use clock::ClockConfig;
pub use duration::{Dur, SignedDur};
pub use engine::{Emitted, Limits, NodeStatus, SimConfig, Simulation, Stop, StopReason};
pub use fault::Fault;
pub use ids::{MessageId, NodeId, TimerId};
pub use latency::Latency;
pub use link::{LinkConfig, LinkOrder};
pub use partition::Partition;
pub use protocol::{Context, Protocol};
pub use stats::Stats;
pub use time::{LocalTime, SimDuration, SimTime};
pub use topology::{Topology, TopologyBuilder};
pub use trace::{DropReason, TraceConfig, TraceKind, TraceRecord};
