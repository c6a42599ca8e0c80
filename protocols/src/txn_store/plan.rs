//! A coordinator's view of one transaction: which shard each micro-op
//! goes to, the reads merged back into the client's order, and the votes
//! that decide it.
//!
//! Keys are `k<i>` (the workload's). `Sharding::Hash` places a key by a
//! stable hash of its name, so neighbouring keys spread; `Sharding::Range`
//! by `i` over equal ranges of the key space, so neighbouring keys share a
//! shard and a transaction over a range touches few. A transaction that
//! touches one shard commits there alone (one round, no two-phase commit);
//! one that touches several needs every shard's yes.

use super::shard::Mop;
use crate::kv::TxnMop;
use std::collections::BTreeMap;

/// How keys are placed on shards.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub enum Sharding {
    Hash,
    /// Equal ranges of the key indexes `0..keys`.
    Range {
        keys: u32,
    },
}

impl Sharding {
    /// The shard of key `k<index>` among `shards`.
    pub fn shard_of(&self, index: u32, shards: u32) -> u32 {
        assert!(shards > 0, "at least one shard");
        let shard = match *self {
            Sharding::Hash => {
                (sim_core::hash::stable_hash(&format!("k{index}")) % u64::from(shards)) as u32
            }
            Sharding::Range { keys } => {
                let keys = keys.max(1);
                ((u64::from(index.min(keys - 1)) * u64::from(shards)) / u64::from(keys)) as u32
            }
        };
        debug_assert!(shard < shards);
        shard
    }
}

/// One transaction, split by shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Per shard touched, in shard order: its micro-ops, in the client's order.
    pub parts: BTreeMap<u32, Vec<Mop>>,
    /// Per read of the client's transaction, in order: (shard, index among
    /// that shard's reads).
    reads: Vec<(u32, usize)>,
}

impl Plan {
    pub fn new(mops: &[TxnMop], lists: bool, sharding: Sharding, shards: u32) -> Plan {
        let mut parts: BTreeMap<u32, Vec<Mop>> = BTreeMap::new();
        let mut reads = Vec::new();
        for m in mops {
            let shard = sharding.shard_of(m.key, shards);
            let key = format!("k{}", m.key);
            let part = parts.entry(shard).or_default();
            if m.read {
                let index = part.iter().filter(|p| matches!(p, Mop::Read(_))).count();
                reads.push((shard, index));
                part.push(Mop::Read(key));
            } else if lists {
                part.push(Mop::Append(key, m.value.to_string()));
            } else {
                part.push(Mop::Write(key, m.value.to_string()));
            }
        }
        debug_assert_eq!(parts.values().map(Vec::len).sum::<usize>(), mops.len());
        Plan { parts, reads }
    }

    /// A lone read or write of key `k<index>` (a client's get or put).
    pub fn single(index: u32, mop: Mop, sharding: Sharding, shards: u32) -> Plan {
        debug_assert_eq!(mop.key(), format!("k{index}"));
        let shard = sharding.shard_of(index, shards);
        let reads = if matches!(mop, Mop::Read(_)) {
            vec![(shard, 0)]
        } else {
            Vec::new()
        };
        Plan {
            parts: BTreeMap::from([(shard, vec![mop])]),
            reads,
        }
    }

    /// Whether it needs two-phase commit.
    pub fn cross_shard(&self) -> bool {
        self.parts.len() > 1
    }

    /// The client's reads in its order, from each shard's results (a read
    /// of a key never written: empty).
    pub fn merge(&self, results: &BTreeMap<u32, Vec<Option<String>>>) -> Vec<String> {
        self.reads
            .iter()
            .map(|(shard, index)| {
                let value = results.get(shard).and_then(|r| r.get(*index));
                value.cloned().flatten().unwrap_or_default()
            })
            .collect()
    }
}
