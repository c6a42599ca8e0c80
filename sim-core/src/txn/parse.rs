//! Transactions from Jepsen's `:txn` operations (EDN or JSON) and from
//! faultline's own JSON lines.
//!
//! A Jepsen transaction's value is a vector of micro-ops: `[:append k v]`
//! and `[:r k [v ...]]` (list-append), or `[:w k v]` and `[:r k v]`
//! (rw-register). An `:ok` completion carries the reads' results; an
//! `:info` or `:fail` one does not, so its reads are unknown. Keys may be
//! integers, strings or keywords; values must be integers.
//!
//! faultline's JSON lines (`history.jsonl`) carry a transaction as
//! `{"process": 3, "f": "txn", "value": "[[:append k7 3] [:r k7 [1 3]]]",
//!   "outcome": "ok", "invoke_ns": 100, "complete_ns": 250}` (the micro-ops
//! in Jepsen's notation, as a simulated run records them), or with the
//! micro-ops as JSON: `"txn": [["append", "k7", 3], ["r", "k7", [1, 3]]]`
//! (documented in scenarios/README.md, "Transactional histories").

use super::{KeyInterner, Mop, Txn, TxnHistory, TxnKind, MOPS_MAX, TXNS_MAX};
use crate::history::edn::Edn;
use crate::history::history_error::HistoryError;
use crate::history::jepsen::{short, JepsenOp};
use crate::history::Outcome;

/// Builds a transactional history from paired Jepsen operations. `kind`
/// is the model asked for; `None` infers it from the micro-ops. Every
/// operation must be a `:txn`; a history mixing appends and writes is an
/// error.
pub fn from_jepsen(
    ops: &[JepsenOp],
    kind: Option<TxnKind>,
    file: &str,
) -> Result<TxnHistory, HistoryError> {
    let kind = match kind {
        Some(kind) => kind,
        None => infer_kind(ops, file)?,
    };
    let mut builder = Builder::new(kind);
    for op in ops {
        builder.push(op, file)?;
    }
    Ok(builder.finish())
}

/// Builds a history one operation at a time, in any order (the result is
/// sorted by invocation), so a reader can stream a file through it.
pub struct Builder {
    history: TxnHistory,
    keys: KeyInterner,
}

impl Builder {
    pub fn new(kind: TxnKind) -> Builder {
        Builder {
            history: TxnHistory::new(kind),
            keys: KeyInterner::default(),
        }
    }

    pub fn push(&mut self, op: &JepsenOp, file: &str) -> Result<(), HistoryError> {
        let kind = self.history.kind;
        let history = &mut self.history;
        let keys = &mut self.keys;
        if op.f != "txn" {
            return Err(HistoryError::at(
                file,
                op.line,
                format!(
                    "field `f`: :{} is not a transaction; the {} model reads only :f :txn operations (is this a history of another model? see `faultline list`)",
                    op.f,
                    kind.name()
                ),
            ));
        }
        if history.txns.len() >= TXNS_MAX {
            return Err(HistoryError::whole(
                file,
                format!("more than {TXNS_MAX} transactions"),
            ));
        }
        let known = op.outcome == Outcome::Ok;
        let value = if known {
            &op.complete_value
        } else {
            &op.invoke_value
        };
        let value = if known && matches!(value, Edn::Nil) {
            &op.invoke_value
        } else {
            value
        };
        let (Edn::Vector(items) | Edn::List(items)) = value else {
            return Err(HistoryError::at(
                file,
                op.line,
                format!(
                    "field `value`: a transaction is a vector of micro-ops such as [[:append 1 2] [:r 1 nil]], got {}",
                    short(value)
                ),
            ));
        };
        let start = history.mops.len() as u32;
        for (index, item) in items.iter().enumerate() {
            let mop = micro_op(history, keys, item, kind, known).map_err(|why| {
                HistoryError::at(
                    file,
                    op.line,
                    format!("field `value`, micro-op {}: {why}", index + 1),
                )
            })?;
            if history.mops.len() >= MOPS_MAX {
                return Err(HistoryError::whole(
                    file,
                    format!("more than {MOPS_MAX} micro-ops"),
                ));
            }
            history.mops.push(mop);
        }
        history.push_txn(Txn {
            process: op.process,
            outcome: op.outcome,
            invoke_ns: op.invoke_ns,
            complete_ns: op.complete_ns,
            mops_start: start,
            mops_len: history.mops.len() as u32 - start,
            line: op.line.min(u32::MAX as usize) as u32,
        });
        Ok(())
    }

