//! List-append: each key's version order is the longest read of it, every
//! other read must be a prefix of that one, and the order gives every
//! dependency (Elle, section 4).
//!
//! Indeterminate transactions (`:info`) may or may not have committed. As
//! Elle does, their appends count once a read observes them (they
//! committed), and they are nodes of the graph without outgoing realtime
//! edges (they may have committed at any later time); their reads are
//! unknown and infer nothing. Failed transactions (`:fail`) did not
//! commit: a read that observes one of their appends is G1a.

use super::graph::{Edge, INITIAL, RW, WR, WW};
use super::observations::{Findings, Observations, ReadFrom};
use super::{Mop, TxnHistory};
use crate::history::Outcome;

/// One append: which transaction wrote `value` to `key`, and whether it
/// was that transaction's last append to the key.
use super::writes::{writer, Write};

/// Infers the version orders, the edges and the anomalies that are not
/// cycles. Errors: a value appended twice to one key (the model needs
/// unique values).
pub fn analyse(history: &TxnHistory, findings: &mut Findings) -> Result<Observations, String> {
    debug_assert_eq!(history.kind, super::TxnKind::ListAppend);
    let n = history.txns.len();
    let writes = super::writes::index(history, "appended")?;
    // Every known read, with where its list lies: (key, len, txn, start, mop index).
    let mut reads: Vec<(u32, u32, u32, u32)> = Vec::new();
    for (t, txn) in history.txns.iter().enumerate() {
        if txn.outcome != Outcome::Ok {
            continue;
        }
        for mop in history.mops_of(t) {
            if let Mop::ReadList {
                key,
                start,
                len,
                known: true,
            } = *mop
            {
                reads.push((key, len, t as u32, start));
            }
        }
    }
    // Per key, the longest read; ties keep the first.
    reads.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    // order[key] = (start, len) of its longest read.
    let mut order: Vec<(u32, u32)> = vec![(0, 0); history.keys.len()];
    let mut i = 0;
    while i < reads.len() {
        let key = reads[i].0;
        let (_, len, longest_txn, start) = reads[i];
        order[key as usize] = (start, len);
        let longest = history.list(start, len);
        let mut j = i;
        while j < reads.len() && reads[j].0 == key {
            let (_, l, t, s) = reads[j];
            let read = history.list(s, l);
            if read != &longest[..l as usize] {
                let at = read
                    .iter()
                    .zip(longest)
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                findings.add(
                    "incompatible-order",
                    vec![t, longest_txn],
                    format!(
                        "key {}: T{t} read {:?} but T{longest_txn} read {:?}; they differ at position {at}, so no single order of appends gives both",
                        history.keys[key as usize],
                        read,
                        longest
                    ),
                );
            }
            j += 1;
        }
        i = j;
    }
    let mut obs = Observations::new(n);
    for (t, txn) in history.txns.iter().enumerate() {
        // A failed transaction committed nothing; an unknown one may have.
        obs.member[t] = txn.outcome != Outcome::Fail;
    }
    // Per key, from its longest read: where the first repeated element and
    // the first element of a failed append sit. A read that is a prefix of
    // the longest holds either exactly when it reaches that far, so most
    // reads need no scan of their own.
    let mut first_dup: Vec<u32> = vec![u32::MAX; history.keys.len()];
    let mut first_aborted: Vec<u32> = vec![u32::MAX; history.keys.len()];
    for (key, &(start, len)) in order.iter().enumerate() {
        let list = history.list(start, len);
        if list.len() > 1 {
            let mut sorted: Vec<(i64, u32)> = list
                .iter()
                .enumerate()
                .map(|(i, &v)| (v, i as u32))
                .collect();
            sorted.sort_unstable();
            for w in sorted.windows(2) {
                if w[0].0 == w[1].0 {
                    first_dup[key] = first_dup[key].min(w[1].1.max(w[0].1));
                }
            }
        }
        for (pos, &v) in list.iter().enumerate() {
            if writer(&writes, key as u32, v)
                .is_some_and(|w| history.txns[w.txn as usize].outcome == Outcome::Fail)
            {
                first_aborted[key] = pos as u32;
                break;
            }
        }
    }
    // Version orders: ww edges, garbage, G1a in the order, dirty updates.
    for (key, &(start, len)) in order.iter().enumerate() {
        let key = key as u32;
        let list = history.list(start, len);
        let mut prev: Option<&Write> = None;
        let mut aborted_before: Option<i64> = None;
        for (pos, &value) in list.iter().enumerate() {
            let Some(w) = writer(&writes, key, value) else {
                findings.add(
                    "garbage-read",
                    vec![],
                    format!(
                        "key {}: {value} was read (position {pos}) but no transaction appended it",
                        history.keys[key as usize]
                    ),
                );
                prev = None;
                continue;
            };
            let outcome = history.txns[w.txn as usize].outcome;
            if outcome == Outcome::Fail {
                aborted_before.get_or_insert(value);
            } else if let Some(aborted) = aborted_before {
                findings.add(
                    "dirty-update",
                    vec![w.txn],
                    format!(
                        "key {}: T{} appended {value} after {aborted}, which an aborted transaction appended: a committed write built on an aborted one",
                        history.keys[key as usize], w.txn
                    ),
                );
                aborted_before = None;
            }
            if let Some(p) = prev {
                if p.txn != w.txn {
                    obs.edges.push(Edge {
                        from: p.txn,
                        to: w.txn,
                        kind: WW,
                        key,
                        value: p.value,
                        other: value,
                    });
                    obs.co.push((key, p.txn, w.txn));
                }
            }
            prev = Some(w);
        }
    }
    // Appends no read saw, by committed transactions: they came after
    // every read of their key, and the reads of the longest list (which
    // every other read precedes through rw, ww and wr) are linked to them.
    for (key, &(start, len)) in order.iter().enumerate() {
        let key = key as u32;
        let list = history.list(start, len);
        let lo = writes.partition_point(|w| w.key < key);
        let mut unread: Vec<&Write> = Vec::new();
        let mut seen = list.to_vec();
        seen.sort_unstable();
        for w in writes[lo..].iter().take_while(|w| w.key == key) {
            if history.txns[w.txn as usize].outcome == Outcome::Ok
                && seen.binary_search(&w.value).is_err()
            {
                unread.push(w);
            }
        }
        if unread.is_empty() {
            continue;
        }
        let rlo = reads.partition_point(|r| r.0 < key);
        for r in reads[rlo..].iter().take_while(|r| r.0 == key && r.1 == len) {
            for w in &unread {
                if w.txn != r.2 {
                    obs.edges.push(Edge {
                        from: r.2,
                        to: w.txn,
                        kind: RW,
                        key,
                        value: w.value,
                        other: list.last().copied().unwrap_or(INITIAL),
                    });
                }
            }
        }
    }
    // Reads: G1a, G1b, internal consistency, and the wr and rw edges.
    for (t, txn) in history.txns.iter().enumerate() {
        if txn.outcome != Outcome::Ok {
            continue;
        }
        let t32 = t as u32;
        let mops = history.mops_of(t);
        // Per key touched: (the last read's list, appends since).
        let mut state: Vec<(u32, Option<(u32, u32)>, Vec<i64>)> = Vec::new();
        for (m, mop) in mops.iter().enumerate() {
            match *mop {
                Mop::Append { key, value } => match state.iter_mut().find(|s| s.0 == key) {
                    Some(s) => s.2.push(value),
                    None => state.push((key, None, vec![value])),
                },
                Mop::ReadList {
                    key,
                    start,
                    len,
                    known: true,
                } => {
                    let list = history.list(start, len);
                    let (ostart, olen) = order[key as usize];
                    let full = history.list(ostart, olen);
                    let prefix = list.len() <= full.len() && full[..list.len()] == *list;
                    let entry = state.iter().position(|s| s.0 == key);
                    let external = entry.is_none();
                    // Internal consistency.
                    if let Some(e) = entry {
                        let (_, known, appended) = &state[e];
                        let prior = known.map(|(s, l)| history.list(s, l));
                        let ok = match prior {
                            Some(prior) => {
                                list.len() == prior.len() + appended.len()
                                    && list[..prior.len()] == *prior
                                    && list[prior.len()..] == appended[..]
                            }
                            None => list.ends_with(appended),
                        };
                        if !ok {
                            let expected = match prior {
                                Some(prior) => format!(
                                    "{:?}",
                                    prior.iter().chain(appended).collect::<Vec<_>>()
                                ),
                                None => format!("a list ending in {appended:?}"),
                            };
                            findings.add(
                                "internal",
                                vec![t32],
                                format!(
                                    "T{t} read key {} as {list:?} but its own earlier micro-ops imply {expected}",
                                    history.keys[key as usize]
                                ),
                            );
                        }
                    }
                    // Duplicates.
                    let duplicated = if prefix {
                        (first_dup[key as usize] < len)
                            .then(|| full[first_dup[key as usize] as usize])
                    } else {
                        let mut sorted = list.to_vec();
                        sorted.sort_unstable();
                        sorted.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
                    };
                    if let Some(v) = duplicated {
                        findings.add(
                            "duplicate-elements",
                            vec![t32],
                            format!(
                                "T{t} read key {} as {:?}: {v} appears more than once",
                                history.keys[key as usize], list
                            ),
                        );
                    }
                    // G1a: what it saw from failed transactions.
                    let aborted = if prefix {
                        (first_aborted[key as usize] < len)
                            .then(|| full[first_aborted[key as usize] as usize])
                    } else {
                        list.iter().copied().find(|&v| {
                            writer(&writes, key, v).is_some_and(|w| {
                                w.txn != t32
                                    && history.txns[w.txn as usize].outcome == Outcome::Fail
                            })
                        })
                    };
                    if let Some(value) = aborted {
                        let w = writer(&writes, key, value).expect("a failed append");
                        findings.add(
                            "G1a",
                            vec![t32, w.txn],
                            format!(
                                "T{t} read key {} as {list:?}, which holds {value}, appended by T{}, which failed (aborted)",
                                history.keys[key as usize], w.txn
                            ),
                        );
                    }
                    if let Some(&last) = list.last() {
                        if let Some(w) = writer(&writes, key, last) {
                            if w.txn != t32 && !w.last_in_txn {
                                findings.add(
                                    "G1b",
                                    vec![t32, w.txn],
                                    format!(
                                        "T{t} read key {} ending in {last}, an intermediate append of T{} (it appended more to that key afterwards)",
                                        history.keys[key as usize], w.txn
                                    ),
                                );
                            }
                        }
                    }
                    if external {
                        // A read before the transaction's own appends to the
                        // key cannot hold them.
                        let own_later: Vec<i64> = mops[m + 1..]
                            .iter()
                            .filter_map(|x| match *x {
                                Mop::Append { key: k, value } if k == key => Some(value),
                                _ => None,
                            })
                            .collect();
                        if let Some(&v) = list.iter().find(|v| own_later.contains(v)) {
                            findings.add(
                                "future-read",
                                vec![t32],
                                format!(
                                    "T{t} read key {} as {list:?}, which holds {v}, an append T{t} makes only later",
                                    history.keys[key as usize]
                                ),
                            );
                        }
                        if prefix {
                            edges_of_read(history, &writes, &order, t32, key, list, m, &mut obs);
                        }
                    }
                    match state.iter_mut().find(|s| s.0 == key) {
                        Some(s) => {
                            s.1 = Some((start, len));
                            s.2.clear();
                        }
                        None => state.push((key, Some((start, len)), Vec::new())),
                    }
                }
                _ => {}
            }
        }
        // Writes for the saturation checks.
        for mop in history.mops_of(t) {
            if let Mop::Append { key, .. } = *mop {
                obs.writes.push((t32, key));
            }
        }
    }
    for (t, txn) in history.txns.iter().enumerate() {
        if txn.outcome == Outcome::Info {
            for mop in history.mops_of(t) {
                if let Mop::Append { key, .. } = *mop {
                    obs.writes.push((t as u32, key));
                }
            }
        }
    }
    obs.writes.sort_unstable();
    obs.writes.dedup();
    Ok(obs)
}

