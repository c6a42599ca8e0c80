//! Availability over time: a run's history cut into windows, each with the
//! requests begun in it by how they ended, and the share of the requests
//! open during it that were served.
//!
//! "Served" means a server answered: an `ok`, or a `fail` the system gave
//! (a compare-and-set whose expected value did not match, an aborted
//! transaction). A healthy register under compare-and-set answers "no"
//! often, and is no less available for it. A request the client gave up on
//! (every attempt refused, or one unanswered) was not served.
//!
//! A window's share counts the requests *open* in it, not only those
//! begun in it: a closed-loop client stuck in an outage begins nothing for
//! as long as its request hangs, so a share by invocation has no value in
//! exactly the windows that matter, and a line drawn from it stops where
//! it should read 0. A request open across several windows counts in each,
//! as served or not by how it ended. A window reads 0 when no server
//! answered any request in it while one open in it was held up: it waited
//! longer than ten times the run's median served latency (the run's
//! "patience") in all. That is an outage, even if the request was served
//! later: a write held up by an election was not being served while it
//! waited. Both conditions matter: a healthy cluster goes a short window
//! without an answer now and then, and a slow one has requests open across
//! windows, and neither is an outage. A window with
//! no request open at all had no demand: its share is `None` ("no
//! requests"), never 0.

use serde::{Deserialize, Serialize};
use sim_core::history::{History, Outcome};

/// At most this many windows over a run; wider windows beyond.
pub const WINDOWS_MAX: usize = 2_000;

/// A request waiting longer than this many median latencies is held up.
pub const PATIENCE_MEDIANS: u64 = 10;

/// One window, `[start_ms, start_ms + width_ms)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub start_ms: f64,
    pub width_ms: f64,
    /// Requests begun in the window, by how they ended: answered ok,
    /// answered "no" by a server (served), given up on by the client with
    /// every attempt refused, or unknown.
    pub ok: u64,
    pub declined: u64,
    pub gave_up: u64,
    pub info: u64,
    /// Requests open at some point in the window (begun in it, or still
    /// waiting from before), and how many of those were served in the end.
    pub open: u64,
    pub open_served: u64,
    /// Requests a server answered in the window (served, ended in it).
    pub answered: u64,
    /// Requests open in the window that waited longer than the run's
    /// patience in all (see the module doc).
    pub held_up: u64,
}

impl Window {
    /// Requests begun in the window.
    pub fn begun(&self) -> u64 {
        self.ok + self.declined + self.gave_up + self.info
    }

    /// The share of the requests open in the window that were served; 0
    /// when no server answered any in it while one was held up; `None` when
    /// none was open (no demand, which is not an outage).
    pub fn served_share(&self) -> Option<f64> {
        debug_assert!(self.open_served <= self.open);
        if self.open == 0 {
            None
        } else if self.answered == 0 && self.held_up > 0 {
            Some(0.0)
        } else {
            Some(self.open_served as f64 / self.open as f64)
        }
    }
}

/// The window width for a run of `duration_ns`: `width_ms` unless that
/// makes more than `WINDOWS_MAX` windows, then the smallest width that fits.
pub fn width_ms(duration_ns: u64, width_ms: f64) -> f64 {
    width_ms.max(duration_ns as f64 / 1e6 / WINDOWS_MAX as f64)
}

/// The history's windows of `width_ms` over `[0, duration_ns)`. Requests
/// begun at or after the end fall in the last window.
pub fn windows(history: &History, duration_ns: u64, width_ms: f64) -> Vec<Window> {
    assert!(width_ms > 0.0, "a window has a width");
    let width_ns = width_ms * 1e6;
    let count = ((duration_ns as f64 / width_ns).ceil() as usize).clamp(1, WINDOWS_MAX);
    let index = |ns: u64| ((ns as f64 / width_ns) as usize).min(count - 1);
    let mut windows: Vec<Window> = (0..count)
        .map(|i| Window {
            start_ms: i as f64 * width_ms,
            width_ms,
            ok: 0,
            declined: 0,
            gave_up: 0,
            info: 0,
            open: 0,
            open_served: 0,
            answered: 0,
            held_up: 0,
        })
        .collect();
    let patience_ns = patience_ns(history);
    // Open requests by difference arrays: +1 at the first window a request
    // is open in, -1 after its last, so the cost is one pass, not one step
    // per window a request spans.
    let mut open_delta = vec![0i64; count + 1];
    let mut served_delta = vec![0i64; count + 1];
    let mut held_delta = vec![0i64; count + 1];
    for op in &history.operations {
        let first = index(op.invoke_ns);
        let window = &mut windows[first];
        match op.outcome {
            Outcome::Ok => window.ok += 1,
            Outcome::Fail if op.served() => window.declined += 1,
            Outcome::Fail => window.gave_up += 1,
            Outcome::Info => window.info += 1,
        }
        // Open until it ended; to the end when it never did. An end on a
        // window's first instant does not make it open there.
        let last = op.ended_ns().map_or(count - 1, |end| {
            index(end.saturating_sub(1).max(op.invoke_ns))
        });
        open_delta[first] += 1;
        open_delta[last + 1] -= 1;
        // Held up: it waited longer than the run's patience in all (to the
        // end of the run when it never ended).
        let waited_ns = op.ended_ns().unwrap_or(u64::MAX) - op.invoke_ns;
        if waited_ns > patience_ns {
            held_delta[first] += 1;
            held_delta[last + 1] -= 1;
        }
        if op.served() {
            served_delta[first] += 1;
            served_delta[last + 1] -= 1;
            windows[last].answered += 1;
        }
    }
    let (mut open, mut served, mut held) = (0i64, 0i64, 0i64);
    for (i, window) in windows.iter_mut().enumerate() {
        open += open_delta[i];
        served += served_delta[i];
        held += held_delta[i];
        window.open = open as u64;
        window.open_served = served as u64;
        window.held_up = held as u64;
        debug_assert!(window.held_up <= window.open);
        debug_assert!(window.answered <= window.open_served && window.open_served <= window.open);
    }
    windows
}

