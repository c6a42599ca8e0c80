//! Helpers for testing protocols and the engine: proptest strategies for
//! clusters, links and fault schedules, and `Chatter`, a protocol that
//! exercises every engine feature (messages, timers, storage, recovery).
//!
//! CI users generate fault schedules for their own protocols with
//! `strategies::fault_schedule`.

pub mod chatter;
pub mod strategies;

pub use chatter::Chatter;
