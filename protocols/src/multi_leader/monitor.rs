//! The multi-leader store's invariants and metrics, judged in true time
//! from the region leaders' events.
//!
//! Invariants:
//! - `causal-delivery`: a store that claims causal delivery applies a
//!   remote write only after every write it depends on;
//! - `forwarding-ends`: no write is passed on more times than there are
//!   regions (a ring's longest path is R − 1 hops, a star's 2);
//! - `no-lost-updates` (at the end): every committed write of a register
//!   or set is held by some region, or was superseded by a write that saw
//!   it, or (last-writer-wins only, counted as `writes_lost_to_lww`) lost
//!   to a concurrent one. A write lost to one it happened after is a
//!   violation: the order a clock gave overruled causality;
//! - `counter-sum` (at the end): a counter region that applied every
//!   committed write reads their exact sum, and a grow-only counter never
//!   reads more than all committed increments anywhere.
//!
//! "Committed" is the server's view: the leader's write is on its disk
//! (the event is emitted once durable), so it counts whether or not its
//! reply reached the client. Causality is the key's: a write saw the
//! writes of its key that its region's state of the key included.

use super::messages::MultiLeaderEvent;
use super::params::REGIONS_LIMIT;
use super::resolution::{CrdtKind, Resolution, Write};
use crate::crdt::{Dot, VersionVector};
use crate::invariant::VIOLATIONS_AT_FINISH_MAX;
use crate::invariant::{push_sample, Monitor, ProtocolMetrics, Series, Violation};
use sim_core::{NodeId, SimTime};
use std::collections::{BTreeMap, BTreeSet};

pub const CAUSAL_DELIVERY: &str = "causal-delivery";
pub const FORWARDING_ENDS: &str = "forwarding-ends";
pub const NO_LOST_UPDATES: &str = "no-lost-updates";
pub const COUNTER_SUM: &str = "counter-sum";

/// Committed writes the monitor remembers at most: past it the end-of-run
/// checks are skipped (they would judge a partial record).
pub const WRITES_MAX: usize = 200_000;

/// The replication-lag series, one per receiving region.
const LAG_SERIES: [&str; REGIONS_LIMIT as usize] = [
    "replication_lag_ms/into region 1",
    "replication_lag_ms/into region 2",
    "replication_lag_ms/into region 3",
    "replication_lag_ms/into region 4",
    "replication_lag_ms/into region 5",
    "replication_lag_ms/into region 6",
    "replication_lag_ms/into region 7",
    "replication_lag_ms/into region 8",
    "replication_lag_ms/into region 9",
    "replication_lag_ms/into region 10",
    "replication_lag_ms/into region 11",
    "replication_lag_ms/into region 12",
];

#[derive(Debug)]
struct Committed {
    dot: Dot,
    key: String,
    deps: VersionVector,
    write: Write,
    time: SimTime,
    /// Regions that hold it (its origin first).
    regions: u32,
    /// Durable at its origin (`Took`); until then in doubt (`Taking`).
    committed: bool,
}

impl Committed {
    /// Whether this write's region had seen `dot` when it took it.
    fn saw(&self, dot: Dot) -> bool {
        self.deps.covers(dot)
    }
}

#[derive(Debug, Default)]
pub struct MultiLeaderMonitor {
    regions: u32,
    resolution: Option<Resolution>,
    writes: BTreeMap<Dot, Committed>,
    /// A register's or set's written value → its write.
    by_value: BTreeMap<(String, String), Dot>,
    /// Per (region, key), what a read there returns now.
    values: BTreeMap<(u32, String), Vec<String>>,
    /// Per region, writes applied there (its own and others').
    applied: BTreeMap<u32, u64>,
    /// Per key, the sum a counter's committed writes add.
    committed_sum: BTreeMap<String, i64>,
    cut: bool,
    looped_reported: bool,
    replication_lag_ms: Vec<f64>,
    replicated_everywhere_ms: Vec<f64>,
    lag_series: Vec<Series>,
    conflicts: u64,
    /// Per key, its conflicts.
    conflicted_keys: BTreeMap<String, u64>,
    conflicts_series: Series,
    /// (committed write, region) pairs not yet applied: the backlog that
    /// a heal drains, drawn over time (its fall to 0 after a partition is
    /// the convergence time).
    backlog: u64,
    backlog_series: Series,
    applied_before_dependencies: u64,
    forwards: u64,
    writes_lost_to_lww: u64,
    lost_writes: u64,
    /// One sample per run each, taken at the end, so that a sweep's
    /// chart compares groups run by run.
    per_run: Vec<(&'static str, Vec<f64>)>,
}

impl MultiLeaderMonitor {
    fn committed(&self) -> u64 {
        self.writes.values().filter(|w| w.committed).count() as u64
    }