/// How long a request may wait in all before it counts as held up: ten times the
/// served requests' median latency (nearest rank), at least 1 ms. With
/// none served, 1 ms: every wait is then an outage. A median, not a high
/// percentile, because an outage's own requests fill the tail: a 200 ms
/// election holds one request per client, a percent of a short run's.
fn patience_ns(history: &History) -> u64 {
    let mut latencies: Vec<u64> = history
        .operations
        .iter()
        .filter(|op| op.served())
        .filter_map(|op| op.complete_ns.map(|done| done - op.invoke_ns))
        .collect();
    if latencies.is_empty() {
        return 1_000_000;
    }
    latencies.sort_unstable();
    let median = latencies[latencies.len().div_ceil(2) - 1];
    median.saturating_mul(PATIENCE_MEDIANS).max(1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::history::{Function, Operation};

    fn op(invoke_ms: u64, end_ms: Option<u64>, outcome: Outcome, gave_up: bool) -> Operation {
        let end = end_ms.map(|ms| ms * 1_000_000);
        Operation {
            process: 0,
            f: Function::Cas,
            key: "k".into(),
            value: Some("2".into()),
            expected: Some("1".into()),
            outcome,
            invoke_ns: invoke_ms * 1_000_000,
            complete_ns: end.filter(|_| outcome != Outcome::Info),
            gave_up_ns: end.filter(|_| gave_up),
        }
    }

    #[test]
    fn a_cas_a_server_declined_was_served_and_one_the_client_gave_up_on_was_not() {
        let history = History {
            operations: vec![
                op(10, Some(20), Outcome::Ok, false),
                op(30, Some(40), Outcome::Fail, false),
                op(50, Some(90), Outcome::Fail, true),
            ],
        };
        let w = &windows(&history, 100_000_000, 100.0)[0];
        assert_eq!((w.ok, w.declined, w.gave_up, w.info), (1, 1, 1, 0));
        assert_eq!((w.open, w.open_served), (3, 2));
        assert_eq!(w.served_share(), Some(2.0 / 3.0));
    }

    #[test]
    fn a_window_with_no_request_has_no_share_and_an_outage_reads_zero() {
        // One request at 10 ms, served at 20; then one from 150 ms that
        // hangs until its client gives up at 480 ms; nothing after.
        let history = History {
            operations: vec![
                op(10, Some(20), Outcome::Ok, false),
                op(150, Some(480), Outcome::Info, true),
            ],
        };
        let shares: Vec<Option<f64>> = windows(&history, 600_000_000, 100.0)
            .iter()
            .map(Window::served_share)
            .collect();
        assert_eq!(
            shares,
            [Some(1.0), Some(0.0), Some(0.0), Some(0.0), Some(0.0), None]
        );
    }

    #[test]
    fn waiting_through_a_window_no_server_answered_in_reads_zero_though_served_later() {
        // A write begun at 50 ms waits out an election and is served at
        // 320 ms; reads answer in 5 ms before it. The windows between
        // answer nothing: 0, not the write's eventual success.
        let mut operations: Vec<Operation> = (0..9)
            .map(|i| op(i * 5, Some(i * 5 + 5), Outcome::Ok, false))
            .collect();
        operations.push(op(50, Some(320), Outcome::Ok, false));
        let history = History { operations };
        let shares: Vec<Option<f64>> = windows(&history, 400_000_000, 100.0)
            .iter()
            .map(Window::served_share)
            .collect();
        assert_eq!(shares, [Some(1.0), Some(0.0), Some(0.0), Some(1.0)]);
    }

    #[test]
    fn a_request_slower_than_a_window_is_served_where_others_are_answered() {
        // Latency 150 ms in 100 ms windows: always waiting across a
        // window, never stuck.
        let history = History {
            operations: (0..8)
                .map(|i| op(i * 50, Some(i * 50 + 150), Outcome::Ok, false))
                .collect(),
        };
        let shares: Vec<Option<f64>> = windows(&history, 500_000_000, 100.0)
            .iter()
            .map(Window::served_share)
            .collect();
        assert_eq!(shares, [Some(1.0); 5]);
    }

    #[test]
    fn a_request_ending_on_a_boundary_is_not_open_in_the_next_window() {
        let history = History {
            operations: vec![op(50, Some(100), Outcome::Ok, false)],
        };
        let opens: Vec<u64> = windows(&history, 200_000_000, 100.0)
            .iter()
            .map(|w| w.open)
            .collect();
        assert_eq!(opens, [1, 0]);
    }

    #[test]
    fn an_unknown_outcome_open_at_the_end_stays_open_to_the_last_window() {
        let history = History {
            operations: vec![op(250, None, Outcome::Info, false)],
        };
        let opens: Vec<u64> = windows(&history, 400_000_000, 100.0)
            .iter()
            .map(|w| w.open)
            .collect();
        assert_eq!(opens, [0, 0, 1, 1]);
    }
}
