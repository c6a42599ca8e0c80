//! Versions of a key and how replicas order them.
//!
//! Every write is named by a `Dot`: its coordinator and that server's
//! write counter, unique in the run (the counter is reserved on disk in
//! blocks before use, so a restart never reuses one). What orders two
//! versions depends on `Versioning`:
//!
//! - Last-writer-wins: the stamp (the coordinator's clock in units of
//!   `lww_resolution`), then the dot. A replica keeps one version.
//! - Dotted version vectors: a version carries the causal context its
//!   client sent (per server, the highest counter it had seen); it
//!   replaces exactly the versions whose dots that context covers. A
//!   replica keeps every version no other covers: the siblings.
//!
//! The merge a client's next write performs: a read returns the siblings
//! and their joined context (each sibling's context plus its own dot, the
//! greatest per server); the client sends that context back with its next
//! write of the key, whose version therefore covers, and replaces, every
//! sibling the read returned, and none it did not.

use super::params::Versioning;
use crate::kv::CausalContext;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A write's name: (coordinator, its write counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dot {
    pub node: u32,
    pub counter: u64,
}

/// One version of a key's value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Version {
    pub dot: Dot,
    /// Last-writer-wins: the coordinator's clock in units of the resolution.
    pub stamp: u64,
    /// Version vectors: per server, the highest counter the writer had
    /// seen (empty for last-writer-wins).
    pub context: Arc<[u64]>,
    pub value: String,
}

impl Version {
    /// Whether this version has seen `other` (and so replaces it).
    pub fn covers(&self, other: &Version) -> bool {
        self.context
            .get(other.dot.node as usize)
            .is_some_and(|seen| *seen >= other.dot.counter)
    }

    pub fn heap_bytes(&self) -> usize {
        self.value.capacity() + self.context.len() * 8
    }
}

/// How a replica takes versions in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    pub versioning: Versioning,
    /// BUG SWITCH `lww_ignore_ties`.
    pub ignore_ties: bool,
}

impl Rules {
    /// Whether last-writer-wins puts `incoming` after `held`.
    fn lww_newer(&self, incoming: &Version, held: &Version) -> bool {
        if self.ignore_ties {
            // The bug: on equal stamps, whichever arrives last wins.
            incoming.stamp >= held.stamp && incoming.dot != held.dot
        } else {
            (incoming.stamp, incoming.dot) > (held.stamp, held.dot)
        }
    }

    /// Takes `incoming` into a key's versions; true if they changed.
    /// Keeps them sorted by dot, so equal sets are equal vectors.
    pub fn merge(&self, held: &mut Vec<Version>, incoming: &Version) -> bool {
        match self.versioning {
            Versioning::LastWriterWins => {
                debug_assert!(held.len() <= 1, "last-writer-wins keeps one version");
                match held.first() {
                    Some(current) if !self.lww_newer(incoming, current) => false,
                    _ => {
                        *held = vec![incoming.clone()];
                        true
                    }
                }
            }
            Versioning::VersionVectors => {
                if held
                    .iter()
                    .any(|v| v.dot == incoming.dot || v.covers(incoming))
                {
                    return false;
                }
                held.retain(|v| !incoming.covers(v));
                let at = held.partition_point(|v| v.dot < incoming.dot);
                held.insert(at, incoming.clone());
                true
            }
        }
    }

    /// Takes every version of `incoming` in; true if `held` changed.
    pub fn merge_all(&self, held: &mut Vec<Version>, incoming: &[Version]) -> bool {
        let mut changed = false;
        for version in incoming {
            changed |= self.merge(held, version);
        }
        changed
    }
}

/// What a read of these versions returns: the value, or the siblings'
/// values in dot order joined by '|' (a value nobody wrote, so the
/// register checkers see a read of siblings for what it is); "" when none.
pub fn read_value(versions: &[Version]) -> String {
    let values: Vec<&str> = versions.iter().map(|v| v.value.as_str()).collect();
    values.join("|")
}

/// The context a client gets back with these versions: per server the
/// greatest counter any of them has seen or is (version vectors only).
pub fn joined_context(versions: &[Version], servers: u32) -> CausalContext {
    let mut counters = vec![0u64; servers as usize];
    for v in versions {
        for (c, seen) in counters.iter_mut().zip(v.context.iter()) {
            *c = (*c).max(*seen);
        }
        let own = &mut counters[v.dot.node as usize];
        *own = (*own).max(v.dot.counter);
    }
    CausalContext(Some(counters.into()))
}

/// The dots of these versions, in order.
pub fn dots(versions: &[Version]) -> Vec<Dot> {
    versions.iter().map(|v| v.dot).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(node: u32, counter: u64, stamp: u64, context: &[u64]) -> Version {
        Version {
            dot: Dot { node, counter },
            stamp,
            context: context.into(),
            value: format!("{node}.{counter}"),
        }
    }

    const LWW: Rules = Rules {
        versioning: Versioning::LastWriterWins,
        ignore_ties: false,
    };
    const VV: Rules = Rules {
        versioning: Versioning::VersionVectors,
        ignore_ties: false,
    };

    #[test]
    fn last_writer_wins_breaks_ties_by_dot_whatever_the_arrival_order() {
        let (a, b) = (v(0, 1, 10, &[]), v(1, 1, 10, &[]));
        let mut one = Vec::new();
        LWW.merge(&mut one, &a);
        LWW.merge(&mut one, &b);
        let mut other = Vec::new();
        LWW.merge(&mut other, &b);
        assert!(!LWW.merge(&mut other, &a));
        assert_eq!(one, other);
        assert_eq!(one, vec![b.clone()]);
        // The bug: ties go to the last arrival, so the replicas differ.
        let buggy = Rules {
            ignore_ties: true,
            ..LWW
        };
        let (mut x, mut y) = (Vec::new(), Vec::new());
        buggy.merge_all(&mut x, &[a.clone(), b.clone()]);
        buggy.merge_all(&mut y, &[b, a]);
        assert_ne!(x, y);
    }

    #[test]
    fn version_vectors_keep_concurrent_writes_and_a_write_with_their_context_replaces_them() {
        let (a, b) = (v(0, 1, 0, &[0, 0]), v(1, 1, 0, &[0, 0]));
        let mut held = Vec::new();
        assert!(VV.merge(&mut held, &b));
        assert!(VV.merge(&mut held, &a));
        assert_eq!(held, vec![a.clone(), b.clone()], "siblings, in dot order");
        assert_eq!(read_value(&held), "0.1|1.1");
        let context = joined_context(&held, 2);
        assert_eq!(context.counters(), &[1, 1]);
        let c = v(0, 2, 0, context.counters());
        assert!(VV.merge(&mut held, &c));
        assert_eq!(held, vec![c.clone()]);
        // Old versions arriving late change nothing.
        assert!(!VV.merge(&mut held, &a));
        assert!(!VV.merge(&mut held, &c));
        // A write whose client saw only a stays beside c.
        let d = v(1, 2, 0, &[1, 0]);
        assert!(VV.merge(&mut held, &d));
        assert_eq!(held.len(), 2);
    }
}