    /// A write being taken: known from now on (a survivor of a crash may
    /// hold it), judged only once committed.
    fn on_taking(&mut self, time: SimTime, event: &MultiLeaderEvent) {
        let MultiLeaderEvent::Taking {
            dot,
            deps,
            key,
            write,
            ..
        } = event
        else {
            unreachable!("called for Taking")
        };
        if self.writes.len() >= WRITES_MAX {
            self.cut = true;
            return;
        }
        // A dot taken again: the first write's sync never completed and
        // nothing of it survived (its dot would have), so it is forgotten.
        self.record(time, *dot, deps, key, write, false);
    }

    /// Remembers a write (by its dot, and a register's or set's by its
    /// value), committed or in doubt.
    fn record(
        &mut self,
        time: SimTime,
        dot: Dot,
        deps: &VersionVector,
        key: &str,
        write: &Write,
        committed: bool,
    ) {
        if let Write::Put(v) | Write::Insert(v) = write {
            self.by_value.insert((key.to_string(), v.clone()), dot);
        }
        let written = Committed {
            dot,
            key: key.to_string(),
            deps: deps.clone(),
            write: write.clone(),
            time,
            regions: 1,
            committed,
        };
        self.writes.insert(dot, written);
    }

    fn note_value(&mut self, region: u32, key: &str, value: &[String]) {
        self.values
            .insert((region, key.to_string()), value.to_vec());
    }

    fn on_took(&mut self, time: SimTime, event: &MultiLeaderEvent) {
        let MultiLeaderEvent::Took {
            region,
            dot,
            deps,
            key,
            write,
            resolution,
            value,
        } = event
        else {
            unreachable!("called for Took")
        };
        self.resolution = Some(*resolution);
        self.note_value(*region, key, value);
        *self.applied.entry(*region).or_default() += 1;
        if let Write::Add(by) = write {
            *self.committed_sum.entry(key.clone()).or_default() += by;
        }
        let room = self.writes.len() < WRITES_MAX;
        match self.writes.get_mut(dot) {
            Some(taken) => {
                assert!(!taken.committed, "write {dot:?} committed twice");
                taken.committed = true;
                // Regions that applied it before its commit was reported
                // (it ships once durable, as the report goes) hold it.
                let owed = self.regions.saturating_sub(taken.regions);
                self.backlog += u64::from(owed);
                self.backlog_series
                    .push(time.as_secs_f64() * 1e3, self.backlog as f64);
            }
            // Reported committed with no `Taking` before it (a sequence a
            // test writes by hand): the event says all a `Taking` would.
            None if room => {
                self.record(time, *dot, deps, key, write, true);
                self.backlog += u64::from(self.regions.saturating_sub(1));
                self.backlog_series
                    .push(time.as_secs_f64() * 1e3, self.backlog as f64);
            }
            None => self.cut = true,
        }
    }

    fn on_applied(
        &mut self,
        time: SimTime,
        node: NodeId,
        event: &MultiLeaderEvent,
    ) -> Option<Violation> {
        let MultiLeaderEvent::Applied {
            region,
            dot,
            key,
            deps_met,
            causal,
            conflict,
            value,
        } = event
        else {
            unreachable!("called for Applied")
        };
        self.note_value(*region, key, value);
        // Completeness counts committed writes only (a write in doubt that
        // survived its origin's crash travels like any other).
        if self.writes.get(dot).is_some_and(|w| w.committed) {
            *self.applied.entry(*region).or_default() += 1;
        }
        if *conflict {
            self.conflicts += 1;
            self.conflicts_series
                .push(time.as_secs_f64() * 1e3, self.conflicts as f64);
            if self.conflicted_keys.len() < WRITES_MAX || self.conflicted_keys.contains_key(key) {
                *self.conflicted_keys.entry(key.clone()).or_default() += 1;
            }
        }
        if !deps_met {
            self.applied_before_dependencies += 1;
        }
        if let Some(write) = self.writes.get_mut(dot) {
            let lag_ms = time.saturating_since(write.time).as_secs_f64() * 1e3;
            push_sample(&mut self.replication_lag_ms, lag_ms);
            if let Some(series) = self.lag_series.get_mut(*region as usize) {
                series.push(time.as_secs_f64() * 1e3, lag_ms);
            }
            write.regions += 1;
            if write.committed {
                self.backlog = self.backlog.saturating_sub(1);
                self.backlog_series
                    .push(time.as_secs_f64() * 1e3, self.backlog as f64);
            }
            if write.regions == self.regions {
                push_sample(&mut self.replicated_everywhere_ms, lag_ms);
            }
        }
        if *causal && !deps_met {
            return Violation::at(
                CAUSAL_DELIVERY,
                time,
                Some(node),
                format!(
                    "region {} applied write {}:{} of key {key} before a write it depends on",
                    region + 1,
                    dot.node + 1,
                    dot.counter
                ),
            );
        }
        None
    }

