//! Read-write registers: reads say which write they saw (each written
//! value is unique per key), but not the order of the writes. The version
//! order is inferred where the history shows it (Elle, section 4.3):
//! - the initial state (nil) comes before every write;
//! - a transaction that read version v of a key and then wrote w puts v
//!   directly before w.
//! The order of other writes is unknown: ww and rw edges to them are
//! missing, and the report says how many versions that leaves unordered.
//! Cycles found are still real; a history may hide cycles the missing
//! edges would show.
//!
//! Indeterminate and failed transactions are treated as in list-append.

use super::graph::{Edge, INITIAL, RW, WR, WW};
use super::observations::{Findings, Observations, ReadFrom};
use super::{Mop, TxnHistory};
use crate::history::Outcome;

use super::writes::writer;

pub fn analyse(history: &TxnHistory, findings: &mut Findings) -> Result<Observations, String> {
    debug_assert_eq!(history.kind, super::TxnKind::RwRegister);
    let n = history.txns.len();
    let writes = super::writes::index(history, "written")?;
    let mut obs = Observations::new(n);
    for (t, txn) in history.txns.iter().enumerate() {
        obs.member[t] = txn.outcome != Outcome::Fail;
    }
    // Known successions: (key, earlier value or INITIAL, later value).
    let mut succession: Vec<(u32, i64, i64)> = Vec::new();
    // External reads: (key, value read or INITIAL, reader).
    let mut external: Vec<(u32, i64, u32)> = Vec::new();
    for (t, txn) in history.txns.iter().enumerate() {
        let t32 = t as u32;
        let known = txn.outcome == Outcome::Ok;
        // Per key: the value this transaction last saw or wrote, and
        // whether it has written the key.
        let mut state: Vec<(u32, Option<i64>, bool)> = Vec::new();
        for (m, mop) in history.mops_of(t).iter().enumerate() {
            match *mop {
                Mop::Write { key, value } => {
                    match state.iter_mut().find(|s| s.0 == key) {
                        Some(s) => {
                            // Read v then wrote w (first write only): v directly before w.
                            if !s.2 && known {
                                succession.push((key, s.1.unwrap_or(INITIAL), value));
                            }
                            s.1 = Some(value);
                            s.2 = true;
                        }
                        None => state.push((key, Some(value), true)),
                    }
                }
                Mop::Read {
                    key,
                    value,
                    known: true,
                } if known => {
                    if let Some(s) = state.iter().find(|s| s.0 == key) {
                        // Internal: a read must return what this transaction last saw or wrote.
                        if s.2 || s.1.is_some() {
                            if value != s.1 {
                                findings.add(
                                    "internal",
                                    vec![t32],
                                    format!(
                                        "T{t} read key {} as {} but its own earlier micro-ops imply {}",
                                        history.keys[key as usize],
                                        show(value),
                                        show(s.1)
                                    ),
                                );
                            }
                            continue;
                        }
                    }
                    // External read.
                    let v = value.unwrap_or(INITIAL);
                    external.push((key, v, t32));
                    let from = match value {
                        None => Some(u32::MAX),
                        Some(value) => match writer(&writes, key, value) {
                            None => {
                                findings.add(
                                    "garbage-read",
                                    vec![t32],
                                    format!(
                                        "T{t} read key {} as {value}, which no transaction wrote",
                                        history.keys[key as usize]
                                    ),
                                );
                                None
                            }
                            Some(w) if w.txn == t32 => {
                                findings.add(
                                    "future-read",
                                    vec![t32],
                                    format!(
                                        "T{t} read key {} as {value}, which T{t} writes only later",
                                        history.keys[key as usize]
                                    ),
                                );
                                None
                            }
                            Some(w) => {
                                let wt = &history.txns[w.txn as usize];
                                if wt.outcome == Outcome::Fail {
                                    findings.add(
                                        "G1a",
                                        vec![t32, w.txn],
                                        format!(
                                            "T{t} read key {} as {value}, written by T{}, which failed (aborted)",
                                            history.keys[key as usize], w.txn
                                        ),
                                    );
                                    None
                                } else {
                                    if !w.last_in_txn {
                                        findings.add(
                                            "G1b",
                                            vec![t32, w.txn],
                                            format!(
                                                "T{t} read key {} as {value}, an intermediate write of T{} (it wrote the key again afterwards)",
                                                history.keys[key as usize], w.txn
                                            ),
                                        );
                                    }
                                    obs.edges.push(Edge {
                                        from: w.txn,
                                        to: t32,
                                        kind: WR,
                                        key,
                                        value,
                                        other: 0,
                                    });
                                    Some(w.txn)
                                }
                            }
                        },
                    };
                    if let Some(writer) = from {
                        obs.reads.push(ReadFrom {
                            reader: t32,
                            mop: m as u32,
                            key,
                            writer,
                        });
                    }
                    state.push((key, value, false));
                }
                _ => {}
            }
        }
        if txn.outcome != Outcome::Fail {
            for mop in history.mops_of(t) {
                if let Mop::Write { key, .. } = *mop {
                    obs.writes.push((t32, key));
                }
            }
        }
    }
    obs.writes.sort_unstable();
    obs.writes.dedup();
    // Version order: ww from each succession, rw from each reader of the
    // earlier version to the writer of the later one.
    succession.sort_unstable();
    succession.dedup();
    lost_updates(history, &writes, &succession, findings);
    external.sort_unstable();
    let mut ordered_versions = 0usize;
    for &(key, earlier, later) in &succession {
        let Some(w2) = writer(&writes, key, later) else {
            continue;
        };
        if !obs.member[w2.txn as usize] {
            continue;
        }
        ordered_versions += 1;
        if earlier != INITIAL {
            if let Some(w1) = writer(&writes, key, earlier) {
                if w1.txn != w2.txn && obs.member[w1.txn as usize] {
                    obs.edges.push(Edge {
                        from: w1.txn,
                        to: w2.txn,
                        kind: WW,
                        key,
                        value: earlier,
                        other: later,
                    });
                    obs.co.push((key, w1.txn, w2.txn));
                }
            }
        }
        let lo = external.partition_point(|r| (r.0, r.1) < (key, earlier));
        for r in external[lo..]
            .iter()
            .take_while(|r| r.0 == key && r.1 == earlier)
        {
            if r.2 != w2.txn {
                obs.edges.push(Edge {
                    from: r.2,
                    to: w2.txn,
                    kind: RW,
                    key,
                    value: later,
                    other: earlier,
                });
            }
        }
    }
    // Readers of the initial state come before every write of the key:
    // linked to the versions without a known predecessor, the others
    // follow those through ww.
    let mut has_predecessor: Vec<(u32, i64)> = succession
        .iter()
        .map(|&(key, _, later)| (key, later))
        .collect();
    has_predecessor.sort_unstable();
    let mut i = 0;
    while i < external.len() {
        let (key, v, _) = external[i];
        let j = external[i..]
            .iter()
            .position(|r| r.0 != key || r.1 != v)
            .map_or(external.len(), |p| i + p);
        if v == INITIAL {
            let lo = writes.partition_point(|w| w.key < key);
            for w in writes[lo..].iter().take_while(|w| w.key == key) {
                if !w.last_in_txn || !obs.member[w.txn as usize] {
                    continue;
                }
                if has_predecessor.binary_search(&(key, w.value)).is_ok()
                    && succession.binary_search(&(key, INITIAL, w.value)).is_err()
                {
                    continue;
                }
                for r in &external[i..j] {
                    if r.2 != w.txn {
                        obs.edges.push(Edge {
                            from: r.2,
                            to: w.txn,
                            kind: RW,
                            key,
                            value: w.value,
                            other: INITIAL,
                        });
                    }
                }
            }
        }
        i = j;
    }
    let final_versions = writes
        .iter()
        .filter(|w| w.last_in_txn && obs.member[w.txn as usize])
        .count();
    if final_versions > ordered_versions {
        obs.incomplete_order = true;
        obs.notes.push(format!(
            "version order: {ordered_versions} of {final_versions} written versions have a known predecessor (a transaction read the key, then wrote it); the order of the other {} is unknown, so ww and rw edges to them are missing and cycles through them cannot be seen",
            final_versions - ordered_versions
        ));
    }
    Ok(obs)
}

