//! The checks of a finished run: invariants, session guarantees,
//! linearizability and sequential consistency, each as a `CheckResult`
//! with one line for people. Cheap checks first; a search is skipped once
//! an unexpected failure has decided the seed.

use crate::names::with_node_names;
use crate::outcome::{expected_violation, CheckResult, Skipped};
use crate::schema::Expect;
use protocols::invariant::Violation;
use sim_core::checker::linearizability;
use sim_core::checker::model::KvModel;
use sim_core::checker::{session, Budget, Verdict};
use sim_core::history::History;
use sim_core::SimTime;

/// Search steps the linearizability check may take per run; past it the
/// verdict is Unknown. A step count, not a time, so verdicts reproduce.
pub const LINEARIZABILITY_STEPS_MAX: u64 = 20_000_000;
/// Search steps the sequential-consistency check may take per run. It runs
/// only when linearizability did not pass, and proving that no legal order
/// exists is the exhaustive case.
pub const SEQUENTIAL_STEPS_MAX: u64 = 20_000_000;

/// How the checks of one run are to be run.
pub(crate) struct ChecksPlan<'a> {
    /// The checks the scenario names; empty means every one that applies.
    pub checks: &'a [String],
    pub expect: &'a Expect,
    /// Whether the history checks apply (clients read and write registers).
    pub registers: bool,
    /// Clients run transactions: lists (true) or registers, and the
    /// models to judge.
    pub transactions: Option<(bool, Vec<sim_core::txn::models::Model>)>,
    /// Clients audit a bank holding this much money in all.
    pub bank_total: Option<i64>,
    /// Every node's name, by id: the servers, then the clients.
    pub names: &'a [String],
    /// How many of `names` are clients (the last ones).
    pub clients: usize,
    /// Memory the search memos may use (what the budget leaves).
    pub memo_bytes_max: usize,
    /// The run stopped before its end.
    pub cut_short: bool,
    /// A lock's own history, from a protocol that records one.
    pub mutex: Option<&'a protocols::invariant::MutexHistory>,
}

impl ChecksPlan<'_> {
    /// The client behind a history's process, by the name the run gave
    /// it ("client3"); a client whose operation ended unknown goes on as
    /// process `client + clients * k`.
    pub fn client_name(&self, process: u64) -> String {
        crate::names::client_of_process(process, self.clients as u64)
    }
}