    /// The end-of-run check of registers and sets (see the module doc).
    fn judge_lost(&mut self, time: SimTime, out: &mut Vec<Violation>) {
        let Some(resolution) = self.resolution else {
            return;
        };
        let kind = resolution.kind();
        if matches!(kind, CrdtKind::GCounter | CrdtKind::PnCounter) {
            return;
        }
        let mut held: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for ((_, key), values) in &self.values {
            held.entry(key.as_str())
                .or_default()
                .extend(values.iter().map(String::as_str));
        }
        let empty = BTreeSet::new();
        for (dot, write) in self.writes.iter().filter(|(_, w)| w.committed) {
            let (Write::Put(value) | Write::Insert(value)) = &write.write else {
                continue;
            };
            let holding = held.get(write.key.as_str()).unwrap_or(&empty);
            if holding.contains(value.as_str()) {
                continue;
            }
            let survivors: Vec<&Committed> = holding
                .iter()
                .filter_map(|v| self.by_value.get(&(write.key.clone(), v.to_string())))
                .filter_map(|d| self.writes.get(d))
                .collect();
            let superseded = kind != CrdtKind::OrSet && survivors.iter().any(|h| h.saw(*dot));
            let concurrent = survivors.iter().any(|h| !h.saw(*dot) && !write.saw(h.dot));
            if superseded {
                continue;
            }
            if concurrent && kind == CrdtKind::LwwRegister {
                self.writes_lost_to_lww += 1;
                continue;
            }
            self.lost_writes += 1;
            if out.len() < VIOLATIONS_AT_FINISH_MAX {
                out.push(Violation {
                    invariant: NO_LOST_UPDATES,
                    time,
                    node: None,
                    message: format!(
                        "write {value} (region {}'s write {}) to key {} was committed and no region holds it or a write that saw it; they hold {:?}",
                        dot.node + 1,
                        dot.counter,
                        write.key,
                        holding
                    ),
                });
            }
        }
    }

    /// The end-of-run check of counters (see the module doc).
    fn judge_counters(&self, time: SimTime, out: &mut Vec<Violation>) {
        let Some(resolution) = self.resolution else {
            return;
        };
        let kind = resolution.kind();
        if !matches!(kind, CrdtKind::GCounter | CrdtKind::PnCounter) {
            return;
        }
        let committed = self.committed();
        // Writes in doubt (taken, never reported committed: their origin
        // crashed while syncing) may or may not be in the counts.
        let mut doubt: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for w in self.writes.values().filter(|w| !w.committed) {
            if let Write::Add(by) = w.write {
                let (down, up) = doubt.entry(w.key.as_str()).or_default();
                *down += by.min(0);
                *up += by.max(0);
            }
        }
        for ((region, key), value) in &self.values {
            let read: i64 = value.first().and_then(|v| v.parse().ok()).unwrap_or(0);
            let sum = self.committed_sum.get(key).copied().unwrap_or(0);
            let (down, up) = doubt.get(key.as_str()).copied().unwrap_or_default();
            let complete = self.applied.get(region).copied().unwrap_or(0) >= committed;
            let over = kind == CrdtKind::GCounter && read > sum + up;
            let wrong = (complete && !(sum + down..=sum + up).contains(&read)) || over;
            if wrong && out.len() < VIOLATIONS_AT_FINISH_MAX {
                out.push(Violation {
                    invariant: COUNTER_SUM,
                    time,
                    node: None,
                    message: format!(
                        "region {} reads {read} for counter {key}, and its committed writes add up to {sum} (writes in doubt: {down} to +{up})",
                        region + 1
                    ),
                });
            }
        }
    }
}

impl Monitor<MultiLeaderEvent> for MultiLeaderMonitor {
    const INVARIANTS: &'static [&'static str] = &[
        CAUSAL_DELIVERY,
        FORWARDING_ENDS,
        NO_LOST_UPDATES,
        COUNTER_SUM,
    ];

