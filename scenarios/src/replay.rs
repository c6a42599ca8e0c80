//! Replaying part of a run to see its events: the engine is deterministic,
//! so a resolved scenario run again makes the same decisions at the same
//! times, and a replay can record in detail what the first run only hashed.
//! The space-time diagram of a report is drawn from such a replay.
//!
//! A replay records the events in `[from, to]` (with their content in
//! words) and stops the engine at `to`: a diagram of the first second of
//! an hour-long run costs one second of simulation. Its verdicts are not
//! asked for, so nothing is checked.

use crate::outcome::{panic_message, PanicProgress};
use crate::run::plan;
use crate::run_error::RunError;
use crate::scenario::Scenario;
use crate::topology::sim_config;
use sim_core::{SimTime, TraceConfig, TraceRecord};

/// Events a replay records at most; past it, recording stops (the engine
/// goes on to `to`) and `Replay::truncated` says so.
pub const REPLAY_RECORDS_MAX: usize = 200_000;

/// What a replay recorded.
#[derive(Debug)]
pub struct Replay {
    /// The events in the window, in the order the engine ran them.
    pub records: Vec<TraceRecord>,
    /// Recording stopped at `REPLAY_RECORDS_MAX` before the window's end.
    pub truncated: bool,
    /// Where the engine stopped: `to`, or earlier when the run ended
    /// sooner (a limit, or an empty queue).
    pub end: SimTime,
    /// Set when the protocol panicked inside the window: its message. The
    /// records up to the panic are kept.
    pub panicked: Option<String>,
    /// Why the engine stopped before `to`, when a limit stopped it (the
    /// memory budget, most often), in words: the diagram is cut there.
    pub cut: Option<String>,
}

/// The memory a replay may use: the run's budget less what the run held
/// at its peak (`memory_peak_bytes` of its summary) or, when that is
/// unknown, its history. The replay runs while the run's outcome is still
/// held, and the allocator may keep what the run freed, so run and replay
/// together stay within one budget (as the checks do, see
/// `run::checks_memory_bytes`). Counts only: the diagram does not depend
/// on the machine.
pub fn replay_memory_bytes(budget_bytes: u64, run_peak_bytes: u64, history_bytes: u64) -> u64 {
    crate::run::checks_memory_bytes(budget_bytes, run_peak_bytes, history_bytes)
}

/// Runs `resolved` again up to `to`, recording the events from `from` on,
/// within `memory_bytes` (see `replay_memory_bytes`); past it the replay
/// stops early and `Replay::stop_reason` says so. Errors are the input
/// errors the run itself would give.
pub fn replay(
    resolved: &Scenario,
    from: SimTime,
    to: SimTime,
    memory_bytes: u64,
) -> Result<Replay, RunError> {
    assert!(from <= to, "a replay window runs forwards: {from} to {to}");
    let mut plan = plan(resolved)?;
    plan.stop_at = Some(to);
    plan.memory = crate::bytes::Bytes(memory_bytes.min(plan.memory.0));
    let mut config = sim_config(resolved)?;
    config.trace = TraceConfig {
        record: true,
        detail: true,
        records_max: REPLAY_RECORDS_MAX,
        record_from_ns: from.as_nanos(),
        record_to_ns: to.as_nanos(),
    };
    let protocol = &resolved.protocol;
    let driven = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        protocol.drive(&plan, config, &mut ())
    }));
    match driven {
        Ok(driven) => {
            let driven = driven?;
            Ok(Replay {
                truncated: driven.trace.len() >= REPLAY_RECORDS_MAX,
                records: driven.trace,
                end: driven.end,
                panicked: None,
                cut: driven.inconclusive.map(|why| cut_text(&why, plan.memory.0)),
            })
        }
        Err(payload) => {
            let (message, records) = match payload.downcast::<PanicProgress>() {
                Ok(progress) => (progress.message, progress.trace),
                Err(other) => (panic_message(other.as_ref()), Vec::new()),
            };
            let end = records.last().map_or(from, |r| r.time);
            Ok(Replay {
                truncated: records.len() >= REPLAY_RECORDS_MAX,
                records,
                end,
                panicked: Some(message),
                cut: None,
            })
        }
    }
}

/// Why a replay stopped early, for the diagram's notes.
fn cut_text(why: &crate::outcome::Inconclusive, memory_bytes: u64) -> String {
    if why.reason == "memory_limit" {
        format!(
            "it reached its memory, {}: the run's budget less the run's peak (raise limits.memory or --memory)",
            crate::bytes::Bytes(memory_bytes).approx()
        )
    } else {
        why.detail.clone()
    }
}
