//! One shard's part of transactions, under one concurrency control: it
//! executes a transaction's micro-ops on its keys, votes at prepare, and
//! installs or drops the writes at the decision. A coordinator drives it
//! (a later part: two-phase commit across shards); this is the
//! participant's logic alone, sans-IO, each call returning its effects.
//!
//! Per isolation level (`Isolation`):
//! - `TwoPhaseLocking`: a read takes a shared lock, a write an exclusive
//!   one, held to the decision; a request that must wait suspends the
//!   transaction's execution at that micro-op, and a grant resumes it.
//!   Serializable.
//! - `Occ`: reads take no lock and note each key's version; prepare
//!   validates the read set backward and holds the keys until the
//!   decision. Serializable.
//! - `SnapshotIsolation`: reads see the newest version committed at or
//!   before the transaction's start timestamp; prepare takes exclusive
//!   locks on the written keys without waiting and refuses if one was
//!   written since the start (first committer wins).
//! - `ReadCommitted`: reads see the newest committed version; writes take
//!   exclusive locks held to the decision.
//!
//! A transaction reads its own earlier writes. A write is a register
//! write or a list append, applied at install to the newest committed
//! value (under snapshot isolation first committer wins makes that the
//! value the transaction's snapshot saw).

use super::locks::{Acquire, DeadlockPolicy, LockTable, Mode, TxnId};
use super::mvcc::{Read, VersionStore};
use super::occ::Validator;
use std::collections::BTreeMap;

/// Transactions one shard tracks at once at most; past it, new ones abort.
pub const TXNS_MAX: usize = 100_000;

/// A transaction id no transaction has: a restored commit bumps OCC's
/// versions under it.
const PREPARED_NOBODY: TxnId = TxnId {
    stamp: u64::MAX,
    client: u32::MAX,
    seq: u64::MAX,
};

/// The concurrency control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    TwoPhaseLocking(DeadlockPolicy),
    Occ,
    SnapshotIsolation,
    ReadCommitted,
}

/// The shard's bug switches: each lets through the anomaly its level
/// exists to prevent, for the checkers to catch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Switches {
    /// Snapshot isolation without first committer wins: two transactions
    /// from one snapshot both commit a write of one key (lost update).
    pub si_without_write_conflict_check: bool,
    /// OCC that never fails validation: a transaction commits on reads
    /// another overwrote (G2-item).
    pub occ_skip_validation: bool,
    /// Reads see other transactions' writes before they commit, even
    /// writes that later abort (G1a, G1b).
    pub read_uncommitted: bool,
    /// Two-phase locking that releases its locks once it has voted, before
    /// the decision (G1c, G2).
    pub release_locks_before_commit: bool,
}

/// A micro-op on this shard's key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Mop {
    Read(String),
    /// Replace the register's value.
    Write(String, String),
    /// Append to the list (values joined by spaces).
    Append(String, String),
}

impl Mop {
    pub fn key(&self) -> &str {
        match self {
            Mop::Read(k) | Mop::Write(k, _) | Mop::Append(k, _) => k,
        }
    }
}

/// Why a shard aborts a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AbortReason {
    /// Wait-die: younger than a lock holder.
    Deadlock,
    /// Wounded by an older transaction (wound-wait).
    Wounded,
    /// OCC: what it read was written since, or is held by a prepared one.
    Validation,
    /// Snapshot isolation: a key it writes was written since its start.
    WriteConflict,
    /// Snapshot isolation: its snapshot is older than the versions kept.
    SnapshotTooOld,
    /// A lock queue or the shard's transaction table is full.
    Limit,
    /// Another attempt of the same client operation owns it here
    /// (`dedup.rs`); the service, not the shard, refuses it.
    Duplicate,
}

/// What a call came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// The transaction's micro-ops here ran: each read's value, in order.
    Executed(TxnId, Vec<Option<String>>),
    /// The transaction must abort (its coordinator decides so everywhere).
    Abort(TxnId, AbortReason),
    /// The vote at prepare.
    Vote(TxnId, bool),
}

