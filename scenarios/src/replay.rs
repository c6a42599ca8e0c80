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
}

/// Runs `resolved` again up to `to`, recording the events from `from` on.
/// Errors are the input errors the run itself would give.
pub fn replay(resolved: &Scenario, from: SimTime, to: SimTime) -> Result<Replay, String> {
    assert!(from <= to, "a replay window runs forwards: {from} to {to}");
    let mut plan = plan(resolved)?;
    plan.stop_at = Some(to);
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
            })
        }
    }
}
