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
use crate::history::{Function, History, Operation, Outcome};
use std::fmt::Write;

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

/// `ops` as a Jepsen EDN history, one event a line in time order, that
/// `check` (through `history::jepsen::read_ops`) reads back to the same
/// operations. At one instant, completions come before invocations (what
/// ended let go before what began), except that an operation of no
/// length (a release that waits for no answer) is invoked, then completed.
/// An operation that ended unknown has no completion line.
pub fn write_edn(ops: &[JepsenOp]) -> String {
    // (time, rank, op, invocation first): rank 0 completions, 1 the rest.
    let mut events: Vec<(u64, u8, usize, u8)> = Vec::with_capacity(ops.len() * 2);
    for (i, op) in ops.iter().enumerate() {
        let instant = op.complete_ns == Some(op.invoke_ns);
        events.push((op.invoke_ns, 1, i, 0));
        if let Some(done) = op.complete_ns {
            debug_assert!(done >= op.invoke_ns);
            events.push((done, if instant { 1 } else { 0 }, i, 1));
        }
    }
    events.sort_unstable();
    let mut out = String::with_capacity(ops.len() * 2 * 64);
    for (time, _, i, completion) in events {
        let op = &ops[i];
        let kind = match (completion, op.outcome) {
            (0, _) => "invoke",
            (_, Outcome::Ok) => "ok",
            (_, Outcome::Fail) => "fail",
            (_, Outcome::Info) => "info",
        };
        let _ = writeln!(
            out,
            "{{:type :{kind}, :f :{}, :value nil, :process {}, :time {time}}}",
            op.f, op.process
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::edn::Edn;
    use crate::history::jepsen::{read_ops, Encoding};

    fn op(process: u64, f: &str, invoke: u64, complete: Option<u64>, outcome: Outcome) -> JepsenOp {
        JepsenOp {
            process,
            f: f.into(),
            outcome,
            invoke_value: Edn::Nil,
            complete_value: Edn::Nil,
            invoke_ns: invoke,
            complete_ns: complete,
            line: 0,
        }
    }

    fn verdict(ops: &[JepsenOp]) -> Verdict {
        check(ops, &Budget::default(), "test").unwrap().0.verdict
    }

    /// Client 1 holds from 10 to 50; client 2's acquire completes at 60.
    /// An instant release and a grant let go at once (20: acquire ends,
    /// release at the same instant) keep their order through the file.
    fn taking_turns() -> Vec<JepsenOp> {
        vec![
            op(1, "acquire", 0, Some(10), Outcome::Ok),
            op(2, "acquire", 5, Some(60), Outcome::Ok),
            op(3, "acquire", 6, Some(8), Outcome::Fail),
            op(1, "release", 50, Some(50), Outcome::Ok),
            op(2, "release", 60, Some(60), Outcome::Ok),
            op(4, "acquire", 61, None, Outcome::Info),
        ]
    }

    #[test]
    fn written_histories_read_back_to_the_same_operations_and_verdicts() {
        let passing = taking_turns();
        let mut failing = taking_turns();
        // Client 2 enters at 30, while client 1 still holds the lock.
        failing[1].complete_ns = Some(30);
        failing.swap(1, 2);
        assert_eq!(verdict(&passing), Verdict::Pass);
        assert_eq!(verdict(&failing), Verdict::Fail);
        for ops in [passing, failing] {
            let text = write_edn(&ops);
            let read = read_ops(&text, Encoding::Edn, "mutex.edn").unwrap();
            let key = |o: &JepsenOp| (o.process, o.f.clone(), format!("{:?}", o.outcome));
            let mut written: Vec<_> = ops.iter().map(key).collect();
            let mut back: Vec<_> = read.iter().map(key).collect();
            written.sort();
            back.sort();
            assert_eq!(back, written, "{text}");
            assert_eq!(verdict(&read), verdict(&ops), "{text}");
        }
    }

    #[test]
    fn at_one_instant_completions_come_first_and_an_instant_operation_is_invoked_then_completed() {
        let ops = vec![
            op(1, "acquire", 0, Some(20), Outcome::Ok),
            op(1, "release", 20, Some(20), Outcome::Ok),
        ];
        let text = write_edn(&ops);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "{:type :invoke, :f :acquire, :value nil, :process 1, :time 0}",
                "{:type :ok, :f :acquire, :value nil, :process 1, :time 20}",
                "{:type :invoke, :f :release, :value nil, :process 1, :time 20}",
                "{:type :ok, :f :release, :value nil, :process 1, :time 20}",
            ]
        );
    }
}