#[derive(Debug)]
struct Txn {
    start_ts: u64,
    mops: Vec<Mop>,
    /// Micro-ops executed so far (2PL and RC may stop at a lock).
    done: usize,
    results: Vec<Option<String>>,
    /// OCC: (key, version read).
    read_versions: Vec<(String, u64)>,
    /// Buffered writes, in order.
    writes: Vec<Mop>,
    /// Voted yes: bound to the decision, so it can no longer be wounded.
    prepared: bool,
}

/// What a shard must have on disk before it votes yes: enough to hold the
/// transaction's place after a crash (its write set, the keys it read
/// under OCC) until the decision arrives.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct PreparedRecord {
    pub txn: TxnId,
    pub start_ts: u64,
    pub writes: Vec<Mop>,
    /// OCC: (key, version read).
    pub read_versions: Vec<(String, u64)>,
}

/// A committed version, as a shard's durable log holds it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CommittedWrite {
    pub key: String,
    pub commit_ts: u64,
    pub value: String,
}

/// One shard.
#[derive(Debug)]
pub struct Shard {
    isolation: Isolation,
    switches: Switches,
    locks: LockTable,
    store: VersionStore,
    validator: Validator,
    txns: BTreeMap<TxnId, Txn>,
    /// The last commit timestamp installed (2PL, OCC and RC install in
    /// decision order; SI at the timestamps its coordinators give).
    last_commit_ts: u64,
    /// Snapshot isolation: transactions whose next read waits for a
    /// prepared writer of its key to be decided (`run`).
    parked: Vec<TxnId>,
    /// Snapshot isolation: per key, the latest snapshot that read it, so
    /// that no write later commits beneath a read that missed it
    /// (`min_commit_ts`; a timestamp cache, as CockroachDB keeps).
    read_ts: BTreeMap<String, u64>,
    /// Snapshot isolation: a floor under every commit timestamp, for the
    /// reads a crash made this shard forget (`set_read_floor`).
    read_floor: u64,
}

fn apply(current: Option<&str>, write: &Mop) -> String {
    match write {
        Mop::Write(_, value) => value.clone(),
        Mop::Append(_, value) => match current {
            Some(list) if !list.is_empty() => format!("{list} {value}"),
            _ => value.clone(),
        },
        Mop::Read(_) => unreachable!("a read is not a write"),
    }
}

impl Shard {
    pub fn new(isolation: Isolation) -> Shard {
        Shard::with_switches(isolation, Switches::default())
    }

    /// A shard with bug switches on.
    pub fn with_switches(isolation: Isolation, switches: Switches) -> Shard {
        let policy = match isolation {
            Isolation::TwoPhaseLocking(policy) => policy,
            // Snapshot isolation and read committed lock written keys
            // only; wound-wait keeps their waits acyclic too.
            _ => DeadlockPolicy::WoundWait,
        };
        Shard {
            isolation,
            switches,
            locks: LockTable::new(policy),
            store: VersionStore::default(),
            validator: Validator::default(),
            txns: BTreeMap::new(),
            last_commit_ts: 0,
            parked: Vec::new(),
            read_ts: BTreeMap::new(),
            read_floor: 0,
        }
    }

    /// Starts (or, for a retried message, continues) `txn`'s micro-ops on
    /// this shard. `start_ts`: its snapshot under snapshot isolation.
    pub fn execute(&mut self, txn: TxnId, start_ts: u64, mops: Vec<Mop>) -> Vec<Effect> {
        if !self.txns.contains_key(&txn) {
            if self.txns.len() >= TXNS_MAX {
                return vec![Effect::Abort(txn, AbortReason::Limit)];
            }
            let state = Txn {
                start_ts,
                mops,
                done: 0,
                results: Vec::new(),
                read_versions: Vec::new(),
                writes: Vec::new(),
                prepared: false,
            };
            self.txns.insert(txn, state);
        }
        self.run(txn)
    }