/// The searches (linearizability, sequential) are skipped once a check the
/// scenario does not expect to fail has failed: the seed fails whatever they
/// find, and on a broken history they are the slow part. The cheap checks
/// (invariants, session guarantees) run first.
pub(crate) fn run_checks(
    history: &History,
    violations: Vec<Violation>,
    invariants: &[&'static str],
    plan: &ChecksPlan<'_>,
) -> (Vec<CheckResult>, Vec<Skipped>) {
    let wanted = |name: &str| plan.checks.is_empty() || plan.checks.iter().any(|c| c == name);
    let registers = plan.registers;
    let invariants_check = invariants_check(&wanted, violations, invariants, plan, plan.names);
    let mut session_checks = if registers {
        session_checks(&wanted, history, plan)
    } else {
        Vec::new()
    };
    // Named only: most replication schemes break it by design under faults
    // (reads from backups, asynchronous shipping), and it says less than
    // linearizability where that holds.
    if registers && plan.checks.iter().any(|c| c == FRESH_READS) {
        session_checks.push(fresh_reads_check(history));
    }
    // A failure the scenario does not expect decides the seed.
    let decided_by = |done: &[&CheckResult]| -> Option<String> {
        done.iter()
            .flat_map(|check| check.failed_names())
            .find(|name| !expected_violation(plan.expect, name))
            .map(str::to_string)
    };
    let mut skipped = Vec::new();
    let mut skip = |name: &str, by: String| {
        skipped.push(Skipped {
            name: name.to_string(),
            why: format!("{by} failed, which the scenario does not expect, so the seed fails whatever this search finds"),
        });
    };
    let cheap: Vec<&CheckResult> = invariants_check.iter().chain(&session_checks).collect();
    let mut linearizability = None;
    if registers && wanted("linearizability") {
        match decided_by(&cheap) {
            Some(by) => skip("linearizability", by),
            None => linearizability = Some(linearizability_check(history, plan)),
        }
        give_back_after_search(history);
    }
    let mut sequential = None;
    if registers && wanted("sequential") {
        let done: Vec<&CheckResult> = cheap
            .iter()
            .copied()
            .chain(linearizability.as_ref())
            .collect();
        match decided_by(&done) {
            Some(by) => skip("sequential", by),
            None => sequential = Some(sequential_check(history, linearizability.as_ref(), plan)),
        }
        give_back_after_search(history);
    }
    let bank = match plan.bank_total {
        Some(total) if wanted("bank") => Some(bank_check(history, total)),
        _ => None,
    };
    let mut transactions = None;
    if let Some((lists, models)) = &plan.transactions {
        let name = if *lists { "list-append" } else { "rw-register" };
        if wanted(name) {
            match decided_by(&cheap) {
                Some(by) => skip(name, by),
                None => {
                    transactions = Some(transactions_check(history, name, *lists, models, plan))
                }
            }
        }
    }
    let mutex = plan
        .mutex
        .filter(|_| wanted(MUTEX))
        .map(|history| mutex_check(history, plan));
    // The clients' view of a bank comes after the invariants it mirrors,
    // so that a shrink keeps aiming at the protocol's own invariant first.
    let results = linearizability
        .into_iter()
        .chain(transactions)
        .chain(sequential)
        .chain(session_checks)
        .chain(invariants_check)
        .chain(bank)
        .chain(mutex)
        .collect();
    (results, skipped)
}

const MUTEX: &str = "mutex";

/// The lock's acquires and releases against a lock (`workload::mutex`,
/// Knossos's model), within the linearizability search's budget.
fn mutex_check(history: &protocols::invariant::MutexHistory, plan: &ChecksPlan<'_>) -> CheckResult {
    let result = |verdict, detail: String| CheckResult {
        name: MUTEX.into(),
        verdict,
        detail,
        violations: Vec::new(),
        counterexample: None,
    };
    if history.cut > 0 {
        return result(
            Verdict::Unknown,
            format!(
                "the lock's history outgrew its bound ({} operations; {} more left out), so it cannot be judged: shorten the run",
                history.ops.len(),
                history.cut
            ),
        );
    }
    if history.ops.is_empty() {
        return result(Verdict::Pass, "no client tried to acquire the lock".into());
    }
    let budget = Budget {
        steps_max: LINEARIZABILITY_STEPS_MAX,
        memo_bytes_max: plan.memo_bytes_max.min(Budget::default().memo_bytes_max),
        ..Budget::default()
    };
    let acquires = history.ops.iter().filter(|op| op.f == "acquire").count();
    match sim_core::workload::mutex::check(&history.ops, &budget, "mutex.edn") {
        Err(e) => panic!("the lock's own history is well formed: {e}"),
        Ok((report, register, lin)) => match report.verdict {
            Verdict::Pass => result(
                Verdict::Pass,
                format!(
                    "{acquires} acquires and {} releases linearize against one lock",
                    history.ops.len() - acquires
                ),
            ),
            Verdict::Fail => {
                let at = lin
                    .counterexample
                    .as_ref()
                    .and_then(|c| c.culprit)
                    .and_then(|i| register.operations.get(i))
                    .map(|op| {
                        let node = protocols::invariant::MutexHistory::node_of(op.process);
                        let who = plan
                            .names
                            .get(node.index())
                            .cloned()
                            .unwrap_or_else(|| format!("process {}", op.process));
                        format!(
                            ": {who}'s {} invoked at {} finds the lock {}",
                            if op.expected.as_deref() == Some("free") {
                                "acquire"
                            } else {
                                "release"
                            },
                            SimTime::from_nanos(op.invoke_ns),
                            if op.expected.as_deref() == Some("free") {
                                "held"
                            } else {
                                "free"
                            },
                        )
                    })
                    .unwrap_or_default();
                result(
                    Verdict::Fail,
                    format!("two clients held the lock at once: no order of the {} acquires and releases lets every acquire find it free{at}", history.ops.len()),
                )
            }
            Verdict::Unknown => result(
                Verdict::Unknown,
                format!(
                    "the search ran out of budget: {}",
                    lin.unknown_reason.unwrap_or_default()
                ),
            ),
        },
    }
}

fn linearizability_check(history: &History, plan: &ChecksPlan<'_>) -> CheckResult {
    let budget = Budget {
        steps_max: LINEARIZABILITY_STEPS_MAX,
        memo_bytes_max: plan.memo_bytes_max.min(Budget::default().memo_bytes_max),
        ..Budget::default()
    };
    let report = linearizability::check(history, &KvModel::default(), &budget);
    let detail = match report.verdict {
        Verdict::Pass => format!(
            "{} operations on {} keys are linearizable (decided by {})",
            history.len(),
            report.keys_checked,
            report.decided_by.in_words()
        ),
        Verdict::Fail => {
            let cx = report
                .counterexample
                .as_ref()
                .expect("a failure has a counterexample");
            let name_of = |process: u64| plan.client_name(process);
            format!(
                "key {} is not linearizable ({} operations): {}",
                cx.key,
                cx.key_operations,
                sim_core::checker::explain::in_words(history, cx, &name_of)
            )
        }
        Verdict::Unknown => memo_hint(report.unknown_reason.clone().unwrap_or_default(), plan),
    };
    CheckResult {
        name: "linearizability".into(),
        verdict: report.verdict,
        detail,
        violations: Vec::new(),
        counterexample: report.counterexample,
    }
}

/// Histories from this many operations may have searches that fill the
/// memory the checks have; below it, handing memory back costs more than it
/// saves (5% of a short sweep's CPU, measured on quickstart).
const TRIM_AFTER_OPS: usize = 10_000;

/// Each search may fill the memory the checks have: the next one starts
/// from what the allocator gives back of it.
fn give_back_after_search(history: &History) {
    if history.len() >= TRIM_AFTER_OPS {
        sim_core::memory::return_freed_memory();
    }
}

/// A search's Unknown reason, with where its memory bound came from when
/// the memo was what ran out (`run::checks_memory_bytes`).
fn memo_hint(reason: String, plan: &ChecksPlan<'_>) -> String {
    if !reason.contains("memo") {
        return reason;
    }
    if plan.memo_bytes_max == 0 {
        return "no memory was left for the search: the engine's peak took the run's whole memory budget; raise limits.memory (--memory)".to_string();
    }
    format!(
        "{reason}; the searches get the run's memory budget less the engine's peak, {} here: raise limits.memory (--memory)",
        crate::bytes::Bytes(plan.memo_bytes_max as u64).approx()
    )
}

/// Jepsen's bank check of a run's audits.
fn bank_check(history: &History, total: i64) -> CheckResult {
    let ops = sim_core::workload::bank::from_history(history, crate::recorder::AUDIT_KEY);
    let report = sim_core::workload::bank::check(
        &ops,
        &sim_core::workload::bank::Options {
            total: Some(total),
            negative_balances: false,
        },
        "history",
    )
    .unwrap_or_else(|e| panic!("the recorder wrote a bank history the reader refuses: {e}"));
    let reads = report.stats.get("reads").copied().unwrap_or(0.0) as u64;
    let detail = match report.verdict {
        Verdict::Pass if reads == 0 => "no audit completed: nothing to judge".to_string(),
        Verdict::Pass => format!("{reads} audits each read the total of {total}"),
        _ => {
            let counts: Vec<String> = report
                .error_counts
                .iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect();
            let first = report
                .problems
                .first()
                .map(|p| {
                    format!(
                        "; first (operation {}): {}",
                        p.lines.first().copied().unwrap_or(0),
                        p.text
                    )
                })
                .unwrap_or_default();
            format!(
                "{} of {reads} audits wrong: {}{first}",
                report.problems.len(),
                counts.join(", ")
            )
        }
    };
    CheckResult {
        name: "bank".into(),
        verdict: report.verdict,
        detail,
        violations: Vec::new(),
        counterexample: None,
    }
}

/// Steps the transactional cycle search may take per run; past it the
/// verdict is Unknown.
pub const TRANSACTIONS_STEPS_MAX: u64 = 20_000_000;

/// The list-append or rw-register check of a run's transactions.
fn transactions_check(
    history: &History,
    name: &str,
    lists: bool,
    models: &[sim_core::txn::models::Model],
    plan: &ChecksPlan<'_>,
) -> CheckResult {
    let kind = if lists {
        sim_core::txn::TxnKind::ListAppend
    } else {
        sim_core::txn::TxnKind::RwRegister
    };
    let txns = match sim_core::txn::history::from_history(
        history,
        kind,
        plan.names
            .iter()
            .filter(|n| n.starts_with("client"))
            .count() as u64,
    ) {
        Ok(txns) => txns,
        Err(e) => panic!("the recorder wrote a transaction the reader refuses: {e}"),
    };
    let options = sim_core::txn::check::Options {
        models: models.to_vec(),
        budget: Budget {
            steps_max: TRANSACTIONS_STEPS_MAX,
            ..Budget::default()
        },
        memory_bytes_max: plan.memo_bytes_max as u64,
        examples_per_kind_max: 4,
        saturate_read_committed: !lists,
        named_only: false,
    };
    let report = match sim_core::txn::check::check(&txns, &options) {
        Ok(report) => report,
        Err(e) => panic!("a simulated history broke the model's input rule: {e}"),
    };
    let names = |ms: &[sim_core::txn::models::Model]| {
        if ms.is_empty() {
            "none".to_string()
        } else {
            ms.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")
        }
    };
    let asked = names(models);
    let detail = match report.verdict {
        Verdict::Pass => format!(
            "{} transactions hold {asked} (strongest: {})",
            report.transactions,
            names(&report.strongest_consistent)
        ),
        Verdict::Fail => {
            let counts: Vec<String> = report
                .anomaly_counts
                .iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect();
            let first = report
                .anomalies
                .first()
                .map(|f| {
                    let mut path: Vec<String> = match &f.cycle {
                        Some(steps) => steps
                            .iter()
                            .map(|e| format!("{} -{}->", sim_core::txn::explain::name(&txns, e.from), sim_core::txn::graph::kind_name(e.kind)))
                            .collect(),
                        None => f.txns.iter().map(|&t| sim_core::txn::explain::name(&txns, t)).collect(),
                    };
                    if let Some(steps) = &f.cycle {
                        path.push(sim_core::txn::explain::name(&txns, steps[0].from));
                    }
                    format!("; first: {} ({}); `faultline check history.jsonl --model {name}` explains it", f.kind, path.join(" "))
                })
                .unwrap_or_default();
            format!(
                "{} transactions: {}; rules out {}; still consistent with {}{first}",
                report.transactions,
                counts.join(", "),
                names(&report.ruled_out),
                names(&report.strongest_consistent)
            )
        }
        Verdict::Unknown => report.unknown_reason.clone().unwrap_or_default(),
    };
    CheckResult {
        name: name.into(),
        verdict: report.verdict,
        detail,
        violations: Vec::new(),
        counterexample: None,
    }
}

/// The check's name, as a scenario names it.
pub const FRESH_READS: &str = "fresh-reads";

/// Regular-register semantics, from the staleness measure: a read may
/// return a write concurrent with it, never one older than a write that
/// completed before it began.
fn fresh_reads_check(history: &History) -> CheckResult {
    let staleness = sim_core::checker::staleness::measure(history, "");
    let (verdict, detail) = if staleness.stale_reads == 0 {
        (
            Verdict::Pass,
            format!(
                "{} reads saw every write completed before they began ({} keys skipped)",
                staleness.reads, staleness.keys_skipped
            ),
        )
    } else {
        (
            Verdict::Fail,
            format!(
                "{} of {} reads missed a write completed before they began, by up to {} versions and {:.1} ms",
                staleness.stale_reads,
                staleness.reads,
                staleness.versions_behind_max,
                staleness.lag_ms_max
            ),
        )
    };
    CheckResult {
        name: FRESH_READS.into(),
        verdict,
        detail,
        violations: Vec::new(),
        counterexample: None,
    }
}

fn session_checks(
    wanted: &dyn Fn(&str) -> bool,
    history: &History,
    plan: &ChecksPlan<'_>,
) -> Vec<CheckResult> {
    let mut results = Vec::new();
    let guarantees: Vec<&'static str> = session::GUARANTEES
        .iter()
        .copied()
        .filter(|g| wanted("session") || wanted(g))
        .collect();
    if !guarantees.is_empty() {
        let report = session::check(history, "");
        for guarantee in guarantees {
            let count = report.counts.get(guarantee).copied().unwrap_or(0);
            let first = report.violations.iter().find(|v| v.guarantee == guarantee);
            let detail = match first {
                None => format!(
                    "held for every client ({} keys checked, {} skipped)",
                    report.keys_checked, report.keys_skipped
                ),
                Some(v) => {
                    let read = &history.operations[v.read];
                    let at_least = if report.counts_capped {
                        "at least "
                    } else {
                        ""
                    };
                    // In words, with the run's names (as a linearizability
                    // failure is said).
                    let obliged = match v.obliged.map(|w| &history.operations[w]) {
                        Some(w) => format!(
                            "older than the write of {} by {}, completed at {}, which {} was obliged to see",
                            w.value.as_deref().unwrap_or("nothing"),
                            plan.client_name(w.process),
                            SimTime::from_nanos(w.complete_ns.unwrap_or(w.invoke_ns)),
                            plan.client_name(read.process)
                        ),
                        None => "which no write wrote".to_string(),
                    };
                    format!(
                        "{at_least}{count} violations; first: the read of {} by {}, begun at {}, returned {}, {obliged}",
                        read.key,
                        plan.client_name(read.process),
                        SimTime::from_nanos(read.invoke_ns),
                        read.value.as_deref().unwrap_or("nothing"),
                    )
                }
            };
            let verdict = if count == 0 {
                Verdict::Pass
            } else {
                Verdict::Fail
            };
            results.push(CheckResult {
                name: guarantee.into(),
                verdict,
                detail,
                violations: Vec::new(),
                counterexample: None,
            });
        }
    }
    results
}

fn invariants_check(
    wanted: &dyn Fn(&str) -> bool,
    violations: Vec<Violation>,
    invariants: &[&'static str],
    plan: &ChecksPlan<'_>,
    names: &[String],
) -> Option<CheckResult> {
    let selected: Vec<&'static str> = invariants
        .iter()
        .copied()
        .filter(|name| wanted("invariants") || wanted(name))
        .collect();
    if !wanted("invariants") && selected.is_empty() {
        return None;
    }
    {
        let kept: Vec<Violation> = violations
            .into_iter()
            .filter(|v| selected.contains(&v.invariant))
            .map(|v| Violation {
                message: with_node_names(&v.message, names),
                ..v
            })
            .collect();
        let detail = match kept.first() {
            None if selected.is_empty() => "this protocol declares no invariants".to_string(),
            None if plan.cut_short => format!(
                "all {} held until the run was cut short (end-of-run invariants not judged): {}",
                selected.len(),
                selected.join(", ")
            ),
            None => format!(
                "all {} held throughout: {}",
                selected.len(),
                selected.join(", ")
            ),
            Some(first) => format!(
                "{} violations; first: {} at {}{}: {}",
                kept.len(),
                first.invariant,
                first.time,
                first
                    .node
                    .and_then(|n| names.get(n.index()))
                    .map(|name| format!(" on {name}"))
                    .unwrap_or_default(),
                first.message
            ),
        };
        Some(CheckResult {
            name: "invariants".into(),
            verdict: if kept.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            detail,
            violations: kept,
            counterexample: None,
        })
    }
}

/// Sequential consistency. A linearizable history is sequentially
/// consistent (clients never overlap their own operations and retire after
/// an unknown outcome), so the search runs only when linearizability did
/// not pass.
fn sequential_check(
    history: &History,
    linearizability: Option<&CheckResult>,
    plan: &ChecksPlan<'_>,
) -> CheckResult {
    let implied = linearizability.is_some_and(|c| c.verdict == Verdict::Pass);
    let (verdict, detail) = if implied {
        (
            Verdict::Pass,
            "implied: the history is linearizable".to_string(),
        )
    } else {
        let budget = Budget {
            steps_max: SEQUENTIAL_STEPS_MAX,
            memo_bytes_max: plan.memo_bytes_max.min(Budget::default().memo_bytes_max),
            ..Budget::default()
        };
        let report = sim_core::checker::sequential::check(history, &KvModel::default(), &budget);
        let detail = match report.verdict {
            Verdict::Pass => format!("{} operations have a legal order respecting each client's order", history.len()),
            Verdict::Fail => format!(
                "no legal order respects each client's order; the longest has {} operations, then none of {} operations can follow",
                report.longest_prefix.as_ref().map_or(0, Vec::len),
                report.blocked.len()
            ),
            Verdict::Unknown => memo_hint(report.unknown_reason.clone().unwrap_or_default(), plan),
        };
        (report.verdict, detail)
    };
    CheckResult {
        name: "sequential".into(),
        verdict,
        detail,
        violations: Vec::new(),
        counterexample: None,
    }
}
