//! Session guarantees per client (Terry et al., 1994): read-your-writes,
//! monotonic reads, monotonic writes and writes-follow-reads.
//!
//! Version order. A history does not say in which order the store ordered
//! the writes, so this checker uses only what is certain: write A is older
//! than write B if A completed before B was invoked, or if one process
//! wrote A before B; the initial value is older than every write. A read is
//! reported only if the version it returned is older, in that sense, than a
//! version it was obliged to see. Any store whose version order respects
//! real time between non-overlapping writes (every linearizable store, and
//! primary-backup stores) is judged exactly; for a store that may order a
//! later write first (last-writer-wins on skewed clocks), a report means a
//! client saw time go backwards, which is the anomaly the guarantee forbids.
//!
//! Scope: read, write and successful cas on keys whose written values are
//! unique. Keys with appends or repeated values are skipped and counted.

use crate::history::{Function, History, Operation, Outcome};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub const GUARANTEES: [&str; 4] = [
    "read-your-writes",
    "monotonic-reads",
    "monotonic-writes",
    "writes-follow-reads",
];

/// Violations listed per guarantee at most (all are counted).
pub const LISTED_MAX: usize = 20;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SessionViolation {
    pub guarantee: &'static str,
    /// The read that returned too old a version (history index).
    pub read: usize,
    /// The write it was obliged to see (history index), or None if the read
    /// returned a value no write wrote.
    pub obliged: Option<usize>,
}

#[derive(Clone, Debug, Serialize, Default)]
pub struct Report {
    /// Violations per guarantee, counted.
    pub counts: BTreeMap<&'static str, u64>,
    /// The first violations of each guarantee.
    pub violations: Vec<SessionViolation>,
    pub keys_checked: usize,
    /// Keys skipped because they have appends or repeated written values.
    pub keys_skipped: usize,
    /// A count reached `COUNTED_MAX` and stopped: it is a lower bound.
    pub counts_capped: bool,
}

impl Report {
    pub fn holds(&self, guarantee: &str) -> bool {
        self.counts.get(guarantee).copied().unwrap_or(0) == 0
    }
}

/// A version: the initial value, or the write (history index) that wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Version {
    Initial,
    Write(usize),
}

/// Per key: written value → the write (history index) that wrote it, or
/// `None` for a key that cannot be judged (it has appends, or a value was
/// written twice or equals the initial value). Ok and unknown writes count:
/// an unknown write may be seen. Shared with `staleness.rs` (and the
/// tests' reference checks).
pub fn unique_writes<'h>(
    history: &'h History,
    initial: &str,
) -> BTreeMap<&'h str, Option<BTreeMap<String, usize>>> {
    let mut keys: BTreeMap<&str, Option<BTreeMap<String, usize>>> = BTreeMap::new();
    for (index, op) in history.operations.iter().enumerate() {
        let entry = keys
            .entry(op.key.as_str())
            .or_insert_with(|| Some(BTreeMap::new()));
        let Some(writes) = entry else { continue };
        match (op.f, op.outcome) {
            (Function::Append, _) => *entry = None,
            (Function::Write | Function::Cas, Outcome::Ok | Outcome::Info) => {
                let value = op.value.clone().unwrap_or_default();
                if value == initial || writes.insert(value, index).is_some() {
                    *entry = None;
                }
            }
            _ => {}
        }
    }
    keys
}

/// Violations counted per guarantee at most. A badly broken store can owe
/// each read thousands of writes; past this the count stops and the report
/// says it is a lower bound (`counts_capped`), so the check's time stays
/// bounded whatever the history.
pub const COUNTED_MAX: u64 = 1_000_000;