    /// Runs `txn` from where it stopped until it finishes here or waits.
    fn run(&mut self, txn: TxnId) -> Vec<Effect> {
        let mut effects = Vec::new();
        loop {
            let Some(state) = self.txns.get(&txn) else {
                return effects;
            };
            let Some(mop) = state.mops.get(state.done).cloned() else {
                let results = state.results.clone();
                effects.push(Effect::Executed(txn, results));
                return effects;
            };
            if self.waits_for_prepared_writer(txn, &mop) {
                if !self.parked.contains(&txn) {
                    self.parked.push(txn);
                }
                return effects;
            }
            let mode = match (&mop, self.isolation) {
                (_, Isolation::Occ | Isolation::SnapshotIsolation) => None,
                (Mop::Read(_), Isolation::ReadCommitted) => None,
                (Mop::Read(_), _) => Some(Mode::Shared),
                (_, _) => Some(Mode::Exclusive),
            };
            if let Some(mode) = mode {
                match self.locks.acquire(txn, mop.key(), mode) {
                    Acquire::Granted => {}
                    Acquire::Waiting => return effects,
                    Acquire::Wounds(victims) => {
                        // A prepared victim is bound to its decision: the
                        // requester waits for it instead.
                        let wounded = victims
                            .into_iter()
                            .filter(|v| self.txns.get(v).is_some_and(|t| !t.prepared));
                        effects.extend(wounded.map(|v| Effect::Abort(v, AbortReason::Wounded)));
                        return effects;
                    }
                    Acquire::Dies => {
                        effects.extend(self.abort(txn));
                        effects.push(Effect::Abort(txn, AbortReason::Deadlock));
                        return effects;
                    }
                    Acquire::Full => {
                        effects.extend(self.abort(txn));
                        effects.push(Effect::Abort(txn, AbortReason::Limit));
                        return effects;
                    }
                }
            }
            if let Err(reason) = self.step(txn, &mop) {
                effects.extend(self.abort(txn));
                effects.push(Effect::Abort(txn, reason));
                return effects;
            }
        }
    }

    /// Snapshot isolation: a read of a key that another transaction has
    /// prepared a write of waits for that one's decision. Its commit
    /// timestamp may fall at or below this snapshot, and then the read
    /// must see it; reading past it would return a snapshot that a later
    /// reader at the same timestamp contradicts (Percolator waits the same
    /// way on a lock).
    fn waits_for_prepared_writer(&self, txn: TxnId, mop: &Mop) -> bool {
        if self.isolation != Isolation::SnapshotIsolation || !matches!(mop, Mop::Read(_)) {
            return false;
        }
        self.locks
            .exclusive_holder(mop.key())
            .is_some_and(|holder| holder != txn)
    }

    /// Executes one micro-op whose lock (if any) is held.
    fn step(&mut self, txn: TxnId, mop: &Mop) -> Result<(), AbortReason> {
        let isolation = self.isolation;
        let start_ts = self.txns[&txn].start_ts;
        if isolation == Isolation::SnapshotIsolation && matches!(mop, Mop::Read(_)) {
            let seen = self.read_ts.entry(mop.key().to_string()).or_insert(0);
            *seen = (*seen).max(start_ts);
        }
        let committed: Option<String> = match isolation {
            Isolation::SnapshotIsolation => match self.store.read_at(mop.key(), start_ts) {
                Read::Value(v) => Some(v.value.clone()),
                Read::Absent => None,
                Read::TooOld => return Err(AbortReason::SnapshotTooOld),
            },
            _ => self.store.latest(mop.key()).map(|v| v.value.clone()),
        };
        let version = self.validator.version(mop.key());
        // The bug: a write of another transaction still running here (the
        // youngest's last), uncommitted, on top of what it would read.
        let dirty: Option<Mop> = if self.switches.read_uncommitted {
            (self.txns.iter())
                .filter(|(other, _)| **other != txn)
                .flat_map(|(_, t)| t.writes.iter())
                .rfind(|w| w.key() == mop.key())
                .cloned()
        } else {
            None
        };
        let committed = match &dirty {
            Some(write) => Some(apply(committed.as_deref(), write)),
            None => committed,
        };
        let state = self.txns.get_mut(&txn).expect("running");
        match mop {
            Mop::Read(key) => {
                // Its own writes to the key, on top of what it reads.
                let mut value = committed;
                for write in state.writes.iter().filter(|w| w.key() == key) {
                    value = Some(apply(value.as_deref(), write));
                }
                state.results.push(value);
                if isolation == Isolation::Occ && !state.read_versions.iter().any(|(k, _)| k == key)
                {
                    state.read_versions.push((key.clone(), version));
                }
            }
            write => state.writes.push(write.clone()),
        }
        state.done += 1;
        Ok(())
    }

