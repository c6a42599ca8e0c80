//! Helpers for testing protocols and the engine: proptest strategies for
//! clusters, links and fault schedules, `Chatter`, a protocol that
//! exercises every engine feature (messages, timers, storage, recovery),
//! and `NodeHarness`, one node outside the engine for handler tests.
//!
//! CI users generate fault schedules for their own protocols with
//! `strategies::fault_schedule`.

pub mod chatter;
pub mod handler;
pub mod strategies;

pub use chatter::Chatter;
pub use handler::{Handled, NodeHarness};
