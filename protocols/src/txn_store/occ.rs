//! Optimistic concurrency control's backward validation (Kung and
//! Robinson, 1981): a transaction reads without locks, noting the version
//! of each key it read, and buffers its writes; at commit, it is valid if
//! no transaction has committed a write to any key it read since it read
//! it. A valid transaction's writes install in one step, which commits it
//! after every transaction it read from and before every one that could
//! have read its writes: serializable.
//!
//! A key's version here is a counter its committed writes bump, so
//! validation compares counters, not values (a value written back to what
//! it was is still a new version). Validation and installation must be one
//! step at the shard (the caller runs them in one handler, or holds the
//! keys across a two-phase commit's prepare).

use super::locks::TxnId;
use std::collections::BTreeMap;

/// The committed write counter of each key of a shard.
#[derive(Debug, Default)]
pub struct Validator {
    versions: BTreeMap<String, u64>,
    /// Keys a prepared transaction (two-phase commit) will write, by
    /// transaction: nobody may read or write them until it ends.
    prepared_writes: BTreeMap<String, TxnId>,
    /// Keys prepared transactions read, and which: nobody may write them
    /// until they end.
    prepared_reads: BTreeMap<String, Vec<TxnId>>,
}

/// Why a transaction failed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// A key it read was written since: (key, version read, version now).
    Stale(String, u64, u64),
    /// A key it reads or writes is held by a prepared transaction.
    Prepared(String),
}

impl Validator {
    /// The version of `key` a read sees now (0: never written).
    pub fn version(&self, key: &str) -> u64 {
        self.versions.get(key).copied().unwrap_or(0)
    }

    /// Validates a read set (key, version read) and a write set against
    /// what has committed and what is prepared.
    pub fn validate(&self, reads: &[(String, u64)], writes: &[String]) -> Result<(), Invalid> {
        for (key, seen) in reads {
            if self.prepared_writes.contains_key(key) {
                return Err(Invalid::Prepared(key.clone()));
            }
            let now = self.version(key);
            if now != *seen {
                debug_assert!(now > *seen, "versions only grow");
                return Err(Invalid::Stale(key.clone(), *seen, now));
            }
        }
        let held = |k: &String| {
            self.prepared_writes.contains_key(k) || self.prepared_reads.contains_key(k)
        };
        match writes.iter().find(|k| held(k)) {
            Some(key) => Err(Invalid::Prepared(key.clone())),
            None => Ok(()),
        }
    }

    /// Holds a validated transaction's keys until it commits or aborts.
    pub fn prepare(&mut self, txn: TxnId, reads: &[String], writes: &[String]) {
        for key in writes {
            let previous = self.prepared_writes.insert(key.clone(), txn);
            assert!(
                previous.is_none_or(|p| p == txn),
                "{key} prepared for two writers"
            );
        }
        for key in reads {
            let readers = self.prepared_reads.entry(key.clone()).or_default();
            if !readers.contains(&txn) {
                readers.push(txn);
            }
        }
    }

    /// Ends a prepared transaction: if it committed, its writes bump their
    /// keys' versions.
    pub fn finish(&mut self, txn: TxnId, writes: &[String], committed: bool) {
        self.prepared_writes.retain(|_, t| *t != txn);
        self.prepared_reads.retain(|_, readers| {
            readers.retain(|t| *t != txn);
            !readers.is_empty()
        });
        if committed {
            for key in writes {
                *self.versions.entry(key.clone()).or_insert(0) += 1;
            }
        }
    }
}