    /// Grants what `txn` held to waiters and resumes them.
    fn abort(&mut self, txn: TxnId) -> Vec<Effect> {
        self.txns.remove(&txn);
        self.validator.finish(txn, &[], false);
        self.release(txn)
    }

    fn release(&mut self, txn: TxnId) -> Vec<Effect> {
        let grants = self.locks.release_all(txn);
        let mut effects = Vec::new();
        let mut keys: Vec<String> = Vec::new();
        for (waiter, key, _) in grants {
            if !keys.contains(&key) {
                keys.push(key);
            }
            effects.extend(self.run(waiter));
        }
        // The new holders may stand in an older waiter's way (wound-wait)
        // or be older than a waiter (wait-die): the rule applies again.
        for key in keys {
            let (wounds, dies) = self.locks.conflicts_on(&key);
            for victim in wounds {
                let unprepared = self.txns.get(&victim).is_some_and(|t| !t.prepared);
                let told = effects.contains(&Effect::Abort(victim, AbortReason::Wounded));
                if unprepared && !told {
                    effects.push(Effect::Abort(victim, AbortReason::Wounded));
                }
            }
            for waiter in dies {
                if self.txns.contains_key(&waiter) {
                    effects.extend(self.abort(waiter));
                    effects.push(Effect::Abort(waiter, AbortReason::Deadlock));
                }
            }
        }
        // Reads parked behind a prepared writer try again; those still
        // behind one park again.
        self.parked.retain(|p| *p != txn);
        for waiter in std::mem::take(&mut self.parked) {
            effects.extend(self.run(waiter));
        }
        effects
    }

    /// Phase one: may `txn` commit here? A yes is binding until the
    /// decision: its locks, or OCC's held keys, stay.
    pub fn prepare(&mut self, txn: TxnId) -> Vec<Effect> {
        let Some(state) = self.txns.get(&txn) else {
            // Aborted here already (wounded, died, or never executed).
            return vec![Effect::Vote(txn, false)];
        };
        if state.prepared {
            // A repeated request (the network duplicates): the yes
            // stands. Validating again would find the transaction's own
            // held keys and drop a transaction bound to its decision.
            return vec![Effect::Vote(txn, true)];
        }
        if state.done < state.mops.len() {
            // Still waiting for a lock (its coordinator gave up waiting
            // for it to run, or a message overtook another): it cannot
            // commit what it has not run.
            let mut effects = self.abort(txn);
            effects.push(Effect::Vote(txn, false));
            return effects;
        }
        let write_keys: Vec<String> = state.writes.iter().map(|w| w.key().to_string()).collect();
        let ok = match self.isolation {
            Isolation::TwoPhaseLocking(_) | Isolation::ReadCommitted => true,
            Isolation::Occ => {
                let read_keys: Vec<String> =
                    state.read_versions.iter().map(|(k, _)| k.clone()).collect();
                let valid = self.switches.occ_skip_validation
                    || self
                        .validator
                        .validate(&state.read_versions, &write_keys)
                        .is_ok();
                if valid && !self.switches.occ_skip_validation {
                    // The bug holds nothing either: two writers of one key
                    // may be prepared at once.
                    self.validator.prepare(txn, &read_keys, &write_keys);
                }
                valid
            }
            Isolation::SnapshotIsolation => {
                let start_ts = state.start_ts;
                if self.switches.si_without_write_conflict_check {
                    // The bug: no first committer wins, and nothing held.
                    self.txns.get_mut(&txn).expect("voting").prepared = true;
                    return vec![Effect::Vote(txn, true)];
                }
                let unwritten = write_keys
                    .iter()
                    .all(|k| !self.store.written_since(k, start_ts));
                // Hold the written keys without waiting: two transactions
                // prepared on one key would both pass the check above.
                unwritten
                    && write_keys.iter().all(|k| {
                        matches!(
                            self.locks.acquire(txn, k, Mode::Exclusive),
                            Acquire::Granted
                        )
                    })
            }
        };
        if ok {
            self.txns.get_mut(&txn).expect("voting").prepared = true;
            let mut effects = vec![Effect::Vote(txn, true)];
            if self.switches.release_locks_before_commit
                && matches!(self.isolation, Isolation::TwoPhaseLocking(_))
            {
                // The bug: the locks go at the vote; the decision comes later.
                effects.extend(self.release(txn));
            }
            return effects;
        }
        let mut effects = self.abort(txn);
        effects.push(Effect::Vote(txn, false));
        effects
    }

