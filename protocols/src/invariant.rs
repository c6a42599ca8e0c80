//! Invariant monitors: protocol properties checked as the run goes, from the
//! events servers emit, rather than only at the end. A monitor may also
//! measure protocol metrics from the same events (it alone sees them in
//! true-time order).

use serde::Serialize;
use sim_core::{NodeId, SimTime};

/// Violations a monitor reports at the end of a run at most.
pub const VIOLATIONS_AT_FINISH_MAX: usize = 100;

/// One broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub invariant: &'static str,
    pub time: SimTime,
    pub node: Option<NodeId>,
    pub message: String,
}

/// Metrics a monitor measured: named samples (summarised into percentiles)
/// and named counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProtocolMetrics {
    pub samples: Vec<(&'static str, Vec<f64>)>,
    pub counts: Vec<(&'static str, u64)>,
}

/// A monitor watches one protocol's events, in true-time order.
pub trait Monitor<E>: Sized {
    /// The invariant names this monitor checks.
    const INVARIANTS: &'static [&'static str];
    /// A monitor for a cluster of `servers` servers (ids `0..servers`).
    fn new(servers: u32) -> Self;
    /// Sees one event; returns a violation if it broke an invariant.
    fn observe(&mut self, time: SimTime, node: NodeId, event: &E) -> Option<Violation>;
    /// The engine crashed server `node` at `time` (told in time order with events).
    fn node_crashed(&mut self, time: SimTime, node: NodeId) {
        let _ = (time, node);
    }
    /// At the end of the run: what can only be judged then.
    fn finish(&mut self, time: SimTime) -> Vec<Violation> {
        let _ = time;
        Vec::new()
    }
    /// What the monitor measured.
    fn metrics(&self) -> ProtocolMetrics {
        ProtocolMetrics::default()
    }
    /// Heap memory the monitor holds, for the run's memory budget (an
    /// estimate from lengths; the runner asks each time it drains outputs).
    fn heap_bytes(&self) -> usize {
        0
    }
}

/// For protocols with no invariants of their own.
#[derive(Debug, Default)]
pub struct NoInvariants;

impl<E> Monitor<E> for NoInvariants {
    const INVARIANTS: &'static [&'static str] = &[];
    fn new(_servers: u32) -> Self {
        NoInvariants
    }
    fn observe(&mut self, _time: SimTime, _node: NodeId, _event: &E) -> Option<Violation> {
        None
    }
}
