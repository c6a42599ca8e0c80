//! Bank: transfers between accounts and reads of every balance. Every
//! read must see the initial total, and no balance may be negative
//! (unless allowed). A transfer's value is `{:from a, :to b, :amount n}`;
//! a read's `{account balance, ...}`.
//!
//! The initial total is given (`total`), or else taken as the most common
//! total among the reads, and the report says so: a history whose reads
//! mostly disagree is then judged against the majority.

use super::{int, Report};
use crate::history::edn::Edn;
use crate::history::history_error::HistoryError;
use crate::history::jepsen::{short, JepsenOp};
use crate::history::Outcome;
use std::collections::BTreeMap;

pub struct Options {
    pub total: Option<i64>,
    pub negative_balances: bool,
}

pub fn check(ops: &[JepsenOp], options: &Options, file: &str) -> Result<Report, HistoryError> {
    let mut report = Report::new("bank", ops.len());
    let mut reads: Vec<(usize, Vec<(String, i64)>)> = Vec::new();
    let mut transfers = 0u64;
    for op in ops {
        match op.f.as_str() {
            "transfer" => {
                let v = op.value();
                let ok = matches!(v, Edn::Map(_))
                    && v.get("from").is_some()
                    && v.get("to").is_some()
                    && v.get("amount").and_then(int).is_some();
                if !ok {
                    return Err(HistoryError::at(
                        file,
                        op.line,
                        format!(
                            "field `value`: a transfer is {{:from a, :to b, :amount n}}, got {}",
                            short(v)
                        ),
                    ));
                }
                transfers += 1;
            }
            "read" => {
                if op.outcome != Outcome::Ok {
                    continue;
                }
                let Edn::Map(entries) = &op.complete_value else {
                    return Err(HistoryError::at(
                        file,
                        op.line,
                        format!(
                            "field `value`: a read returns {{account balance, ...}}, got {}",
                            short(&op.complete_value)
                        ),
                    ));
                };
                let mut balances = Vec::new();
                for (k, v) in entries {
                    let account = match k {
                        Edn::Keyword(s) | Edn::Str(s) | Edn::Symbol(s) => s.clone(),
                        other => other.to_string(),
                    };
                    let Some(balance) = int(v) else {
                        if matches!(v, Edn::Nil) {
                            continue; // an account not yet created
                        }
                        return Err(HistoryError::at(
                            file,
                            op.line,
                            format!("field `value`: balance of {account} is {}, not an integer", short(v)),
                        ));
                    };
                    balances.push((account, balance));
                }
                reads.push((op.line, balances));
            }
            other => {
                return Err(HistoryError::at(
                    file,
                    op.line,
                    format!("field `f`: the bank model has :transfer and :read, not :{other}"),
                ))
            }
        }
    }
    let total = match options.total {
        Some(t) => t,
        None => {
            let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
            for (_, b) in &reads {
                *counts.entry(b.iter().map(|x| x.1).sum()).or_default() += 1;
            }
            match counts.iter().max_by_key(|(t, n)| (**n, std::cmp::Reverse(**t))) {
                Some((&t, _)) => {
                    report.notes.push(format!(
                        "no --total given: the initial total is taken as {t}, the most common total among the reads"
                    ));
                    t
                }
                None => {
                    report.notes.push("no read completed: nothing to judge".into());
                    report.verdict = crate::checker::Verdict::Unknown;
                    report.unknown_reason = Some("no successful read".into());
                    0
                }
            }
        }
    };
    for (line, balances) in &reads {
        let sum: i64 = balances.iter().map(|x| x.1).sum();
        if sum != total {
            report.problem("wrong-total", vec![*line], || {
                format!(
                    "the read saw a total of {sum}, not {total} ({}): money was created or destroyed",
                    balances.iter().map(|(a, b)| format!("{a}={b}")).collect::<Vec<_>>().join(" ")
                )
            });
        }
        if !options.negative_balances {
            for (account, balance) in balances {
                if *balance < 0 {
                    report.problem("negative-balance", vec![*line], || {
                        format!("account {account} has balance {balance} (give --negative-balances if the system allows it)")
                    });
                }
            }
        }
    }
    report.stats.insert("reads".into(), reads.len() as f64);
    report.stats.insert("transfers".into(), transfers as f64);
    report.stats.insert("total".into(), total as f64);
    Ok(report)
}
