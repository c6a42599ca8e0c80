//! Invariant monitors: protocol properties checked as the run goes, from the
//! events servers emit, rather than only at the end. A monitor may also
//! measure protocol metrics from the same events (it alone sees them in
//! true-time order).

use serde::Serialize;
use sim_core::{NodeId, SimTime};

/// Violations a monitor reports at the end of a run at most.
pub const VIOLATIONS_AT_FINISH_MAX: usize = 100;

/// One broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub invariant: &'static str,
    pub time: SimTime,
    pub node: Option<NodeId>,
    pub message: String,
}

impl Violation {
    /// A violation, as `Monitor::observe` returns it.
    pub fn at(
        invariant: &'static str,
        time: SimTime,
        node: Option<NodeId>,
        message: String,
    ) -> Option<Violation> {
        Some(Violation {
            invariant,
            time,
            node,
            message,
        })
    }
}

/// Samples a monitor keeps per metric at most.
pub const SAMPLES_MAX: usize = 100_000;

/// Adds `value` to a metric's samples, unless they are `SAMPLES_MAX` already.
pub fn push_sample(samples: &mut Vec<f64>, value: f64) {
    if samples.len() < SAMPLES_MAX {
        samples.push(value);
    }
}

/// Metrics a monitor measured: named samples (summarised into percentiles),
/// named counts, and named series over time, which a run report draws
/// (a name "metric/line" puts the line on the chart of `metric`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProtocolMetrics {
    pub samples: Vec<(&'static str, Vec<f64>)>,
    pub counts: Vec<(&'static str, u64)>,
    /// (true time in ms, value) points, in time order, at most
    /// `SERIES_POINTS_MAX` each (`Series` thins a longer one).
    pub series: Vec<(&'static str, Vec<(f64, f64)>)>,
    /// Each read's t-visibility threshold, from a monitor that can tell
    /// (`sim_core::checker::visibility`).
    #[serde(skip)]
    pub visibility: Option<sim_core::checker::visibility::Thresholds>,
    /// A lock's acquires and releases as its clients saw them, from a
    /// monitor that records them (`Capabilities::lock_history`), in
    /// Jepsen's form for the `mutex` model; `cut` when the history
    /// outgrew its bound and cannot be judged.
    #[serde(skip)]
    pub mutex_history: Option<MutexHistory>,
}

/// A lock's own history (see `ProtocolMetrics::mutex_history`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MutexHistory {
    pub ops: Vec<sim_core::history::jepsen::JepsenOp>,
    /// Operations left out past the bound: the history cannot be judged.
    pub cut: u64,
}

impl MutexHistory {
    /// Process numbers of one node are `node + k × PROCESS_STRIDE`: a
    /// client whose operation ended unknown (it crashed) goes on as a new
    /// process, as Jepsen's clients do.
    pub const PROCESS_STRIDE: u64 = 1 << 20;

    /// The node behind a process.
    pub fn node_of(process: u64) -> NodeId {
        NodeId((process % Self::PROCESS_STRIDE) as u32)
    }
}

/// Points a series keeps at most.
pub const SERIES_POINTS_MAX: usize = 2_048;

/// A metric over time, bounded: when full it drops every other point and
/// from then on keeps one point in twice as many, so a long run keeps an
/// even sketch of its whole length. Deterministic: no sampling by chance.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    points: Vec<(f64, f64)>,
    /// Keep one offered point in this many.
    stride: u64,
    offered: u64,
}

impl Series {
    pub fn push(&mut self, time_ms: f64, value: f64) {
        let stride = self.stride.max(1);
        self.offered += 1;
        if !(self.offered - 1).is_multiple_of(stride) {
            return;
        }
        if self.points.len() == SERIES_POINTS_MAX {
            let kept: Vec<(f64, f64)> = self.points.iter().copied().step_by(2).collect();
            self.points = kept;
            self.stride = stride * 2;
        }
        self.points.push((time_ms, value));
    }

    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    pub fn heap_bytes(&self) -> usize {
        self.points.capacity() * 16
    }
}

/// A monitor watches one protocol's events, in true-time order.
pub trait Monitor<E>: Sized {
    /// The invariant names this monitor checks.
    const INVARIANTS: &'static [&'static str];
    /// A monitor for a cluster of `servers` servers (ids `0..servers`).
    fn new(servers: u32) -> Self;
    /// Sees one event; returns a violation if it broke an invariant.
    fn observe(&mut self, time: SimTime, node: NodeId, event: &E) -> Option<Violation>;
    /// The engine crashed server `node` at `time` (told in time order with events).
    fn node_crashed(&mut self, time: SimTime, node: NodeId) {
        let _ = (time, node);
    }
    /// At the end of the run: what can only be judged then.
    fn finish(&mut self, time: SimTime) -> Vec<Violation> {
        let _ = time;
        Vec::new()
    }
    /// What the monitor measured.
    fn metrics(&self) -> ProtocolMetrics {
        ProtocolMetrics::default()
    }
    /// Heap memory the monitor holds, for the run's memory budget (an
    /// estimate from lengths; the runner asks each time it drains outputs).
    fn heap_bytes(&self) -> usize {
        0
    }
}

/// For protocols with no invariants of their own.
#[derive(Debug, Default)]
pub struct NoInvariants;

impl<E> Monitor<E> for NoInvariants {
    const INVARIANTS: &'static [&'static str] = &[];
    fn new(_servers: u32) -> Self {
        NoInvariants
    }
    fn observe(&mut self, _time: SimTime, _node: NodeId, _event: &E) -> Option<Violation> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_series_halves_and_keeps_an_even_sketch() {
        let mut series = Series::default();
        for i in 0..SERIES_POINTS_MAX as u64 {
            series.push(i as f64, 1.0);
        }
        assert_eq!(series.points().len(), SERIES_POINTS_MAX);
        // The next point halves it: every other point, then one in two.
        series.push(SERIES_POINTS_MAX as f64, 1.0);
        assert_eq!(series.points().len(), SERIES_POINTS_MAX / 2 + 1);
        assert_eq!(series.points()[1].0, 2.0);
        series.push(SERIES_POINTS_MAX as f64 + 1.0, 1.0);
        assert_eq!(series.points().len(), SERIES_POINTS_MAX / 2 + 1, "skipped");
        series.push(SERIES_POINTS_MAX as f64 + 2.0, 1.0);
        assert_eq!(
            series.points().last().unwrap().0,
            SERIES_POINTS_MAX as f64 + 2.0
        );
    }
}
