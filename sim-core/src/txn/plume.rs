//! The Plume text format, shared by Plume, PolySI and AWDIT for key-value
//! transaction histories: one micro-op per line,
//!
//! ```text
//! w(key,value,session,txn)
//! r(key,value,session,txn)
//! ```
//!
//! all integers. A transaction's micro-ops are the lines with its
//! (session, txn) pair, in file order; a session's transactions run in the
//! order they first appear. Txn −1 marks a write of an aborted
//! transaction (each such line is one failed transaction). Every key
//! starts at 0, so a read of 0 reads the initial state. The format records
//! no times, so there is no real-time order: strict serializability is
//! not judged.
//!
//! Parsing is a single pass over the bytes (no allocation per line), since
//! these histories run to millions of lines.

use super::{KeyInterner, Mop, Txn, TxnHistory, TxnKind, MOPS_MAX, TXNS_MAX};
use crate::history::history_error::HistoryError;
use crate::history::Outcome;
use std::collections::BTreeMap;

/// Whether `text` looks like a Plume history: its first meaningful line
/// is `r(` or `w(`.
pub fn looks_like(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .is_some_and(|l| (l.starts_with("r(") || l.starts_with("w(")) && l.ends_with(')'))
}

pub fn parse(text: &str, file: &str) -> Result<TxnHistory, HistoryError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut history = TxnHistory::new(TxnKind::RwRegister);
    history.has_realtime = false;
    let mut keys = KeyInterner::default();
    // Key names are integers: intern through a dense table when small.
    let mut key_ids: BTreeMap<i64, u32> = BTreeMap::new();
    // (session, txn) -> the transaction's micro-ops, in order.
    let mut txn_of: BTreeMap<(i64, i64), usize> = BTreeMap::new();
    struct Pending {
        session: i64,
        mops: Vec<Mop>,
        line: usize,
        aborted: bool,
    }
    let mut pending: Vec<Pending> = Vec::new();
    let mut count = 0usize;
    let mut last: Option<((i64, i64), usize)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |why: &str| {
            HistoryError::at(
                file,
                line_no,
                format!("{why}: expected r(key,value,session,txn) or w(key,value,session,txn) with integers, got `{}`", short(line)),
            )
        };
        let (is_write, rest) = if let Some(rest) = line.strip_prefix("w(") {
            (true, rest)
        } else if let Some(rest) = line.strip_prefix("r(") {
            (false, rest)
        } else {
            return Err(bad("unknown micro-op"));
        };
        let Some(body) = rest.strip_suffix(')') else {
            return Err(bad("missing `)`"));
        };
        let mut fields = [0i64; 4];
        let mut parts = body.split(',');
        for (i, name) in ["key", "value", "session", "txn"].iter().enumerate() {
            let part = parts
                .next()
                .ok_or_else(|| bad(&format!("missing field `{name}`")))?;
            fields[i] = part
                .trim()
                .parse()
                .map_err(|_| bad(&format!("field `{name}` is not an integer")))?;
        }
        if parts.next().is_some() {
            return Err(bad("more than four fields"));
        }
        count += 1;
        if count > MOPS_MAX {
            return Err(HistoryError::whole(
                file,
                format!("more than {MOPS_MAX} micro-ops"),
            ));
        }
        let [key, value, session, txn] = fields;
        let key = match key_ids.get(&key) {
            Some(&k) => k,
            None => {
                let k = keys.intern(&mut history, &key.to_string());
                key_ids.insert(key, k);
                k
            }
        };
        let mop = if is_write {
            Mop::Write { key, value }
        } else {
            Mop::Read {
                key,
                value: (value != 0).then_some(value),
                known: true,
            }
        };
        if txn == -1 {
            if !is_write {
                return Err(bad(
                    "txn -1 marks an aborted write; a read cannot be aborted",
                ));
            }
            pending.push(Pending {
                session,
                mops: vec![mop],
                line: line_no,
                aborted: true,
            });
            continue;
        }
        if let Some((id, index)) = last {
            if id == (session, txn) {
                pending[index].mops.push(mop);
                continue;
            }
        }
        let index = *txn_of.entry((session, txn)).or_insert_with(|| {
            pending.push(Pending {
                session,
                mops: Vec::new(),
                line: line_no,
                aborted: false,
            });
            pending.len() - 1
        });
        pending[index].mops.push(mop);
        last = Some(((session, txn), index));
        if pending.len() > TXNS_MAX {
            return Err(HistoryError::whole(
                file,
                format!("more than {TXNS_MAX} transactions"),
            ));
        }
    }
    if pending.is_empty() {
        return Err(HistoryError::whole(
            file,
            "no operations: the file holds no micro-op to check",
        ));
    }
    let mut sessions: Vec<i64> = pending.iter().map(|p| p.session).collect();
    sessions.sort_unstable();
    sessions.dedup();
    for (i, p) in pending.into_iter().enumerate() {
        let start = history.mops.len() as u32;
        let len = p.mops.len() as u32;
        history.mops.extend(p.mops);
        let process = sessions.binary_search(&p.session).expect("collected") as u64;
        history.push_txn(Txn {
            process,
            outcome: if p.aborted {
                Outcome::Fail
            } else {
                Outcome::Ok
            },
            invoke_ns: 2 * i as u64,
            complete_ns: Some(2 * i as u64 + 1),
            mops_start: start,
            mops_len: len,
            line: p.line.min(u32::MAX as usize) as u32,
        });
    }
    history.process_names = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| (i as u64, format!("session {s}")))
        .collect();
    Ok(history)
}

fn short(line: &str) -> &str {
    let mut end = line.len().min(80);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}
