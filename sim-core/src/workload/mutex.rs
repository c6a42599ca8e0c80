//! Mutex: `:acquire` and `:release`, checked for linearizability against a
//! lock, as Knossos's mutex model does. A lock is a register that holds
//! "free" or "held": an acquire is a compare-and-set from free to held, a
//! release one from held to free; a failed acquire took no effect. The
//! linearizability search (and its budget) is the register checker's.

use super::Report;
use crate::checker::model::KvModel;
use crate::checker::{linearizability, Budget, Verdict};
use crate::history::history_error::HistoryError;
use crate::history::jepsen::JepsenOp;
use crate::history::{Function, History, Operation};

/// The lock's history as compare-and-set operations on one register.
pub fn as_register(ops: &[JepsenOp], file: &str) -> Result<History, HistoryError> {
    let mut operations = Vec::with_capacity(ops.len());
    for op in ops {
        let (expected, value) = match op.f.as_str() {
            "acquire" => ("free", "held"),
            "release" => ("held", "free"),
            other => {
                return Err(HistoryError::at(
                    file,
                    op.line,
                    format!("field `f`: the mutex model has :acquire and :release, not :{other}"),
                ))
            }
        };
        operations.push(Operation {
            process: op.process,
            f: Function::Cas,
            key: String::new(),
            value: Some(value.into()),
            expected: Some(expected.into()),
            outcome: op.outcome,
            invoke_ns: op.invoke_ns,
            complete_ns: op.complete_ns,
            gave_up_ns: None,
        });
    }
    Ok(History { operations })
}

pub fn check(
    ops: &[JepsenOp],
    budget: &Budget,
    file: &str,
) -> Result<(Report, History, linearizability::Report), HistoryError> {
    let history = as_register(ops, file)?;
    let model = KvModel {
        initial: "free".into(),
    };
    let lin = linearizability::check(&history, &model, budget);
    let mut report = Report::new("mutex", ops.len());
    match lin.verdict {
        Verdict::Pass => {}
        Verdict::Fail => {
            report.problem("not-linearizable", vec![], || "no order of the acquires and releases, each within its own interval, lets every acquire find the lock free and every release find it held".into());
        }
        Verdict::Unknown => {
            report.verdict = Verdict::Unknown;
            report.unknown_reason = lin.unknown_reason.clone();
        }
    }
    report.stats.insert("search_steps".into(), lin.steps as f64);
    Ok((report, history, lin))
}