    /// The history, its transactions in invocation order.
    pub fn finish(mut self) -> TxnHistory {
        self.history.txns.sort_by_key(|t| t.invoke_ns);
        self.history
    }
}

/// The model the micro-ops imply: appends or list reads say list-append,
/// writes or integer reads say rw-register.
fn infer_kind(ops: &[JepsenOp], file: &str) -> Result<TxnKind, HistoryError> {
    let mut seen: Option<(TxnKind, usize)> = None;
    for op in ops {
        let (Edn::Vector(items) | Edn::List(items)) = op.value() else {
            continue;
        };
        for item in items {
            let (Edn::Vector(parts) | Edn::List(parts)) = item else {
                continue;
            };
            let this = match (parts.first(), parts.get(2)) {
                (Some(Edn::Keyword(f)), _) if f == "append" => Some(TxnKind::ListAppend),
                (Some(Edn::Keyword(f)), _) if f == "w" => Some(TxnKind::RwRegister),
                (Some(Edn::Keyword(f)), Some(Edn::Vector(_))) if f == "r" => {
                    Some(TxnKind::ListAppend)
                }
                (Some(Edn::Keyword(f)), Some(Edn::Int(_))) if f == "r" => Some(TxnKind::RwRegister),
                _ => None,
            };
            match (this, seen) {
                (Some(kind), None) => seen = Some((kind, op.line)),
                (Some(kind), Some((first, line))) if kind != first => {
                    return Err(HistoryError::at(
                        file,
                        op.line,
                        format!(
                            "this transaction is {} but line {line} is {}: a history mixes models (give --model to say which it is)",
                            kind.name(),
                            first.name()
                        ),
                    ))
                }
                _ => {}
            }
        }
    }
    Ok(seen.map_or(TxnKind::ListAppend, |(kind, _)| kind))
}

fn key_name(edn: &Edn) -> Result<String, String> {
    match edn {
        Edn::Int(k) => Ok(k.to_string()),
        Edn::Str(s) => Ok(s.clone()),
        Edn::Keyword(k) => Ok(format!(":{k}")),
        Edn::Symbol(s) => Ok(s.clone()),
        other => Err(format!(
            "a key is an integer or a string, got {}",
            short(other)
        )),
    }
}

fn int(edn: &Edn, what: &str) -> Result<i64, String> {
    match edn {
        Edn::Int(v) => Ok(*v),
        other => Err(format!("{what} must be an integer, got {}", short(other))),
    }
}