/// Writes a read may be obliged to see on one key, indexed two ways so that
/// a read finds the ones newer than its version without scanning them all
/// (a scan made the check quadratic in the history's length).
#[derive(Default)]
struct Obligations {
    /// (guarantee, write): each obligation once, in report order.
    all: BTreeSet<(&'static str, usize)>,
    /// (write's invoke time, guarantee, write).
    by_invoke: BTreeSet<(u64, &'static str, usize)>,
    /// (write's process, write's invoke time, guarantee, write).
    by_process: BTreeSet<(u64, u64, &'static str, usize)>,
}

impl Obligations {
    fn insert(&mut self, guarantee: &'static str, write: &Operation, index: usize) {
        if self.all.insert((guarantee, index)) {
            self.by_invoke.insert((write.invoke_ns, guarantee, index));
            self.by_process
                .insert((write.process, write.invoke_ns, guarantee, index));
        }
    }

    /// The obligations whose write is newer than `version` (see `older`),
    /// in (guarantee, write) order.
    fn newer_than(&self, version: Version, ops: &[Operation]) -> Vec<(&'static str, usize)> {
        let Version::Write(read) = version else {
            return self.all.iter().copied().collect();
        };
        let seen = &ops[read];
        let mut newer: Vec<(&'static str, usize)> = Vec::new();
        // Invoked after the seen write completed.
        if let Some(done) = seen.complete_ns {
            if done < u64::MAX {
                let from = (done + 1, "", 0);
                newer.extend(self.by_invoke.range(from..).map(|&(_, g, w)| (g, w)));
            }
        }
        // Or issued later by the same process.
        if seen.invoke_ns < u64::MAX {
            let from = (seen.process, seen.invoke_ns + 1, "", 0);
            newer.extend(
                self.by_process
                    .range(from..)
                    .take_while(|entry| entry.0 == seen.process)
                    .map(|&(_, _, g, w)| (g, w)),
            );
        }
        newer.sort_unstable();
        newer.dedup();
        newer.retain(|&(_, w)| w != read);
        newer
    }
}

/// A process's session so far: its reads (with the version each saw) and
/// its writes, in its own order.
#[derive(Default)]
struct Session {
    reads: Vec<Version>,
    writes: Vec<usize>,
}

/// Checks the four guarantees; `initial` is every key's starting value.
///
/// Time O(n log n) plus the violations counted; memory O(n) per process
/// checked at a time. Seeing a write obliges what its process had read and
/// written before it: a prefix of that process's session, so each reading
/// process adds each other session's entries once, however often it sees
/// that session's writes.
pub fn check(history: &History, initial: &str) -> Report {
    let ops = &history.operations;
    let mut report = Report::default();
    let keys = unique_writes(history, initial);
    report.keys_skipped = keys.values().filter(|k| k.is_none()).count();
    report.keys_checked = keys.len() - report.keys_skipped;
    // Each process's operations in its own order.
    let mut by_process: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (index, op) in ops.iter().enumerate() {
        by_process.entry(op.process).or_default().push(index);
    }
    for list in by_process.values_mut() {
        list.sort_by_key(|&i| (ops[i].invoke_ns, i));
    }
    // Each session, and for each write the length of its session's reads
    // and writes before it (for writes-follow-reads and monotonic writes).
    let mut sessions: BTreeMap<u64, Session> = BTreeMap::new();
    let mut prefix: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    for (&process, list) in &by_process {
        let session = sessions.entry(process).or_default();
        for &i in list {
            let op = &ops[i];
            if is_write(op) {
                prefix.insert(i, (session.reads.len(), session.writes.len()));
                session.writes.push(i);
            } else if let Some(version) = read_version(op, &keys, initial) {
                session.reads.push(version);
            }
        }
    }
    let older = |a: Version, b: usize| match a {
        Version::Initial => true,
        Version::Write(a) => {
            let (wa, wb) = (&ops[a], &ops[b]);
            a != b
                && (wa.complete_ns.is_some_and(|done| done < wb.invoke_ns)
                    || (wa.process == wb.process && wa.invoke_ns < wb.invoke_ns))
        }
    };
    let mut capped = false;
    for list in by_process.values() {
        let mut obliged: BTreeMap<&str, Obligations> = BTreeMap::new();
        let mut last_read: BTreeMap<&str, Version> = BTreeMap::new();
        // Per other session: how much of it (reads, writes) is obliged.
        let mut included: BTreeMap<u64, (usize, usize)> = BTreeMap::new();
        for &i in list {
            let op = &ops[i];
            if is_write(op) {
                if op.outcome == Outcome::Ok {
                    obliged
                        .entry(op.key.as_str())
                        .or_default()
                        .insert("read-your-writes", op, i);
                }
                continue;
            }
            let Some(version) = read_version(op, &keys, initial) else {
                continue;
            };
            let key = op.key.as_str();
            let mut report_once = |guarantee: &'static str, obliged_write: usize| {
                let count = report.counts.entry(guarantee).or_default();
                if *count >= COUNTED_MAX {
                    capped = true;
                    return;
                }
                *count += 1;
                if *count as usize <= LISTED_MAX {
                    report.violations.push(SessionViolation {
                        guarantee,
                        read: i,
                        obliged: Some(obliged_write),
                    });
                }
            };
            if let Some(obligations) = obliged.get(key) {
                for (guarantee, write) in obligations.newer_than(version, ops) {
                    debug_assert!(older(version, write));
                    report_once(guarantee, write);
                }
            }
            if let Some(&Version::Write(previous)) = last_read.get(key) {
                if older(version, previous) {
                    report_once("monotonic-reads", previous);
                }
            }
            last_read.insert(key, version);
            // Seeing a write obliges its process's earlier writes (monotonic
            // writes) and what that process had read (writes follow reads).
            if let Version::Write(write) = version {
                let writer = ops[write].process;
                let (reads_upto, writes_upto) = prefix[&write];
                let done = included.entry(writer).or_default();
                let session = &sessions[&writer];
                for &earlier in &session.writes[done.1.min(writes_upto)..writes_upto] {
                    obliged
                        .entry(ops[earlier].key.as_str())
                        .or_default()
                        .insert("monotonic-writes", &ops[earlier], earlier);
                }
                for &read in &session.reads[done.0.min(reads_upto)..reads_upto] {
                    if let Version::Write(read) = read {
                        obliged.entry(ops[read].key.as_str()).or_default().insert(
                            "writes-follow-reads",
                            &ops[read],
                            read,
                        );
                    }
                }
                *done = (done.0.max(reads_upto), done.1.max(writes_upto));
            }
        }
    }
    report.counts_capped = capped;
    for guarantee in GUARANTEES {
        report.counts.entry(guarantee).or_default();
    }
    report
}

fn is_write(op: &Operation) -> bool {
    matches!(op.f, Function::Write | Function::Cas) && op.outcome != Outcome::Fail
}

/// The version an ok read returned, on a checked key.
fn read_version(
    op: &Operation,
    keys: &BTreeMap<&str, Option<BTreeMap<String, usize>>>,
    initial: &str,
) -> Option<Version> {
    if op.f != Function::Read || op.outcome != Outcome::Ok {
        return None;
    }
    let writes = keys.get(op.key.as_str())?.as_ref()?;
    let value = op.value.as_deref()?;
    if value == initial {
        return Some(Version::Initial);
    }
    writes.get(value).map(|&w| Version::Write(w))
}
