//! A shard's lock table for two-phase locking: shared and exclusive
//! locks per key, held to commit, with a deadlock policy that decides by
//! the transactions' ages (Rosenkrantz, Stearns and Lewis, 1978).
//!
//! - `WoundWait`: an older requester wounds (aborts) the younger holders
//!   in its way and waits for the lock; a younger requester waits.
//! - `WaitDie`: an older requester waits; a younger one dies (aborts), to
//!   retry later with its original age.
//!
//! Either way, a transaction only ever waits for an older one (wound-wait)
//! or only for a younger one (wait-die), so the waits-for graph has no
//! cycle and no deadlock detector is needed. Age is a transaction's start
//! stamp, kept across its retries, so it cannot starve.
//!
//! The table decides; the caller acts: it aborts what `acquire` says to
//! wound or what dies, and calls `release_all` for a transaction that ends,
//! which hands the freed locks to the waiters in arrival order.
//!
//! Bounded: at most `WAITERS_PER_KEY_MAX` waiters on a key and
//! `KEYS_LOCKED_MAX` keys locked at once; past either, a requester is told
//! to abort (`Acquire::Full`), never queued without bound.

use std::collections::{BTreeMap, VecDeque};

/// Waiters on one key at most.
pub const WAITERS_PER_KEY_MAX: usize = 1_024;
/// Keys locked (or waited for) at once at most.
pub const KEYS_LOCKED_MAX: usize = 1_000_000;

/// A transaction, ordered by age: (start stamp, client, sequence), so an
/// older transaction compares smaller and ties never happen.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct TxnId {
    pub stamp: u64,
    pub client: u32,
    pub seq: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    Shared,
    Exclusive,
}

/// How conflicts are resolved without deadlock.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub enum DeadlockPolicy {
    WoundWait,
    WaitDie,
}

/// What a lock request came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acquire {
    /// Held now.
    Granted,
    /// Queued: `release_all` of the holders will grant it.
    Waiting,
    /// Queued, and these younger holders must be aborted first (wound-wait).
    Wounds(Vec<TxnId>),
    /// The requester must abort (wait-die: it is younger than a holder).
    Dies,
    /// The table is full: the requester must abort.
    Full,
}

#[derive(Debug, Default)]
struct KeyLock {
    /// Holders and their mode: several shared, or one exclusive.
    holders: BTreeMap<TxnId, Mode>,
    waiters: VecDeque<(TxnId, Mode)>,
}

impl KeyLock {
    fn compatible(&self, txn: TxnId, mode: Mode) -> bool {
        let others = self.holders.iter().filter(|(t, _)| **t != txn);
        match mode {
            Mode::Shared => others.into_iter().all(|(_, m)| *m == Mode::Shared),
            Mode::Exclusive => others.count() == 0,
        }
    }

    /// Whether an older transaction waits here for a mode that conflicts
    /// with `mode`: it goes first.
    fn older_waiter_conflicts(&self, txn: TxnId, mode: Mode) -> bool {
        self.waiters
            .iter()
            .any(|(w, m)| *w < txn && (mode == Mode::Exclusive || *m == Mode::Exclusive))
    }

    /// Whether `txn` may have `mode` now: compatible with the holders, and
    /// no older waiter wants a conflicting mode.
    fn grantable(&self, txn: TxnId, mode: Mode) -> bool {
        self.compatible(txn, mode) && !self.older_waiter_conflicts(txn, mode)
    }

    fn conflicting_holders(&self, txn: TxnId, mode: Mode) -> Vec<TxnId> {
        self.holders
            .iter()
            .filter(|(t, m)| **t != txn && (mode == Mode::Exclusive || **m == Mode::Exclusive))
            .map(|(t, _)| *t)
            .collect()
    }
}

/// The lock table of one shard.
#[derive(Debug)]
pub struct LockTable {
    policy: DeadlockPolicy,
    keys: BTreeMap<String, KeyLock>,
    /// Per transaction, the keys it holds or waits on.
    by_txn: BTreeMap<TxnId, Vec<String>>,
}

impl LockTable {
    pub fn new(policy: DeadlockPolicy) -> LockTable {
        LockTable {
            policy,
            keys: BTreeMap::new(),
            by_txn: BTreeMap::new(),
        }
    }