    /// The least commit timestamp `txn` may take here, once it has voted
    /// yes: under snapshot isolation, above its start, above every
    /// version of the keys it writes and above every snapshot that read
    /// them (so no reader's snapshot misses a write beneath it); under the
    /// others, above the last commit here (they install in decision order).
    pub fn min_commit_ts(&self, txn: TxnId) -> u64 {
        let Some(state) = self.txns.get(&txn) else {
            return self.last_commit_ts + 1;
        };
        if self.isolation != Isolation::SnapshotIsolation {
            return self.last_commit_ts + 1;
        }
        let mut ts = (state.start_ts + 1).max(self.read_floor);
        for write in &state.writes {
            let key = write.key();
            if let Some(latest) = self.store.latest(key) {
                ts = ts.max(latest.commit_ts + 1);
            }
            if let Some(read) = self.read_ts.get(key) {
                ts = ts.max(read + 1);
            }
        }
        debug_assert!(ts > state.start_ts);
        ts
    }

    /// The timestamp `key`'s version from a commit at `commit_ts` takes.
    /// Snapshot isolation installs at the coordinator's timestamp, the
    /// same on every shard, so that a snapshot sees all of a transaction
    /// or none of it; the timestamp is above the key's versions already
    /// (`min_commit_ts`), unless the write-conflict check is switched off,
    /// which lets a write land beneath a newer one, and then it moves up
    /// just above that one. The other levels install in decision order.
    fn install_ts(&self, key: &str, commit_ts: u64) -> u64 {
        if self.isolation != Isolation::SnapshotIsolation {
            return commit_ts.max(self.last_commit_ts + 1);
        }
        let above = self.store.latest(key).map_or(0, |v| v.commit_ts + 1);
        debug_assert!(
            self.switches.si_without_write_conflict_check || commit_ts >= above,
            "a snapshot-isolation commit at {commit_ts} beneath a version of {key} (needs {above})"
        );
        commit_ts.max(above)
    }

    /// After a restart: no write may commit at or below `ts` here. The
    /// snapshots that read this shard before the crash were forgotten with
    /// its memory; `ts` must lie above all of them (the restarted clock
    /// plus the bound on clock disagreement does).
    pub fn set_read_floor(&mut self, ts: u64) {
        self.read_floor = self.read_floor.max(ts);
    }

    /// Keys with a latest-read snapshot recorded (a bounded map: one
    /// entry per key read here).
    pub fn read_ts_keys(&self) -> usize {
        self.read_ts.len()
    }

    /// The durable record of a transaction that voted yes here.
    pub fn prepared_record(&self, txn: TxnId) -> Option<PreparedRecord> {
        let state = self.txns.get(&txn).filter(|t| t.prepared)?;
        Some(PreparedRecord {
            txn,
            start_ts: state.start_ts,
            writes: state.writes.clone(),
            read_versions: state.read_versions.clone(),
        })
    }

