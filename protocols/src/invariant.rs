//! Invariant monitors: protocol properties checked as the run goes, from the
//! events servers emit, rather than only at the end.

use serde::Serialize;
use sim_core::{NodeId, SimTime};

/// One broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub invariant: &'static str,
    pub time: SimTime,
    pub node: Option<NodeId>,
    pub message: String,
}

/// A monitor watches one protocol's events, in true-time order.
pub trait Monitor<E>: Default {
    /// The invariant names this monitor checks.
    const INVARIANTS: &'static [&'static str];
    /// Sees one event; returns a violation if it broke an invariant.
    fn observe(&mut self, time: SimTime, node: NodeId, event: &E) -> Option<Violation>;
    /// At the end of the run: what can only be judged then.
    fn finish(&mut self, time: SimTime) -> Vec<Violation> {
        let _ = time;
        Vec::new()
    }
}

/// For protocols with no invariants of their own.
#[derive(Debug, Default)]
pub struct NoInvariants;

impl<E> Monitor<E> for NoInvariants {
    const INVARIANTS: &'static [&'static str] = &[];
    fn observe(&mut self, _time: SimTime, _node: NodeId, _event: &E) -> Option<Violation> {
        None
    }
}
