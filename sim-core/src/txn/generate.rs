//! Seeded transactional histories: for benchmarks, tests and teaching.
//!
//! `serial` runs transactions against an in-memory store: processes
//! invoke transactions at random moments, and each takes effect at its
//! completion, all at once. The history is therefore strict serializable
//! (each transaction's effect lies between its invocation and its
//! completion), and every anomaly a checker reports in it is a checker
//! bug. The writers turn a history into Jepsen EDN, JSON or the Plume text
//! format.
//!
//! Keys follow Jepsen's list-append generator: `keys` keys are active at a
//! time, a key is retired after `writes_per_key_max` appends and replaced
//! by a fresh one, so lists (and reads of them) stay short however long
//! the history.

use super::{Mop, Txn, TxnHistory, TxnKind};
use crate::history::Outcome;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Shape {
    pub kind: TxnKind,
    pub txns: usize,
    pub processes: usize,
    /// Keys active at a time.
    pub keys: usize,
    /// Micro-ops per transaction: 1..=this.
    pub mops_max: usize,
    /// Share of micro-ops that are reads, in percent.
    pub read_pct: u32,
    /// Appends (or writes) to a key before it is retired; 0: never.
    pub writes_per_key_max: u32,
    /// Zipf exponent of key popularity; 0: uniform.
    pub zipf: f64,
    /// End every key with a read of it, so every committed write is seen.
    pub final_reads: bool,
    /// Share of transactions that fail (abort), in percent; their writes
    /// take no effect.
    pub fail_pct: u32,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            kind: TxnKind::ListAppend,
            txns: 1000,
            processes: 10,
            keys: 1000,
            mops_max: 4,
            read_pct: 50,
            writes_per_key_max: 128,
            zipf: 0.0,
            final_reads: false,
            fail_pct: 0,
        }
    }
}

/// A strict-serializable history of `shape`, from `seed`.
pub fn serial(shape: &Shape, seed: u64) -> TxnHistory {
    assert!(shape.processes > 0 && shape.keys > 0 && shape.mops_max > 0);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut history = TxnHistory::new(shape.kind);
    // Active key slots: each holds a key id; retired keys get fresh ids.
    let mut slots: Vec<u32> = (0..shape.keys as u32).collect();
    let mut next_key = shape.keys as u32;
    // Store: per key id, its list (list-append) or last value.
    let mut lists: Vec<Vec<i64>> = vec![Vec::new(); shape.keys];
    let mut next_value: Vec<i64> = vec![1; shape.keys];
    let mut writes_to: Vec<u32> = vec![0; shape.keys];
    let zipf = (shape.zipf > 0.0)
        .then(|| rand_distr::Zipf::new(shape.keys as f64, shape.zipf).expect("valid zipf"));
    // Per process: the open transaction's planned micro-ops and invocation time.
    let mut open: Vec<Option<(Vec<(bool, u32)>, u64)>> = vec![None; shape.processes];
    let mut time = 0u64;
    let mut done = 0usize;
    let mut started = 0usize;
    while done < shape.txns {
        let p = rng.random_range(0..shape.processes);
        time += 1;
        match open[p].take() {
            None if started < shape.txns => {
                let n = rng.random_range(1..=shape.mops_max);
                let plan: Vec<(bool, u32)> = (0..n)
                    .map(|_| {
                        let slot = match &zipf {
                            Some(z) => (rng.sample(z) as usize - 1).min(shape.keys - 1),
                            None => rng.random_range(0..shape.keys),
                        };
                        (rng.random_range(0..100) < shape.read_pct, slot as u32)
                    })
                    .collect();
                open[p] = Some((plan, time));
                started += 1;
            }
            None => {}
            Some((plan, invoked)) => {
                let fail = rng.random_range(0..100) < shape.fail_pct;
                let start = history.mops.len() as u32;
                for (read, slot) in plan {
                    let key = slots[slot as usize];
                    let k = key as usize;
                    if k >= lists.len() {
                        lists.resize(k + 1, Vec::new());
                        next_value.resize(k + 1, 1);
                        writes_to.resize(k + 1, 0);
                    }
                    push_mop(
                        &mut history,
                        shape.kind,
                        read,
                        key,
                        &mut lists[k],
                        &mut next_value[k],
                        fail,
                    );
                    if !read && !fail {
                        writes_to[k] += 1;
                        if shape.writes_per_key_max > 0 && writes_to[k] >= shape.writes_per_key_max
                        {
                            slots[slot as usize] = next_key;
                            next_key += 1;
                        }
                    }
                }
                history.push_txn(Txn {
                    process: p as u64,
                    outcome: if fail { Outcome::Fail } else { Outcome::Ok },
                    invoke_ns: invoked,
                    complete_ns: Some(time),
                    mops_start: start,
                    mops_len: history.mops.len() as u32 - start,
                    line: 0,
                });
                done += 1;
            }
        }
    }
    if shape.final_reads {
        for key in 0..next_key {
            let k = key as usize;
            if k >= lists.len() {
                continue;
            }
            time += 1;
            let start = history.mops.len() as u32;
            push_mop(
                &mut history,
                shape.kind,
                true,
                key,
                &mut lists[k],
                &mut next_value[k],
                false,
            );
            history.push_txn(Txn {
                process: shape.processes as u64,
                outcome: Outcome::Ok,
                invoke_ns: time,
                complete_ns: Some(time + 1),
                mops_start: start,
                mops_len: 1,
                line: 0,
            });
            time += 1;
        }
    }
    history.keys = (0..next_key).map(|k| k.to_string()).collect();
    // Transactions in invocation order, as histories are.
    sort_by_invocation(&mut history);
    history
}

