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
                            format!(
                                "field `value`: balance of {account} is {}, not an integer",
                                short(v)
                            ),
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
            match counts
                .iter()
                .max_by_key(|(t, n)| (**n, std::cmp::Reverse(**t)))
            {
                Some((&t, _)) => {
                    report.notes.push(format!(
                        "no --total given: the initial total is taken as {t}, the most common total among the reads"
                    ));
                    t
                }
                None => {
                    report
                        .notes
                        .push("no read completed: nothing to judge".into());
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

/// A simulated run's bank: transfers (`Function::Transfer`, key
/// "k1->k2", value the amount) and audits (reads of key `audit_key` whose
/// value is "k0=100 k1=95 ..."), as Jepsen operations for `check`.
pub fn from_history(history: &crate::history::History, audit_key: &str) -> Vec<JepsenOp> {
    use crate::history::Function;
    let mut ops = Vec::new();
    for (index, op) in history.operations.iter().enumerate() {
        let (f, value) = match op.f {
            Function::Transfer => {
                let (from, to) = op.key.split_once("->").unwrap_or((op.key.as_str(), ""));
                let amount: i64 = op
                    .value
                    .as_deref()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                (
                    "transfer",
                    Edn::Map(vec![
                        (Edn::Keyword("from".into()), Edn::Str(from.into())),
                        (Edn::Keyword("to".into()), Edn::Str(to.into())),
                        (Edn::Keyword("amount".into()), Edn::Int(amount)),
                    ]),
                )
            }
            Function::Read if op.key == audit_key => {
                let balances = op.value.as_deref().map(|text| {
                    Edn::Map(
                        text.split_whitespace()
                            .filter_map(|pair| pair.split_once('='))
                            .map(|(account, balance)| {
                                (
                                    Edn::Str(account.into()),
                                    balance.parse().map(Edn::Int).unwrap_or(Edn::Nil),
                                )
                            })
                            .collect(),
                    )
                });
                match balances {
                    Some(map) => ("read", map),
                    // An audit without balances read nothing.
                    None => continue,
                }
            }
            _ => continue,
        };
        ops.push(JepsenOp {
            process: op.process,
            f: f.into(),
            outcome: op.outcome,
            invoke_value: value.clone(),
            complete_value: value,
            invoke_ns: op.invoke_ns,
            complete_ns: op.complete_ns,
            line: index + 1,
        });
    }
    ops
}
