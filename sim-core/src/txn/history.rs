//! A simulated run's transactions: the recorder writes each as one
//! `Operation` of `Function::Txn` whose value is the transaction in
//! Jepsen's notation (`[[:append k3 17] [:r k1 [4 9]]]`, reads filled in
//! when it committed). This reads them back into a `TxnHistory`, naming
//! each process as the run names its client.

use super::parse::Builder;
use super::{TxnHistory, TxnKind};
use crate::history::edn::{Edn, Reader};
use crate::history::history_error::HistoryError;
use crate::history::jepsen::JepsenOp;
use crate::history::{Function, History};

/// The transactions of `history` (other operations are an error: a
/// transactional workload is transactions only). `clients` is how many
/// clients the run had: process p is client `p % clients + 1`, after
/// `p / clients` operations of unknown outcome.
pub fn from_history(
    history: &History,
    kind: TxnKind,
    clients: u64,
) -> Result<TxnHistory, HistoryError> {
    let mut builder = Builder::new(kind);
    for (index, op) in history.operations.iter().enumerate() {
        let line = index + 1;
        if op.f != Function::Txn {
            return Err(HistoryError::at(
                "history",
                line,
                format!("operation {line} is a {:?}, not a transaction", op.f),
            ));
        }
        let text = op.value.as_deref().unwrap_or("");
        let value = Reader::new(text)
            .read()
            .map_err(|e| HistoryError::at("history", line, format!("field `value`: {e}")))?;
        let jepsen = JepsenOp {
            process: op.process,
            f: "txn".into(),
            outcome: op.outcome,
            invoke_value: value.clone(),
            complete_value: if op.outcome == crate::history::Outcome::Ok {
                value
            } else {
                Edn::Nil
            },
            invoke_ns: op.invoke_ns,
            complete_ns: op.complete_ns,
            line,
        };
        builder.push(&jepsen, "history")?;
    }
    let mut txns = builder.finish();
    txns.times_are_ns = true;
    txns.process_names = client_names(&txns, clients);
    Ok(txns)
}

/// Each process of `txns` named as a run of `clients` clients names it:
/// process p is client `p % clients + 1`, after `p / clients` operations
/// of unknown outcome (each of which retires a process id).
pub fn client_names(txns: &TxnHistory, clients: u64) -> Vec<(u64, String)> {
    let clients = clients.max(1);
    let mut processes: Vec<u64> = txns.txns.iter().map(|t| t.process).collect();
    processes.sort_unstable();
    processes.dedup();
    processes
        .into_iter()
        .map(|p| {
            let client = p % clients + 1;
            let incarnation = p / clients;
            let name = if incarnation == 0 {
                format!("client{client}")
            } else {
                format!("client{client} (after {incarnation} unknown outcomes)")
            };
            (p, name)
        })
        .collect()
}