fn push_mop(
    history: &mut TxnHistory,
    kind: TxnKind,
    read: bool,
    key: u32,
    list: &mut Vec<i64>,
    next: &mut i64,
    fail: bool,
) {
    match (kind, read) {
        (TxnKind::ListAppend, true) => {
            let start = history.elements.len() as u32;
            history.elements.extend_from_slice(list);
            history.mops.push(Mop::ReadList {
                key,
                start,
                len: list.len() as u32,
                known: !fail,
            });
        }
        (TxnKind::ListAppend, false) => {
            let value = *next;
            *next += 1;
            if !fail {
                list.push(value);
            }
            history.mops.push(Mop::Append { key, value });
        }
        (TxnKind::RwRegister, true) => history.mops.push(Mop::Read {
            key,
            value: list.last().copied(),
            known: !fail,
        }),
        (TxnKind::RwRegister, false) => {
            let value = *next;
            *next += 1;
            if !fail {
                list.push(value);
            }
            history.mops.push(Mop::Write { key, value });
        }
    }
}

/// Makes `percent` of the successful transactions' first list read stale:
/// it loses its last element, as a read from a lagging replica would.
/// The history is then no longer strict serializable (a teaching example,
/// and the worst case of the cycle search: one giant component).
pub fn stale_reads(history: &mut TxnHistory, percent: u32, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5741_4c45);
    for t in 0..history.txns.len() {
        if history.txns[t].outcome != Outcome::Ok || rng.random_range(0..100) >= percent {
            continue;
        }
        let range = history.txns[t].mops_start as usize
            ..(history.txns[t].mops_start + history.txns[t].mops_len) as usize;
        for m in range {
            if let Mop::ReadList {
                key,
                start,
                len,
                known,
            } = history.mops[m]
            {
                if len > 0 {
                    history.mops[m] = Mop::ReadList {
                        key,
                        start,
                        len: len - 1,
                        known,
                    };
                }
                break;
            }
        }
    }
}

/// Reorders transactions by invocation time, keeping their micro-ops.
pub fn sort_by_invocation(history: &mut TxnHistory) {
    history.txns.sort_by_key(|t| t.invoke_ns);
}

/// Jepsen EDN: an invocation and a completion line per transaction, in
/// time order.
pub fn write_edn(history: &TxnHistory) -> String {
    let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(history.txns.len() * 2);
    for (i, t) in history.txns.iter().enumerate() {
        events.push((t.invoke_ns, false, i));
        events.push((t.complete_ns.unwrap_or(u64::MAX), true, i));
    }
    events.sort_unstable();
    let mut out = String::with_capacity(history.mops.len() * 40);
    for (_, completion, i) in events {
        let t = &history.txns[i];
        if completion && t.complete_ns.is_none() {
            continue;
        }
        let kind = match (completion, t.outcome) {
            (false, _) => "invoke",
            (true, Outcome::Ok) => "ok",
            (true, Outcome::Fail) => "fail",
            (true, Outcome::Info) => "info",
        };
        let known = completion && t.outcome == Outcome::Ok;
        let _ = write!(
            out,
            "{{:type :{kind}, :f :txn, :process {}, :value [",
            t.process
        );
        for (j, mop) in history.mops_of(i).iter().enumerate() {
            if j > 0 {
                out.push(' ');
            }
            let key = &history.keys[mop.key() as usize];
            match *mop {
                Mop::Append { value, .. } => {
                    let _ = write!(out, "[:append {key} {value}]");
                }
                Mop::Write { value, .. } => {
                    let _ = write!(out, "[:w {key} {value}]");
                }
                Mop::ReadList { start, len, .. } => {
                    if known {
                        let _ = write!(out, "[:r {key} [");
                        for (x, v) in history.list(start, len).iter().enumerate() {
                            if x > 0 {
                                out.push(' ');
                            }
                            let _ = write!(out, "{v}");
                        }
                        out.push_str("]]");
                    } else {
                        let _ = write!(out, "[:r {key} nil]");
                    }
                }
                Mop::Read { value, .. } => match (known, value) {
                    (true, Some(v)) => {
                        let _ = write!(out, "[:r {key} {v}]");
                    }
                    _ => {
                        let _ = write!(out, "[:r {key} nil]");
                    }
                },
            }
        }
        out.push_str("]}\n");
    }
    out
}

/// The Plume text format: one micro-op per line; failed transactions'
/// writes with txn −1, their reads left out.
pub fn write_plume(history: &TxnHistory) -> String {
    let mut out = String::with_capacity(history.mops.len() * 20);
    for (i, t) in history.txns.iter().enumerate() {
        let failed = t.outcome != Outcome::Ok;
        for mop in history.mops_of(i) {
            let key = &history.keys[mop.key() as usize];
            match *mop {
                Mop::Write { value, .. } => {
                    let txn = if failed { -1 } else { i as i64 };
                    let _ = writeln!(out, "w({key},{value},{},{txn})", t.process);
                }
                Mop::Read { value, .. } if !failed => {
                    let _ = writeln!(out, "r({key},{},{},{i})", value.unwrap_or(0), t.process);
                }
                _ => {}
            }
        }
    }
    out
}