    /// Asks for `key` in `mode` for `txn`. A holder asking again for the
    /// same or a weaker mode is granted at once; a sole shared holder
    /// asking for exclusive is upgraded.
    pub fn acquire(&mut self, txn: TxnId, key: &str, mode: Mode) -> Acquire {
        if !self.keys.contains_key(key) && self.keys.len() >= KEYS_LOCKED_MAX {
            return Acquire::Full;
        }
        let lock = self.keys.entry(key.to_string()).or_default();
        if lock.holders.get(&txn).is_some_and(|held| *held >= mode) {
            return Acquire::Granted;
        }
        // Grant at once if compatible with the holders and no older
        // transaction waits for a conflicting mode. Waiters are served by
        // age, not arrival: a transaction then waits only for holders and
        // for older waiters, which the deadlock rule already orders; in
        // arrival order an older one could wait behind a younger waiter
        // that waits, elsewhere, for it (a deadlock neither rule sees).
        if lock.grantable(txn, mode) {
            lock.waiters.retain(|(t, _)| *t != txn);
            lock.holders.insert(txn, mode);
            Self::note(&mut self.by_txn, txn, key);
            debug_assert!(self.invariant_holds(key));
            return Acquire::Granted;
        }
        let blockers = lock.conflicting_holders(txn, mode);
        let older_blocker =
            blockers.iter().any(|b| *b < txn) || lock.older_waiter_conflicts(txn, mode);
        let outcome = match self.policy {
            DeadlockPolicy::WaitDie if older_blocker => return Acquire::Dies,
            DeadlockPolicy::WaitDie => Acquire::Waiting,
            DeadlockPolicy::WoundWait => {
                let younger: Vec<TxnId> = blockers.into_iter().filter(|b| *b > txn).collect();
                if younger.is_empty() {
                    Acquire::Waiting
                } else {
                    Acquire::Wounds(younger)
                }
            }
        };
        if lock.waiters.len() >= WAITERS_PER_KEY_MAX {
            return Acquire::Full;
        }
        if let Some(waiting) = lock.waiters.iter_mut().find(|(t, _)| *t == txn) {
            waiting.1 = waiting.1.max(mode);
        } else {
            lock.waiters.push_back((txn, mode));
        }
        Self::note(&mut self.by_txn, txn, key);
        outcome
    }

    fn note(by_txn: &mut BTreeMap<TxnId, Vec<String>>, txn: TxnId, key: &str) {
        let keys = by_txn.entry(txn).or_default();
        if !keys.iter().any(|k| k == key) {
            keys.push(key.to_string());
        }
    }

    /// Ends `txn` here (committed or aborted): drops its locks and its
    /// waits, and grants what that frees, in arrival order. Returns the
    /// grants: (transaction, key, mode).
    pub fn release_all(&mut self, txn: TxnId) -> Vec<(TxnId, String, Mode)> {
        let mut granted = Vec::new();
        for key in self.by_txn.remove(&txn).unwrap_or_default() {
            let Some(lock) = self.keys.get_mut(&key) else {
                continue;
            };
            lock.holders.remove(&txn);
            lock.waiters.retain(|(t, _)| *t != txn);
            // Oldest first, each that the holders (and older waiters) allow.
            while let Some(i) = (0..lock.waiters.len())
                .filter(|&i| lock.grantable(lock.waiters[i].0, lock.waiters[i].1))
                .min_by_key(|&i| lock.waiters[i].0)
            {
                let (next, mode) = lock.waiters.remove(i).expect("in range");
                lock.holders.insert(next, mode);
                granted.push((next, key.clone(), mode));
            }
            if lock.holders.is_empty() && lock.waiters.is_empty() {
                self.keys.remove(&key);
            }
        }
        debug_assert!(self.by_txn.values().all(|keys| !keys.is_empty()));
        granted
    }

    /// After a grant on `key`: the holders a waiter must now wound
    /// (wound-wait: younger holders in an older waiter's way), and the
    /// waiters that must now die (wait-die: younger than a holder in their
    /// way). A grant hands the lock to a transaction that may be younger
    /// (or older) than those still waiting, which the rule was never
    /// applied to; left alone, an older waiter could wait on a younger
    /// holder that waits on it elsewhere, a deadlock neither rule allows.
    pub fn conflicts_on(&self, key: &str) -> (Vec<TxnId>, Vec<TxnId>) {
        let (mut wounds, mut dies) = (Vec::new(), Vec::new());
        let Some(lock) = self.keys.get(key) else {
            return (wounds, dies);
        };
        for &(waiter, mode) in &lock.waiters {
            let blockers = lock.conflicting_holders(waiter, mode);
            match self.policy {
                DeadlockPolicy::WoundWait => {
                    for b in blockers.into_iter().filter(|b| *b > waiter) {
                        if !wounds.contains(&b) {
                            wounds.push(b);
                        }
                    }
                }
                DeadlockPolicy::WaitDie => {
                    if blockers.iter().any(|b| *b < waiter) {
                        dies.push(waiter);
                    }
                }
            }
        }
        (wounds, dies)
    }

    /// What `txn` holds on `key`, if anything.
    pub fn held(&self, txn: TxnId, key: &str) -> Option<Mode> {
        self.keys.get(key)?.holders.get(&txn).copied()
    }

    /// The transaction holding `key` exclusively, if one does.
    pub fn exclusive_holder(&self, key: &str) -> Option<TxnId> {
        let lock = self.keys.get(key)?;
        let (txn, _) = lock.holders.iter().find(|(_, m)| **m == Mode::Exclusive)?;
        Some(*txn)
    }

    /// Whether `txn` waits on any key.
    pub fn waiting(&self, txn: TxnId) -> bool {
        self.by_txn.get(&txn).is_some_and(|keys| {
            keys.iter().any(|key| {
                self.keys
                    .get(key)
                    .is_some_and(|lock| lock.waiters.iter().any(|(t, _)| *t == txn))
            })
        })
    }

    /// Keys with a holder or a waiter.
    pub fn keys_locked(&self) -> usize {
        self.keys.len()
    }

    /// One exclusive holder alone, or shared holders only.
    fn invariant_holds(&self, key: &str) -> bool {
        self.keys.get(key).is_none_or(|lock| {
            let exclusive = lock
                .holders
                .values()
                .filter(|m| **m == Mode::Exclusive)
                .count();
            exclusive == 0 || lock.holders.len() == 1
        })
    }
}