fn micro_op(
    history: &mut TxnHistory,
    keys: &mut KeyInterner,
    item: &Edn,
    kind: TxnKind,
    known: bool,
) -> Result<Mop, String> {
    let (Edn::Vector(parts) | Edn::List(parts)) = item else {
        return Err(format!("expected [:f key value], got {}", short(item)));
    };
    if parts.len() != 3 {
        return Err(format!(
            "expected three parts [:f key value], got {}",
            short(item)
        ));
    }
    let f = match &parts[0] {
        Edn::Keyword(f) => f.as_str(),
        other => {
            return Err(format!(
                "the function is :append, :r or :w, got {}",
                short(other)
            ))
        }
    };
    let key_text = key_name(&parts[1])?;
    let key = keys.intern(history, &key_text);
    match (kind, f) {
        (TxnKind::ListAppend, "append") => Ok(Mop::Append {
            key,
            value: int(&parts[2], "an appended value")?,
        }),
        (TxnKind::ListAppend, "r") => {
            let start = history.elements.len() as u32;
            match (&parts[2], known) {
                (Edn::Vector(values) | Edn::List(values), true) => {
                    for v in values {
                        history.elements.push(int(v, "a list element")?);
                    }
                }
                (Edn::Nil, true) => {
                    return Err(
                        "an :ok transaction's read needs its list ([] for an empty one), got nil"
                            .into(),
                    )
                }
                (_, false) => {}
                (other, true) => {
                    return Err(format!(
                        "a list-append read returns a vector, got {}",
                        short(other)
                    ))
                }
            }
            Ok(Mop::ReadList {
                key,
                start,
                len: history.elements.len() as u32 - start,
                known,
            })
        }
        (TxnKind::RwRegister, "w") => Ok(Mop::Write {
            key,
            value: int(&parts[2], "a written value")?,
        }),
        (TxnKind::RwRegister, "r") => {
            let value = match (&parts[2], known) {
                (Edn::Nil, _) | (_, false) => None,
                (v, true) => Some(int(v, "a read value")?),
            };
            Ok(Mop::Read { key, value, known })
        }
        (TxnKind::ListAppend, other) => Err(format!(
            ":{other} is not a list-append micro-op (:append or :r); a history mixing models?"
        )),
        (TxnKind::RwRegister, other) => Err(format!(
            ":{other} is not an rw-register micro-op (:w or :r); a history mixing models?"
        )),
    }
}

/// faultline's JSON lines with transactions: each line's `txn` becomes a
/// Jepsen micro-op vector, so one reader serves both.
pub fn jsonl_ops(text: &str, file: &str) -> Result<Vec<JepsenOp>, HistoryError> {
    let mut ops = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| HistoryError::at(file, line_no, format!("not JSON ({e})")))?;
        let field = |name: &str| value.get(name);
        let bad = |name: &str, why: &str| {
            HistoryError::at(file, line_no, format!("field `{name}`: {why}"))
        };
        let process = field("process")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| bad("process", "expected a non-negative integer"))?;
        let f = field("f")
            .and_then(|v| v.as_str())
            .ok_or_else(|| bad("f", "expected a string such as \"txn\""))?;
        let outcome = match field("outcome").and_then(|v| v.as_str()) {
            Some("ok") => Outcome::Ok,
            Some("fail") => Outcome::Fail,
            Some("info") => Outcome::Info,
            _ => return Err(bad("outcome", "expected \"ok\", \"fail\" or \"info\"")),
        };
        let invoke_ns = field("invoke_ns")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| bad("invoke_ns", "expected a non-negative integer"))?;
        let complete_ns = match field("complete_ns") {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .ok_or_else(|| bad("complete_ns", "expected a non-negative integer"))?,
            ),
        };
        match (outcome, complete_ns) {
            (Outcome::Info, Some(_)) => {
                return Err(bad(
                    "complete_ns",
                    "an info operation has no completion time",
                ))
            }
            (Outcome::Ok | Outcome::Fail, None) => {
                return Err(bad("complete_ns", "an ok or fail operation needs one"))
            }
            (_, Some(c)) if c < invoke_ns => {
                return Err(bad("complete_ns", "it is before invoke_ns"))
            }
            _ => {}
        }
        // The micro-ops as JSON (`txn`), or as the simulator records them:
        // Jepsen's notation in `value`.
        let value = match (field("txn"), field("value")) {
            (Some(txn), _) => crate::history::jepsen::json_micro_ops(txn.clone()),
            (None, Some(serde_json::Value::String(text))) => {
                crate::history::edn::Reader::new(text).read().map_err(|e| {
                    bad(
                        "value",
                        &format!("not micro-ops in Jepsen's notation ({e})"),
                    )
                })?
            }
            _ => Edn::Nil,
        };
        ops.push(JepsenOp {
            process,
            f: f.to_string(),
            outcome,
            invoke_value: value.clone(),
            complete_value: value,
            invoke_ns,
            complete_ns,
            line: line_no,
        });
    }
    if ops.is_empty() {
        return Err(HistoryError::whole(
            file,
            "no operations: the file holds no client operation to check",
        ));
    }
    Ok(ops)
}
