//! Causal delivery at a region: a remote write is applied only once the
//! region has applied every write it depends on (what its origin had
//! applied when it took it), and each write once. A write that arrives
//! early waits, bounded; one already applied is dropped.
//!
//! Without it (`causal_delivery: false`) a region applies a write as it
//! arrives, and an update can land before the insert it modifies; with
//! the `apply_without_dependencies` bug switch a region that claims
//! causal delivery does the same.

use super::topology::REGIONS_MAX;
use crate::crdt::{Dot, VersionVector};
use std::collections::{BTreeMap, BTreeSet};

/// Writes waiting for their dependencies at one region, at most: past it
/// an arrival is refused (the sender resends later), so a region cut off
/// from one origin cannot grow without bound.
pub const WAITING_MAX: usize = 10_000;

/// A write as replication carries it: its name and what it depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dependent<P> {
    pub dot: Dot,
    /// Per region, how many of its writes the origin had applied when it
    /// took this one.
    pub deps: VersionVector,
    pub payload: P,
}

/// What an arrival did.
#[derive(Debug, PartialEq, Eq)]
pub enum Arrival<P> {
    /// These writes are now applied, in this order (the arrival first if
    /// it was ready, then those it unblocked).
    Apply(Vec<Dependent<P>>),
    /// It waits for a write it depends on.
    Waiting,
    /// Applied before: a duplicate.
    Duplicate,
    /// The waiting room is full; nothing changed.
    Refused,
}

/// One region's delivery state.
#[derive(Debug)]
pub struct CausalDelivery<P> {
    /// Per region, how many of its writes (a prefix of its order) are
    /// applied here.
    applied: VersionVector,
    /// Writes applied beyond that prefix (only without causal delivery,
    /// which applies out of order).
    beyond: BTreeSet<Dot>,
    waiting: BTreeMap<Dot, Dependent<P>>,
    /// Apply on arrival, dependencies or not (`causal_delivery: false`,
    /// or the `apply_without_dependencies` bug switch).
    on_arrival: bool,
}

impl<P> CausalDelivery<P> {
    pub fn new(on_arrival: bool) -> Self {
        CausalDelivery {
            applied: VersionVector::default(),
            beyond: BTreeSet::new(),
            waiting: BTreeMap::new(),
            on_arrival,
        }
    }

    /// Per region, the prefix of its writes applied here.
    pub fn applied(&self) -> &VersionVector {
        &self.applied
    }

    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Whether the write `dot` is applied here.
    pub fn has(&self, dot: Dot) -> bool {
        self.applied.covers(dot) || self.beyond.contains(&dot)
    }

    /// Whether every write `deps` names is applied here, but those of
    /// `origin` (whose own order the write's dot continues).
    pub fn has_all(&self, deps: &VersionVector, origin: u32) -> bool {
        deps.entries()
            .filter(|(region, _)| *region != origin)
            .all(|(region, counter)| {
                let prefix = self.applied.get(region);
                prefix >= counter
                    || (prefix + 1..=counter).all(|c| {
                        self.beyond.contains(&Dot {
                            node: region,
                            counter: c,
                        })
                    })
            })
    }

    /// What survives a crash: the writes applied (the prefix and those
    /// beyond it); the waiting room is lost, and its writes come again.
    pub fn durable(&self) -> (VersionVector, Vec<Dot>) {
        (self.applied.clone(), self.beyond.iter().copied().collect())
    }

    /// A region's delivery state back from `durable`.
    pub fn restore(applied: VersionVector, beyond: Vec<Dot>, on_arrival: bool) -> Self {
        CausalDelivery {
            applied,
            beyond: beyond.into_iter().collect(),
            waiting: BTreeMap::new(),
            on_arrival,
        }
    }

    /// This region took a write of its own: it is applied at once, and
    /// its dot is the next of `region`. Its dependencies are everything
    /// applied here before it.
    pub fn local(&mut self, region: u32, payload: P) -> Dependent<P> {
        let deps = self.applied.clone();
        let dot = self.applied.next(region);
        self.absorb(region);
        Dependent { dot, deps, payload }
    }

    fn ready(&self, write: &Dependent<P>) -> bool {
        let own = write.dot.node;
        let in_order = self.applied.get(own) + 1 == write.dot.counter;
        let deps_met = write
            .deps
            .entries()
            .all(|(region, counter)| region == own || self.applied.get(region) >= counter);
        in_order && deps_met
    }

    /// A write arrives from another region.
    pub fn arrive(&mut self, write: Dependent<P>) -> Arrival<P> {
        assert!(
            write.dot.node < REGIONS_MAX,
            "a write of region {}",
            write.dot.node
        );
        if self.has(write.dot) {
            return Arrival::Duplicate;
        }
        if self.on_arrival {
            self.mark(write.dot);
            return Arrival::Apply(vec![write]);
        }
        if !self.ready(&write) {
            if self.waiting.contains_key(&write.dot) {
                return Arrival::Waiting;
            }
            if self.waiting.len() >= WAITING_MAX {
                return Arrival::Refused;
            }
            self.waiting.insert(write.dot, write);
            return Arrival::Waiting;
        }
        let mut applied = vec![write];
        self.mark(applied[0].dot);
        // Whatever it unblocked, and what that unblocked, in dot order.
        // Only the next write of each region can be ready: look those up
        // rather than scan the waiting room.
        loop {
            let next = (0..REGIONS_MAX)
                .map(|region| Dot {
                    node: region,
                    counter: self.applied.get(region) + 1,
                })
                .find(|dot| self.waiting.get(dot).is_some_and(|w| self.ready(w)));
            let Some(dot) = next else { break };
            let write = self.waiting.remove(&dot).expect("found above");
            self.mark(dot);
            applied.push(write);
        }
        debug_assert!(self.waiting.values().all(|w| !self.ready(w)));
        Arrival::Apply(applied)
    }

    /// Notes `dot` applied: the prefix grows if it is next, else it is
    /// remembered beyond it.
    fn mark(&mut self, dot: Dot) {
        if self.applied.get(dot.node) + 1 == dot.counter {
            self.applied.raise(dot.node, dot.counter);
            self.absorb(dot.node);
        } else {
            self.beyond.insert(dot);
        }
        debug_assert!(self.has(dot));
    }

    /// Moves the writes beyond `region`'s prefix that now continue it.
    fn absorb(&mut self, region: u32) {
        loop {
            let next = Dot {
                node: region,
                counter: self.applied.get(region) + 1,
            };
            if !self.beyond.remove(&next) {
                return;
            }
            self.applied.raise(region, next.counter);
        }
    }
}