/// Two committed transactions that each read version v of a key and then
/// wrote it: both wrote "directly after v", so one of the writes was
/// lost (Berenson et al.'s P4). Snapshot isolation forbids it (first
/// committer wins), read committed allows it. Only committed readers
/// make successions, so both are committed.
fn lost_updates(
    history: &TxnHistory,
    writes: &[super::writes::Write],
    succession: &[(u32, i64, i64)],
    findings: &mut Findings,
) {
    let mut i = 0;
    while i < succession.len() {
        let (key, earlier, _) = succession[i];
        let j = succession[i..]
            .iter()
            .position(|s| (s.0, s.1) != (key, earlier))
            .map_or(succession.len(), |p| i + p);
        let writers: Vec<u32> = succession[i..j]
            .iter()
            .filter_map(|&(_, _, later)| writer(writes, key, later).map(|w| w.txn))
            .collect();
        if let [first, second, ..] = writers[..] {
            if first != second {
                findings.add(
                    "lost-update",
                    vec![first, second],
                    format!(
                        "T{first} and T{second} both read key {} as {} and then wrote it: one write overwrote the other unseen",
                        history.keys[key as usize],
                        if earlier == INITIAL {
                            "nil".to_string()
                        } else {
                            earlier.to_string()
                        }
                    ),
                );
            }
        }
        i = j;
    }
}

fn show(value: Option<i64>) -> String {
    value.map_or("nil".to_string(), |v| v.to_string())
}
