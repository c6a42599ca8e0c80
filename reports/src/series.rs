//! The data behind each run chart, computed apart from the drawing so that
//! tests can check it exactly: latency points (thinned by a documented
//! rule), per-window latency quantiles and outcome counts, and empirical
//! CDFs.
//!
//! Times are milliseconds from the start of the run; latencies are
//! milliseconds. An operation that never completed (`Info`) has no
//! latency: it is drawn at the run's end less its invocation, a lower
//! bound of what it took, and marked as such by its outcome.

use sim_core::history::{Function, History, Operation, Outcome};

/// Latency points drawn at most, give or take `SLICES` (see
/// `latency_points`). Past it, `latency_points` thins.
pub const POINTS_MAX: usize = 20_000;
/// Failures, unknown outcomes and outliers drawn at most, when there are
/// more than this (a workload of contended compare-and-sets fails most of
/// them).
pub const KEPT_MAX: usize = 15_000;
/// Time slices over which thinned failures stay visible: the first
/// failure, unknown outcome or outlier of each slice is always drawn.
pub const SLICES: usize = 1_000;
/// Windows of a windowed chart at most (the window widens to fit).
pub use scenarios::availability::WINDOWS_MAX;

/// One operation on the latency chart.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyPoint {
    /// When it was invoked, in ms from the start.
    pub at_ms: f64,
    pub latency_ms: f64,
    pub f: Function,
    pub outcome: Outcome,
}

/// The latency chart's points, and how many operations they stand for.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyPoints {
    pub points: Vec<LatencyPoint>,
    /// Operations in the history.
    pub operations: usize,
    /// Whether some successful operations were left out (see `latency_points`).
    pub thinned: bool,
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// An operation's latency in ms: to its completion, or, if it never
/// completed, to `end_ns` (a lower bound).
pub fn latency_ms(op: &Operation, end_ns: u64) -> f64 {
    ms(op
        .complete_ns
        .unwrap_or(end_ns)
        .saturating_sub(op.invoke_ns))
}

/// Every operation as a point, in the history's order. The thinning rule,
/// past `POINTS_MAX` operations:
/// - the failed and unknown operations and those slower than the 99th
///   percentile of all latencies (the *kept*) are all drawn when they
///   number at most `KEPT_MAX`; past that, every k-th of them in history
///   order (the smallest k that fits), plus the first of them in each of
///   `SLICES` equal slices of the run, so that no burst disappears;
/// - of the other (successful, not slow) operations, every j-th in history
///   order, with j the smallest that fills what is left of `POINTS_MAX`.
///
/// So at most `POINTS_MAX + SLICES` points are drawn, whatever the run's
/// size, and every failure is drawn up to `KEPT_MAX` of them.
pub fn latency_points(history: &History, end_ns: u64) -> LatencyPoints {
    let ops = &history.operations;
    let point = |op: &Operation| LatencyPoint {
        at_ms: ms(op.invoke_ns),
        latency_ms: latency_ms(op, end_ns),
        f: op.f,
        outcome: op.outcome,
    };
    if ops.len() <= POINTS_MAX {
        return LatencyPoints {
            points: ops.iter().map(point).collect(),
            operations: ops.len(),
            thinned: false,
        };
    }
    let p99 = quantile(
        &mut ops
            .iter()
            .map(|op| latency_ms(op, end_ns))
            .collect::<Vec<_>>(),
        0.99,
    );
    let is_kept = |op: &Operation| op.outcome != Outcome::Ok || latency_ms(op, end_ns) > p99;
    let kept = ops.iter().filter(|op| is_kept(op)).count();
    let kept_every = kept.div_ceil(KEPT_MAX).max(1);
    let rest = ops.len() - kept;
    let room = POINTS_MAX.saturating_sub(kept.min(KEPT_MAX)).max(1);
    let rest_every = rest.div_ceil(room).max(1);
    let slice_ns = (end_ns / SLICES as u64).max(1);
    let (mut kept_seen, mut rest_seen) = (0usize, 0usize);
    let mut last_slice = None;
    let points = ops
        .iter()
        .filter(|op| {
            if is_kept(op) {
                kept_seen += 1;
                let slice = op.invoke_ns / slice_ns;
                let first_of_slice = last_slice != Some(slice);
                last_slice = Some(slice);
                return first_of_slice || (kept_seen - 1) % kept_every == 0;
            }
            rest_seen += 1;
            (rest_seen - 1) % rest_every == 0
        })
        .map(point)
        .collect();
    LatencyPoints {
        points,
        operations: ops.len(),
        thinned: rest_every > 1 || kept_every > 1,
    }
}