/// The wr edge from the writer of the last element a read saw, and the rw
/// edge to the writer of the version after it.
#[allow(clippy::too_many_arguments)]
fn edges_of_read(
    history: &TxnHistory,
    writes: &[Write],
    order: &[(u32, u32)],
    t: u32,
    key: u32,
    list: &[i64],
    mop: usize,
    obs: &mut Observations,
) {
    let (start, len) = order[key as usize];
    let full = history.list(start, len);
    if list.len() > full.len() || full[..list.len()] != *list {
        return; // incompatible: reported, infers nothing
    }
    let from = match list.last() {
        Some(&last) => match writer(writes, key, last) {
            Some(w) if history.txns[w.txn as usize].outcome != Outcome::Fail => {
                if w.txn != t {
                    obs.edges.push(Edge {
                        from: w.txn,
                        to: t,
                        kind: WR,
                        key,
                        value: last,
                        other: 0,
                    });
                }
                Some(w.txn)
            }
            _ => None,
        },
        None => Some(u32::MAX),
    };
    if let Some(from) = from {
        obs.reads.push(ReadFrom {
            reader: t,
            key,
            writer: from,
            mop: mop as u32,
        });
    }
    if list.len() < full.len() {
        let next = full[list.len()];
        if let Some(w) = writer(writes, key, next) {
            if w.txn != t && history.txns[w.txn as usize].outcome != Outcome::Fail {
                obs.edges.push(Edge {
                    from: t,
                    to: w.txn,
                    kind: RW,
                    key,
                    value: next,
                    other: list.last().copied().unwrap_or(INITIAL),
                });
            }
        }
    }
}
