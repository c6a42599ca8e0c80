//! Counter: adds and reads. A read must lie between the sum of the adds
//! acknowledged before it began and the sum of the adds attempted
//! (acknowledged, or with an unknown outcome) before it completed. Adds
//! concurrent with the read may or may not count; a negative add widens
//! the lower bound, a positive one the upper.

use super::{int, Report};
use crate::history::history_error::HistoryError;
use crate::history::jepsen::{short, JepsenOp};
use crate::history::Outcome;

pub fn check(ops: &[JepsenOp], file: &str) -> Result<Report, HistoryError> {
    let mut report = Report::new("counter", ops.len());
    // Acknowledged adds by completion time, possible adds by invocation.
    let mut acked: Vec<(u64, i64)> = Vec::new();
    let mut possible: Vec<(u64, i64)> = Vec::new();
    let mut reads: Vec<(u64, u64, i64, usize)> = Vec::new();
    for op in ops {
        match op.f.as_str() {
            "add" => {
                let v = int(&op.invoke_value).ok_or_else(|| {
                    HistoryError::at(
                        file,
                        op.line,
                        format!(
                            "field `value`: an add needs an integer, got {}",
                            short(&op.invoke_value)
                        ),
                    )
                })?;
                match op.outcome {
                    Outcome::Ok => {
                        acked.push((op.complete_ns.expect("ok completes"), v));
                        possible.push((op.invoke_ns, v));
                    }
                    Outcome::Info => possible.push((op.invoke_ns, v)),
                    Outcome::Fail => {}
                }
            }
            "read" => {
                if op.outcome != Outcome::Ok {
                    continue;
                }
                let v = int(&op.complete_value).ok_or_else(|| {
                    HistoryError::at(
                        file,
                        op.line,
                        format!(
                            "field `value`: a read returns an integer, got {}",
                            short(&op.complete_value)
                        ),
                    )
                })?;
                reads.push((
                    op.invoke_ns,
                    op.complete_ns.expect("ok completes"),
                    v,
                    op.line,
                ));
            }
            other => {
                return Err(HistoryError::at(
                    file,
                    op.line,
                    format!("field `f`: the counter model has :add and :read, not :{other}"),
                ))
            }
        }
    }
    acked.sort_unstable();
    possible.sort_unstable();
    // Prefix sums: all, negative parts, positive parts.
    let prefix = |xs: &[(u64, i64)], f: fn(i64) -> i64| -> Vec<i64> {
        let mut out = vec![0i64; xs.len() + 1];
        for (i, x) in xs.iter().enumerate() {
            out[i + 1] = out[i].saturating_add(f(x.1));
        }
        out
    };
    let acked_all = prefix(&acked, |v| v);
    let acked_neg = prefix(&acked, |v| v.min(0));
    let acked_pos = prefix(&acked, |v| v.max(0));
    let possible_neg = prefix(&possible, |v| v.min(0));
    let possible_pos = prefix(&possible, |v| v.max(0));
    let mut widths = Vec::new();
    for &(invoke, complete, value, line) in &reads {
        let a = acked.partition_point(|x| x.0 < invoke);
        let p = possible.partition_point(|x| x.0 < complete);
        let certain = acked_all[a];
        // Concurrent adds: the possible ones, less those certainly in.
        let lower = certain + (possible_neg[p] - acked_neg[a]);
        let upper = certain + (possible_pos[p] - acked_pos[a]);
        widths.push((upper - lower) as f64);
        if value < lower || value > upper {
            report.problem(
                if value < lower { "read-too-low" } else { "read-too-high" },
                vec![line],
                || format!("the read returned {value}, outside [{lower}, {upper}]: the adds acknowledged before it began sum to {certain}, and the adds that may have taken effect before it completed allow at most {upper}"),
            );
        }
    }
    report.stats.insert("reads".into(), reads.len() as f64);
    report
        .stats
        .insert("adds_acknowledged".into(), acked.len() as f64);
    if !widths.is_empty() {
        report.stats.insert(
            "read_bound_width_mean".into(),
            widths.iter().sum::<f64>() / widths.len() as f64,
        );
    }
    Ok(report)
}