/// The `q` quantile (0..=1) of `values` by the nearest-rank method; 0 for
/// none. Sorts `values`.
pub fn quantile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = (q * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

/// One time window of a windowed chart: [start, start + width), with its
/// requests counted (`scenarios::availability`, the same counts a run's
/// metrics.json holds) and the latency quantiles of those begun in it.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    pub counts: scenarios::availability::Window,
    /// Latency quantiles of the operations invoked in the window that
    /// completed (ok or fail); `None` when none did.
    pub quantiles: Option<Quantiles>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Window {
    /// The share of the requests open in the window that were served;
    /// `None` when none was open.
    pub fn served_share(&self) -> Option<f64> {
        self.counts.served_share()
    }
}

/// The window width for a run of `duration_ns`: `width_ms` unless that
/// makes more than `WINDOWS_MAX` windows, then the smallest width that fits.
pub fn window_width_ms(duration_ns: u64, width_ms: f64) -> f64 {
    scenarios::availability::width_ms(duration_ns, width_ms)
}

/// Operations by the window of their invocation, over `[0, duration)`.
pub fn windows(history: &History, duration_ns: u64, width_ms: f64) -> Vec<Window> {
    let counts = scenarios::availability::windows(history, duration_ns, width_ms);
    let count = counts.len();
    let mut latencies: Vec<Vec<f64>> = vec![Vec::new(); count];
    for op in &history.operations {
        let index = ((ms(op.invoke_ns) / width_ms) as usize).min(count - 1);
        if op.complete_ns.is_some() {
            latencies[index].push(latency_ms(op, duration_ns));
        }
    }
    counts
        .into_iter()
        .zip(latencies)
        .map(|(counts, mut values)| Window {
            counts,
            quantiles: (!values.is_empty()).then(|| Quantiles {
                p50: quantile(&mut values, 0.50),
                p95: quantile(&mut values, 0.95),
                p99: quantile(&mut values, 0.99),
                max: *values.last().expect("not empty"),
            }),
        })
        .collect()
}

/// A windowed value as line runs: (window middle, value) points, broken
/// where a window has no value, so a line never bridges an empty stretch
/// (a leaderless gap has no latency, and must not look like one).
pub fn runs(windows: &[Window], value: impl Fn(&Window) -> Option<f64>) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for window in windows {
        match value(window) {
            Some(v) => current.push((window.counts.start_ms + window.counts.width_ms / 2.0, v)),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// The empirical CDF of `samples`: for each distinct value, the fraction
/// of samples at or below it, in increasing order.
pub fn ecdf(samples: &[f64]) -> Vec<(f64, f64)> {
    let mut sorted: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let mut steps: Vec<(f64, f64)> = Vec::new();
    for (i, value) in sorted.iter().enumerate() {
        let fraction = (i + 1) as f64 / n;
        match steps.last_mut() {
            Some(last) if last.0 == *value => last.1 = fraction,
            _ => steps.push((*value, fraction)),
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(invoke_ms: u64, latency_ms: Option<u64>, outcome: Outcome) -> Operation {
        Operation {
            process: 0,
            f: Function::Write,
            key: "k".into(),
            value: Some("v".into()),
            expected: None,
            outcome,
            invoke_ns: invoke_ms * 1_000_000,
            complete_ns: latency_ms.map(|l| (invoke_ms + l) * 1_000_000),
            gave_up_ns: None,
        }
    }

    #[test]
    fn every_operation_is_a_point_below_the_bound() {
        let history = History {
            operations: vec![
                op(0, Some(5), Outcome::Ok),
                op(10, Some(7), Outcome::Fail),
                op(20, None, Outcome::Info),
            ],
        };
        let points = latency_points(&history, 100_000_000);
        assert!(!points.thinned);
        assert_eq!(points.operations, 3);
        let got: Vec<(f64, f64, Outcome)> = points
            .points
            .iter()
            .map(|p| (p.at_ms, p.latency_ms, p.outcome))
            .collect();
        // The unknown one runs to the end of the run: 100 - 20 ms.
        assert_eq!(
            got,
            [
                (0.0, 5.0, Outcome::Ok),
                (10.0, 7.0, Outcome::Fail),
                (20.0, 80.0, Outcome::Info)
            ]
        );
    }

    #[test]
    fn thinning_keeps_every_failure_and_every_outlier_and_fits_the_bound() {
        let n = 100_000u64;
        let operations = (0..n)
            .map(|i| {
                let outcome = if i % 1_000 == 0 {
                    Outcome::Fail
                } else {
                    Outcome::Ok
                };
                // One in 200 is slow (above the 99th percentile).
                let latency = if i % 200 == 7 { 500 } else { 1 + i % 5 };
                op(i, Some(latency), outcome)
            })
            .collect();
        let history = History { operations };
        let points = latency_points(&history, n * 1_000_000);
        assert!(points.thinned);
        assert_eq!(points.operations, n as usize);
        assert!(
            points.points.len() <= POINTS_MAX + SLICES,
            "{}",
            points.points.len()
        );
        let failures = points
            .points
            .iter()
            .filter(|p| p.outcome == Outcome::Fail)
            .count();
        assert_eq!(failures, 100);
        let slow = points
            .points
            .iter()
            .filter(|p| p.latency_ms == 500.0)
            .count();
        assert_eq!(slow, 500);
        // Points stay in history order.
        assert!(points.points.windows(2).all(|w| w[0].at_ms < w[1].at_ms));
    }

    #[test]
    fn past_kept_max_failures_are_thinned_but_every_slice_keeps_one() {
        let n = 200_000u64;
        // Half fail, in bursts: failures only in the second half of each
        // 10,000 ms stretch.
        let operations = (0..n)
            .map(|i| {
                let outcome = if (i / 5_000) % 2 == 1 {
                    Outcome::Fail
                } else {
                    Outcome::Ok
                };
                op(i, Some(1 + i % 5), outcome)
            })
            .collect();
        let history = History { operations };
        let end_ns = n * 1_000_000;
        let points = latency_points(&history, end_ns);
        assert!(points.thinned);
        assert!(
            points.points.len() <= POINTS_MAX + SLICES,
            "{}",
            points.points.len()
        );
        let failures = points
            .points
            .iter()
            .filter(|p| p.outcome == Outcome::Fail)
            .count();
        assert!(
            (KEPT_MAX / 2..=KEPT_MAX + SLICES).contains(&failures),
            "{failures}"
        );
        // Every slice of the run that had a failure still shows one.
        let slice_ms = (end_ns / SLICES as u64) as f64 / 1e6;
        let with_failures: std::collections::BTreeSet<u64> = history
            .operations
            .iter()
            .filter(|o| o.outcome == Outcome::Fail)
            .map(|o| (o.invoke_ns as f64 / 1e6 / slice_ms) as u64)
            .collect();
        let drawn: std::collections::BTreeSet<u64> = points
            .points
            .iter()
            .filter(|p| p.outcome == Outcome::Fail)
            .map(|p| (p.at_ms / slice_ms) as u64)
            .collect();
        assert_eq!(drawn, with_failures);
    }

    #[test]
    fn windows_count_outcomes_and_quantiles_by_invocation() {
        let history = History {
            operations: vec![
                op(100, Some(10), Outcome::Ok),
                op(200, Some(30), Outcome::Ok),
                op(900, Some(20), Outcome::Fail),
                op(1_500, None, Outcome::Info),
            ],
        };
        let windows = windows(&history, 2_000_000_000, 1_000.0);
        assert_eq!(windows.len(), 2);
        let counts = |w: &Window| (w.counts.ok, w.counts.declined, w.counts.info);
        // The fail is a server's "no": served.
        assert_eq!(counts(&windows[0]), (2, 1, 0));
        assert_eq!(counts(&windows[1]), (0, 0, 1));
        let q = windows[0].quantiles.expect("three completed");
        assert_eq!((q.p50, q.p95, q.max), (20.0, 30.0, 30.0));
        assert_eq!(windows[1].quantiles, None);
        assert_eq!(windows[0].served_share(), Some(1.0));
        assert_eq!(windows[1].served_share(), Some(0.0));
    }

    #[test]
    fn lines_break_at_windows_without_a_value() {
        let history = History {
            operations: vec![
                op(100, Some(10), Outcome::Ok),
                op(2_100, Some(30), Outcome::Ok),
                op(2_900, Some(20), Outcome::Ok),
            ],
        };
        let windows = windows(&history, 3_000_000_000, 1_000.0);
        let runs = runs(&windows, |w| w.quantiles.map(|q| q.max));
        assert_eq!(runs, [vec![(500.0, 10.0)], vec![(2_500.0, 30.0)]]);
    }

    #[test]
    fn window_width_grows_to_keep_the_count_bounded() {
        assert_eq!(window_width_ms(10_000_000_000, 100.0), 100.0);
        // A week in 100 ms windows would be six million windows.
        let width = window_width_ms(7 * 86_400 * 1_000_000_000, 100.0);
        assert_eq!(width, 7.0 * 86_400_000.0 / WINDOWS_MAX as f64);
    }

    #[test]
    fn ecdf_steps_match_the_samples() {
        assert_eq!(
            ecdf(&[3.0, 1.0, 2.0, 2.0]),
            [(1.0, 0.25), (2.0, 0.75), (3.0, 1.0)]
        );
        assert!(ecdf(&[]).is_empty());
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let mut values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&mut values, 0.5), 50.0);
        assert_eq!(quantile(&mut values, 0.99), 99.0);
        assert_eq!(quantile(&mut values, 1.0), 100.0);
        assert_eq!(quantile(&mut [], 0.5), 0.0);
    }
}
