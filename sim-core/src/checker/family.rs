//! Judging a history of any of Jepsen's workload models from its text: the
//! one entry point `faultline check` and library users share for
//! list-append, rw-register, bank, counter, set, set-full, long-fork and
//! mutex histories (registers have `linearizability`).

use crate::checker::{linearizability, Budget, Verdict};
use crate::history::history_error::HistoryError;
use crate::history::jepsen::{self, Encoding};
use crate::history::History;
use crate::txn::models::Model;
use crate::txn::{self, TxnHistory, TxnKind};
use crate::workload;

/// The models of this family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyModel {
    Txn(TxnKind),
    Bank,
    Counter,
    Set,
    SetFull,
    LongFork,
    Mutex,
}

/// Every model name, with what it checks (for `faultline list models`).
pub const MODELS: &[(&str, &str)] = &[
    ("list-append", "Elle: transactions of appends and list reads; anomalies and consistency models"),
    ("rw-register", "Elle: transactions of register writes and reads; the version order where it can be inferred"),
    ("bank", "transfers keep the total; no negative balance"),
    ("counter", "each read between the acknowledged and the attempted adds"),
    ("set", "the final read holds every acknowledged add"),
    ("set-full", "every read holds every add known before it began; lost, stale, never-read elements and visibility latency"),
    ("long-fork", "no two reads saw the same inserts in incompatible orders"),
    ("mutex", "acquires and releases linearizable against a lock"),
];

impl FamilyModel {
    pub fn parse(name: &str) -> Option<FamilyModel> {
        Some(match name {
            "list-append" => FamilyModel::Txn(TxnKind::ListAppend),
            "rw-register" => FamilyModel::Txn(TxnKind::RwRegister),
            "bank" => FamilyModel::Bank,
            "counter" => FamilyModel::Counter,
            "set" => FamilyModel::Set,
            "set-full" => FamilyModel::SetFull,
            "long-fork" => FamilyModel::LongFork,
            "mutex" => FamilyModel::Mutex,
            _ => return None,
        })
    }
}

/// How the file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyFormat {
    Auto,
    Edn,
    /// Jepsen's events as JSON: one object per line, or one array.
    Json,
    /// faultline's history.jsonl (operations with `invoke_ns`).
    Jsonl,
    /// The Plume text format (rw-register histories).
    Plume,
}

impl FamilyFormat {
    pub fn name(self) -> &'static str {
        match self {
            FamilyFormat::Auto => "auto",
            FamilyFormat::Edn => "edn",
            FamilyFormat::Json => "json",
            FamilyFormat::Jsonl => "jsonl",
            FamilyFormat::Plume => "plume",
        }
    }
    pub fn parse(name: &str) -> Option<FamilyFormat> {
        Some(match name {
            "auto" => FamilyFormat::Auto,
            "edn" => FamilyFormat::Edn,
            "json" => FamilyFormat::Json,
            "jsonl" => FamilyFormat::Jsonl,
            "plume" => FamilyFormat::Plume,
            _ => return None,
        })
    }

    /// Detects the format from the text.
    pub fn detect(text: &str) -> FamilyFormat {
        let first = text
            .trim_start_matches('\u{feff}')
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with(';'))
            .unwrap_or("");
        if txn::plume::looks_like(text) {
            FamilyFormat::Plume
        } else if first.starts_with("{\"") && first.contains("\"invoke_ns\"") {
            FamilyFormat::Jsonl
        } else if jepsen::detect(text) == Encoding::Json {
            FamilyFormat::Json
        } else {
            FamilyFormat::Edn
        }
    }
}

pub struct Options<'a> {
    pub model: FamilyModel,
    pub format: FamilyFormat,
    /// Transactional models to judge; `None`: strict-serializable (the
    /// Plume format, which records no times: read-committed, read-atomic
    /// and causal).
    pub consistency_models: Option<Vec<Model>>,
    pub negative_balances: bool,
    pub bank_total: Option<i64>,
    pub budget: Budget<'a>,
    pub memory_bytes_max: u64,
    /// Check only what decides `consistency_models`; other models may be
    /// reported unknown (not checked).
    pub named_only: bool,
}

