//! Every write of a history (an append or a register write), by key and
//! value: which transaction wrote it, and whether it was that
//! transaction's last write to the key. Both datatypes need each written
//! value unique per key, and find a read's writer here.

use super::{Mop, TxnHistory};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Write {
    pub key: u32,
    pub value: i64,
    pub txn: u32,
    pub last_in_txn: bool,
}

/// The writes, sorted by (key, value); an error names a value written
/// twice to one key (`what`: "appended" or "written").
pub fn index(history: &TxnHistory, what: &str) -> Result<Vec<Write>, String> {
    let mut writes: Vec<Write> = Vec::new();
    for t in 0..history.txns.len() {
        let mops = history.mops_of(t);
        for (i, mop) in mops.iter().enumerate() {
            let (Mop::Append { key, value } | Mop::Write { key, value }) = *mop else {
                continue;
            };
            let last = !mops[i + 1..].iter().any(|m| m.is_write() && m.key() == key);
            writes.push(Write {
                key,
                value,
                txn: t as u32,
                last_in_txn: last,
            });
        }
    }
    writes.sort_unstable();
    for pair in writes.windows(2) {
        if pair[0].key == pair[1].key && pair[0].value == pair[1].value {
            let (a, b) = (
                &history.txns[pair[0].txn as usize],
                &history.txns[pair[1].txn as usize],
            );
            return Err(format!(
                "line {}: value {} is {what} to key {} twice (also on line {}); {} needs each {what} value unique per key",
                b.line,
                pair[0].value,
                history.keys[pair[0].key as usize],
                a.line,
                history.kind.name()
            ));
        }
    }
    Ok(writes)
}

/// The write of `value` to `key`, if any.
pub fn writer(writes: &[Write], key: u32, value: i64) -> Option<&Write> {
    let at = writes.partition_point(|w| (w.key, w.value) < (key, value));
    writes.get(at).filter(|w| w.key == key && w.value == value)
}