    /// A shard rebuilt after a crash from its durable log: the committed
    /// versions in commit order, and the transactions prepared but not
    /// yet decided, which hold their locks (or OCC's keys) again and wait
    /// for their decision. Everything not prepared was lost with memory,
    /// and its coordinator aborts it.
    pub fn restore(
        isolation: Isolation,
        switches: Switches,
        committed: &[CommittedWrite],
        prepared: &[PreparedRecord],
    ) -> Shard {
        let mut shard = Shard::with_switches(isolation, switches);
        for write in committed {
            let replaces = shard
                .store
                .latest(&write.key)
                .is_some_and(|v| v.commit_ts == write.commit_ts);
            if replaces {
                shard.store.replace_latest(&write.key, write.value.clone());
            } else {
                shard
                    .store
                    .install_recovered(&write.key, write.commit_ts, write.value.clone());
                shard
                    .validator
                    .finish(PREPARED_NOBODY, std::slice::from_ref(&write.key), true);
            }
            shard.last_commit_ts = shard.last_commit_ts.max(write.commit_ts);
        }
        // The bug switches that hold nothing at prepare (or let it go)
        // leave prepared write sets that may overlap: nothing is held
        // again for them either.
        let held_at_prepare = !(switches.occ_skip_validation
            || switches.si_without_write_conflict_check
            || switches.release_locks_before_commit);
        for record in prepared {
            let write_keys: Vec<String> =
                record.writes.iter().map(|w| w.key().to_string()).collect();
            match isolation {
                _ if !held_at_prepare => {}
                Isolation::Occ => {
                    let read_keys: Vec<String> = record
                        .read_versions
                        .iter()
                        .map(|(k, _)| k.clone())
                        .collect();
                    shard.validator.prepare(record.txn, &read_keys, &write_keys);
                }
                _ => {
                    for key in &write_keys {
                        // Prepared write sets are disjoint (each held its
                        // keys exclusively), so every lock is granted.
                        let granted = shard.locks.acquire(record.txn, key, Mode::Exclusive);
                        assert_eq!(granted, Acquire::Granted, "two prepared writers of {key}");
                    }
                }
            }
            let state = Txn {
                start_ts: record.start_ts,
                mops: Vec::new(),
                done: 0,
                results: Vec::new(),
                read_versions: record.read_versions.clone(),
                writes: record.writes.clone(),
                prepared: true,
            };
            shard.txns.insert(record.txn, state);
        }
        shard
    }

    /// The versions `commit` installed for `txn` would be: for its durable
    /// log, written before the commit is applied.
    pub fn committed_writes(&self, txn: TxnId, commit_ts: u64) -> Vec<CommittedWrite> {
        let Some(state) = self.txns.get(&txn) else {
            return Vec::new();
        };
        let mut values: Vec<(String, String)> = Vec::new();
        for write in &state.writes {
            let key = write.key();
            let current = match values.iter().find(|(k, _)| k == key) {
                Some((_, v)) => Some(v.clone()),
                None => self.store.latest(key).map(|v| v.value.clone()),
            };
            let value = apply(current.as_deref(), write);
            match values.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => values.push((key.to_string(), value)),
            }
        }
        values
            .into_iter()
            .map(|(key, value)| CommittedWrite {
                commit_ts: self.install_ts(&key, commit_ts),
                key,
                value,
            })
            .collect()
    }

    /// Phase two: install `txn`'s writes at `commit_ts` (a timestamp
    /// above its start under snapshot isolation) and release what it held.
    pub fn commit(&mut self, txn: TxnId, commit_ts: u64) -> Vec<Effect> {
        let Some(state) = self.txns.remove(&txn) else {
            return Vec::new();
        };
        // Versions of a key install in commit order (`install_ts`).
        let mut keys: Vec<String> = Vec::new();
        let mut last = self.last_commit_ts;
        for write in &state.writes {
            let key = write.key();
            let current = self.store.latest(key).map(|v| v.value.clone());
            let value = apply(current.as_deref(), write);
            if keys.iter().any(|k| k == key) {
                // A second write of one key in one transaction replaces
                // the version this commit installed.
                self.store.replace_latest(key, value);
            } else {
                let ts = self.install_ts(key, commit_ts);
                self.store.install(key, ts, value);
                last = last.max(ts);
                keys.push(key.to_string());
            }
        }
        // A commit that wrote nothing here still takes its place in the
        // decision order.
        self.last_commit_ts = last.max(commit_ts);
        self.validator.finish(txn, &keys, true);
        self.release(txn)
    }

    /// Phase two: drop `txn` (aborted anywhere).
    pub fn abort_decided(&mut self, txn: TxnId) -> Vec<Effect> {
        self.abort(txn)
    }

    /// Whether `txn` runs or is prepared here.
    pub fn has(&self, txn: TxnId) -> bool {
        self.txns.contains_key(&txn)
    }

    /// Transactions running or prepared here.
    pub fn txns(&self) -> usize {
        self.txns.len()
    }

    /// The newest committed value of `key`, for checks and tests.
    pub fn committed(&self, key: &str) -> Option<&str> {
        self.store.latest(key).map(|v| v.value.as_str())
    }

    /// Versions kept over every key (a metric).
    pub fn versions_kept(&self) -> usize {
        self.store.versions_kept()
    }
}