    fn new(_servers: u32) -> Self {
        MultiLeaderMonitor {
            lag_series: (0..REGIONS_LIMIT).map(|_| Series::default()).collect(),
            ..Default::default()
        }
    }

    fn observe(
        &mut self,
        time: SimTime,
        node: NodeId,
        event: &MultiLeaderEvent,
    ) -> Option<Violation> {
        match event {
            MultiLeaderEvent::Began { region, regions } => {
                assert!(*region < *regions && *regions <= REGIONS_LIMIT);
                self.regions = *regions;
                None
            }
            MultiLeaderEvent::Taking { .. } => {
                self.on_taking(time, event);
                None
            }
            MultiLeaderEvent::Took { .. } => {
                self.on_took(time, event);
                None
            }
            MultiLeaderEvent::Applied { .. } => self.on_applied(time, node, event),
            MultiLeaderEvent::Merged { region, key, value } => {
                self.note_value(*region, key, value);
                None
            }
            MultiLeaderEvent::Forwarded { region, dot, hops } => {
                self.forwards += 1;
                if *hops < self.regions.max(2) || self.looped_reported {
                    return None;
                }
                self.looped_reported = true;
                Violation::at(
                    FORWARDING_ENDS,
                    time,
                    Some(node),
                    format!(
                        "region {} passed write {}:{} on for its hop {hops}, with {} regions: it went round",
                        region + 1,
                        dot.node + 1,
                        dot.counter,
                        self.regions
                    ),
                )
            }
        }
    }

    fn finish(&mut self, time: SimTime) -> Vec<Violation> {
        let mut out = Vec::new();
        if self.cut {
            return out; // A partial record judges nothing.
        }
        self.judge_lost(time, &mut out);
        self.judge_counters(time, &mut out);
        let seconds = time.as_secs_f64();
        let per_key: Vec<f64> = self.conflicted_keys.values().map(|c| *c as f64).collect();
        self.per_run = vec![
            (
                "conflicts_per_s",
                vec![if seconds > 0.0 {
                    self.conflicts as f64 / seconds
                } else {
                    0.0
                }],
            ),
            ("conflicts_per_key", per_key),
            (
                "writes_lost_to_lww_per_run",
                vec![self.writes_lost_to_lww as f64],
            ),
            ("conflicts_per_run", vec![self.conflicts as f64]),
            (
                "applied_before_dependencies_per_run",
                vec![self.applied_before_dependencies as f64],
            ),
        ];
        out
    }

    fn metrics(&self) -> ProtocolMetrics {
        let mut series: Vec<(&'static str, Vec<(f64, f64)>)> = self
            .lag_series
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.points().is_empty())
            .map(|(region, s)| (LAG_SERIES[region], s.points().to_vec()))
            .collect();
        if !self.conflicts_series.points().is_empty() {
            series.push(("conflicts", self.conflicts_series.points().to_vec()));
        }
        if !self.backlog_series.points().is_empty() {
            series.push((
                "writes_not_yet_everywhere",
                self.backlog_series.points().to_vec(),
            ));
        }
        let mut samples = vec![
            ("replication_lag_ms", self.replication_lag_ms.clone()),
            (
                "replicated_everywhere_ms",
                self.replicated_everywhere_ms.clone(),
            ),
        ];
        samples.extend(self.per_run.iter().cloned());
        ProtocolMetrics {
            samples,
            counts: vec![
                ("writes_committed", self.committed()),
                ("conflicts", self.conflicts),
                ("conflicted_keys", self.conflicted_keys.len() as u64),
                ("writes_lost_to_lww", self.writes_lost_to_lww),
                ("lost_writes", self.lost_writes),
                (
                    "applied_before_dependencies",
                    self.applied_before_dependencies,
                ),
                ("forwards", self.forwards),
            ],
            series,
            ..Default::default()
        }
    }

    fn heap_bytes(&self) -> usize {
        self.writes.len() * 160
            + self.by_value.len() * 96
            + self.values.len() * 96
            + self.replication_lag_ms.capacity() * 8
            + self.replicated_everywhere_ms.capacity() * 8
            + self
                .lag_series
                .iter()
                .map(Series::heap_bytes)
                .sum::<usize>()
    }
}
