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
/// an unknown write may be seen. Shared with `staleness.rs`.
pub(crate) fn unique_writes<'h>(
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

/// Checks the four guarantees; `initial` is every key's starting value.
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
    // For writes-follow-reads: the versions a write's process had read
    // before issuing it; for monotonic writes: its earlier writes.
    let mut read_before: BTreeMap<usize, Vec<(usize, Version)>> = BTreeMap::new();
    let mut written_before: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for list in by_process.values() {
        let mut seen: Vec<(usize, Version)> = Vec::new();
        let mut wrote: Vec<usize> = Vec::new();
        for &i in list {
            let op = &ops[i];
            if is_write(op) {
                read_before.insert(i, seen.clone());
                written_before.insert(i, wrote.clone());
                wrote.push(i);
            } else if let Some(version) = read_version(op, &keys, initial) {
                seen.push((i, version));
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
    for list in by_process.values() {
        // Obligations: (guarantee, write that must be visible), per key.
        let mut obliged: BTreeMap<&str, BTreeSet<(&'static str, usize)>> = BTreeMap::new();
        let mut last_read: BTreeMap<&str, (usize, Version)> = BTreeMap::new();
        for &i in list {
            let op = &ops[i];
            if is_write(op) {
                if op.outcome == Outcome::Ok {
                    obliged
                        .entry(op.key.as_str())
                        .or_default()
                        .insert(("read-your-writes", i));
                }
                continue;
            }
            let Some(version) = read_version(op, &keys, initial) else {
                continue;
            };
            let key = op.key.as_str();
            let report_once =
                |guarantee: &'static str, obliged_write: usize, report: &mut Report| {
                    let count = report.counts.entry(guarantee).or_default();
                    *count += 1;
                    if *count as usize <= LISTED_MAX {
                        report.violations.push(SessionViolation {
                            guarantee,
                            read: i,
                            obliged: Some(obliged_write),
                        });
                    }
                };
            for &(guarantee, write) in obliged.get(key).into_iter().flatten() {
                if older(version, write) {
                    report_once(guarantee, write, &mut report);
                }
            }
            if let Some(&(_, Version::Write(previous))) = last_read.get(key) {
                if older(version, previous) {
                    report_once("monotonic-reads", previous, &mut report);
                }
            }
            last_read.insert(key, (i, version));
            // Seeing a write obliges its process's earlier writes (monotonic
            // writes) and what that process had read (writes follow reads).
            if let Version::Write(write) = version {
                for &earlier in written_before.get(&write).into_iter().flatten() {
                    obliged
                        .entry(ops[earlier].key.as_str())
                        .or_default()
                        .insert(("monotonic-writes", earlier));
                }
                for &(_, read) in read_before.get(&write).into_iter().flatten() {
                    if let Version::Write(read) = read {
                        obliged
                            .entry(ops[read].key.as_str())
                            .or_default()
                            .insert(("writes-follow-reads", read));
                    }
                }
            }
        }
    }
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