/// What the check found.
pub enum Judged {
    Txn {
        history: TxnHistory,
        report: txn::check::Report,
        format: FamilyFormat,
    },
    Workload {
        report: workload::Report,
        format: FamilyFormat,
        /// For mutex: the lock as a register history, and the search's answer.
        linearizability: Option<(History, linearizability::Report)>,
    },
}

impl Judged {
    pub fn verdict(&self) -> Verdict {
        match self {
            Judged::Txn { report, .. } => report.verdict,
            Judged::Workload { report, .. } => report.verdict,
        }
    }
}

/// Reads `text` (named `file` in errors) and judges it.
pub fn judge(text: &str, file: &str, options: &Options) -> Result<Judged, HistoryError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let format = match options.format {
        FamilyFormat::Auto => FamilyFormat::detect(text),
        f => f,
    };
    if format == FamilyFormat::Plume {
        if options.model != FamilyModel::Txn(TxnKind::RwRegister) {
            return Err(HistoryError::whole(
                file,
                "the Plume format holds key-value (rw-register) histories: give --model rw-register",
            ));
        }
        let history = txn::plume::parse(text, file)?;
        let models = options
            .consistency_models
            .clone()
            .unwrap_or_else(|| vec![Model::ReadCommitted, Model::ReadAtomic, Model::Causal]);
        let report =
            run_txn(&history, models, options, true).map_err(|e| HistoryError::whole(file, e))?;
        return Ok(Judged::Txn {
            history,
            report,
            format,
        });
    }
    if let FamilyModel::Txn(kind) = options.model {
        // Streamed: each operation becomes micro-ops as it completes.
        let mut builder = txn::parse::Builder::new(kind);
        match format {
            FamilyFormat::Jsonl => {
                for op in txn::parse::jsonl_ops(text, file)? {
                    builder.push(&op, file)?;
                }
            }
            _ => {
                let encoding = if format == FamilyFormat::Json {
                    Encoding::Json
                } else {
                    Encoding::Edn
                };
                jepsen::for_each_op(text, encoding, file, |op| builder.push(&op, file))?;
            }
        }
        let mut history = builder.finish();
        history.times_are_ns = format == FamilyFormat::Jsonl;
        let models = options
            .consistency_models
            .clone()
            .unwrap_or_else(|| vec![Model::StrictSerializable]);
        let report = run_txn(&history, models, options, kind == TxnKind::RwRegister)
            .map_err(|e| HistoryError::whole(file, e))?;
        return Ok(Judged::Txn {
            history,
            report,
            format,
        });
    }
    let ops = match format {
        FamilyFormat::Jsonl => txn::parse::jsonl_ops(text, file)?,
        FamilyFormat::Json => jepsen::read_ops(text, Encoding::Json, file)?,
        _ => jepsen::read_ops(text, Encoding::Edn, file)?,
    };
    let (report, linearizability) = match options.model {
        FamilyModel::Txn(_) => unreachable!("transactional histories are streamed above"),
        FamilyModel::Mutex => {
            let (report, history, lin) = workload::mutex::check(&ops, &options.budget, file)?;
            (report, Some((history, lin)))
        }
        FamilyModel::Bank => {
            let bank = workload::bank::Options {
                total: options.bank_total,
                negative_balances: options.negative_balances,
            };
            (workload::bank::check(&ops, &bank, file)?, None)
        }
        FamilyModel::Counter => (workload::counter::check(&ops, file)?, None),
        FamilyModel::Set => (workload::set::check_set(&ops, file)?, None),
        FamilyModel::SetFull => (workload::set::check_set_full(&ops, file)?, None),
        FamilyModel::LongFork => (workload::long_fork::check(&ops, file)?, None),
    };
    Ok(Judged::Workload {
        report,
        format,
        linearizability,
    })
}

fn run_txn(
    history: &TxnHistory,
    models: Vec<Model>,
    options: &Options,
    saturate_read_committed: bool,
) -> Result<txn::check::Report, String> {
    let budget = Budget {
        steps_max: options.budget.steps_max,
        memo_entries_max: options.budget.memo_entries_max,
        memo_bytes_max: options.budget.memo_bytes_max,
        cancel: options.budget.cancel,
    };
    txn::check::check(
        history,
        &txn::check::Options {
            models,
            budget,
            memory_bytes_max: options.memory_bytes_max,
            examples_per_kind_max: 8,
            saturate_read_committed,
            named_only: options.named_only,
        },
    )
}
