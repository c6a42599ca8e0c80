//! Primary-backup's invariants, checked as the run goes, and its metrics:
//! writes lost per failover, replication lag, time without a serving
//! primary, and the semi-sync fallbacks.
//!
//! The monitor mirrors every server's log (as digests) from `Appended`,
//! `Accepted`, `Truncated` and `Recovered`, and each recent epoch's
//! primary log, so it judges a promotion at the moment it happens.

use super::messages::PbEvent;
use crate::invariant::{push_sample, Monitor, ProtocolMetrics, Series, Violation};
use sim_core::{NodeId, SimTime};
use std::collections::BTreeMap;

pub const ONE_PRIMARY_PER_EPOCH: &str = "one-primary-per-epoch";
pub const BACKUP_LOG_PREFIX: &str = "backup-log-is-primary-prefix";
pub const NO_SAFE_WRITE_LOST: &str = "no-promised-write-lost";

/// Epochs whose primary log is mirrored, at most (appends of older epochs
/// still in flight are not checked).
const EPOCH_LOGS_KEPT: usize = 8;
/// Per-backup lag metrics are named for servers 1..=8 (the params allow 9 servers).
const LAG_MS_NAMES: [&str; 9] = [
    "replication_lag_ms_server0",
    "replication_lag_ms_server1",
    "replication_lag_ms_server2",
    "replication_lag_ms_server3",
    "replication_lag_ms_server4",
    "replication_lag_ms_server5",
    "replication_lag_ms_server6",
    "replication_lag_ms_server7",
    "replication_lag_ms_server8",
];

/// The same, as series over time: the run report draws each metric's
/// lines, one per backup, on one chart.
const LAG_MS_SERIES: [&str; 9] = [
    "replication_lag_ms/server0",
    "replication_lag_ms/server1",
    "replication_lag_ms/server2",
    "replication_lag_ms/server3",
    "replication_lag_ms/server4",
    "replication_lag_ms/server5",
    "replication_lag_ms/server6",
    "replication_lag_ms/server7",
    "replication_lag_ms/server8",
];
const LAG_ENTRIES_SERIES: [&str; 9] = [
    "replication_lag_entries/server0",
    "replication_lag_entries/server1",
    "replication_lag_entries/server2",
    "replication_lag_entries/server3",
    "replication_lag_entries/server4",
    "replication_lag_entries/server5",
    "replication_lag_entries/server6",
    "replication_lag_entries/server7",
    "replication_lag_entries/server8",
];

/// One committed entry, as the primary that committed it reported it.
#[derive(Debug)]
struct Commit {
    digest: u64,
    epoch: u64,
    write: bool,
    safe: bool,
    /// Already counted as lost at a promotion.
    lost: bool,
}

#[derive(Debug)]
pub struct PbMonitor {
    primaries: BTreeMap<u64, NodeId>,
    /// Each server's log, as entry digests.
    logs: Vec<Vec<u64>>,
    /// Each recent epoch's primary log.
    epoch_logs: BTreeMap<u64, Vec<u64>>,
    committed: BTreeMap<u64, Commit>,
    /// The primary now and its epoch.
    current: Option<(NodeId, u64)>,
    /// When the current primary appended each entry from `appended_base + 1` on.
    appended_at: Vec<SimTime>,
    appended_base: u64,
    promoted_at: SimTime,
    /// Client writes committed since the last promotion.
    acked_since_promotion: u64,
    promotions: u64,
    committed_writes: u64,
    lost_total: u64,
    lost_per_failover: Vec<f64>,
    lost_pct_per_failover: Vec<f64>,
    /// Per truncation that removed answered writes: how many.
    lost_at_rejoin: Vec<f64>,
    commit_latency_ms: Vec<f64>,
    lag_entries: Vec<f64>,
    lag_ms: Vec<f64>,
    lag_ms_by_backup: Vec<Vec<f64>>,
    /// Per server, its lag at each ack (in ms and in entries) over time.
    lag_ms_over_time: Vec<Series>,
    lag_entries_over_time: Vec<Series>,
    /// Since when no primary has served (its crash, or its lease lapsing).
    unserved_since: Option<SimTime>,
    without_primary_ms: Vec<f64>,
    degraded_since: Option<SimTime>,
    degraded_ms: Vec<f64>,
    fallbacks: u64,
}

fn ms(from: SimTime, to: SimTime) -> f64 {
    to.saturating_since(from).as_millis_f64()
}

fn set_at(log: &mut Vec<u64>, index: u64, digest: u64) {
    log.truncate(index as usize - 1);
    // A gap (an append the mirror missed) is a monitor bug.
    assert_eq!(log.len() as u64 + 1, index, "a gap in a mirrored log");
    log.push(digest);
}

impl PbMonitor {
    fn on_promoted(&mut self, time: SimTime, node: NodeId, epoch: u64) -> Option<Violation> {
        if let Some(other) = self.primaries.insert(epoch, node) {
            if other != node {
                return Violation::at(
                    ONE_PRIMARY_PER_EPOCH,
                    time,
                    Some(node),
                    format!("{node} and {other} were both promoted primary of epoch {epoch}"),
                );
            }
        }
        self.epoch_logs
            .insert(epoch, self.logs[node.index()].clone());
        while self.epoch_logs.len() > EPOCH_LOGS_KEPT {
            self.epoch_logs.pop_first();
        }
        let first = self.promotions == 0;
        self.promotions += 1;
        self.current = Some((node, epoch));
        self.appended_base = self.logs[node.index()].len() as u64;
        self.appended_at.clear();
        self.promoted_at = time;
        // Every entry an earlier primary committed must be in this log;
        // those that are not are the writes this failover lost.
        let log = &self.logs[node.index()];
        let mut lost = 0u64;
        let mut broken = None;
        for (index, commit) in self.committed.iter_mut() {
            if commit.lost || commit.epoch >= epoch {
                continue;
            }
            if log.get(*index as usize - 1) != Some(&commit.digest) {
                commit.lost = true;
                lost += u64::from(commit.write);
                if commit.safe && broken.is_none() {
                    broken = Some(*index);
                }
            }
        }
        if !first {
            self.lost_total += lost;
            push_sample(&mut self.lost_per_failover, lost as f64);
            if self.acked_since_promotion > 0 {
                let pct = 100.0 * lost as f64 / self.acked_since_promotion as f64;
                push_sample(&mut self.lost_pct_per_failover, pct.min(100.0));
            }
        }
        self.acked_since_promotion = 0;
        broken.and_then(|index| {
            Violation::at(
                NO_SAFE_WRITE_LOST,
                time,
                Some(node),
                format!(
                    "{node}, promoted in epoch {epoch}, lacks the write committed at index {index}, which its mode had promised was on the backups"
                ),
            )
        })
    }

    fn on_accepted(
        &mut self,
        time: SimTime,
        node: NodeId,
        epoch: u64,
        from: u64,
        digests: &[u64],
    ) -> Option<Violation> {
        let log = &mut self.logs[node.index()];
        log.truncate(from as usize - 1);
        assert_eq!(log.len() as u64 + 1, from, "a gap in a mirrored log");
        log.extend_from_slice(digests);
        let primary_log = self.epoch_logs.get(&epoch)?;
        let start = from as usize - 1;
        let theirs = primary_log.get(start..start + digests.len());
        if theirs != Some(digests) {
            return Violation::at(
                BACKUP_LOG_PREFIX,
                time,
                Some(node),
                format!(
                    "{node} took entries {from}..{} in epoch {epoch} that its primary's log does not hold there",
                    from + digests.len() as u64 - 1
                ),
            );
        }
        None
    }

    fn on_acked(&mut self, time: SimTime, backup: u32, index: u64, last: u64) {
        push_sample(&mut self.lag_entries, last.saturating_sub(index) as f64);
        // How long the oldest entry the backup lacks has waited.
        let lag_ms = if index >= last {
            0.0
        } else {
            let offset = (index + 1).checked_sub(self.appended_base + 1);
            let appended = offset
                .and_then(|o| self.appended_at.get(o as usize).copied())
                .unwrap_or(self.promoted_at);
            ms(appended, time)
        };
        push_sample(&mut self.lag_ms, lag_ms);
        if let Some(samples) = self.lag_ms_by_backup.get_mut(backup as usize) {
            push_sample(samples, lag_ms);
        }
        let at_ms = time.since_start().as_millis_f64();
        if let Some(series) = self.lag_ms_over_time.get_mut(backup as usize) {
            series.push(at_ms, lag_ms);
        }
        if let Some(series) = self.lag_entries_over_time.get_mut(backup as usize) {
            series.push(at_ms, last.saturating_sub(index) as f64);
        }
    }

    /// A server removing committed entries that the primary lacks: a
    /// deposed primary's answered writes, gone at its return (a promotion
    /// counted those it already knew of).
    fn on_truncated(&mut self, node: NodeId, from: u64) {
        let primary_log = self.current.map(|(p, _)| &self.logs[p.index()]);
        let log = &self.logs[node.index()];
        let mut lost = 0u64;
        for (index, commit) in self.committed.range_mut(from..) {
            let slot = *index as usize - 1;
            let held = log.get(slot) == Some(&commit.digest);
            let kept = primary_log.is_some_and(|p| p.get(slot) == Some(&commit.digest));
            if !commit.lost && held && !kept {
                commit.lost = true;
                lost += u64::from(commit.write);
            }
        }
        if lost > 0 {
            self.lost_total += lost;
            push_sample(&mut self.lost_at_rejoin, lost as f64);
        }
        self.logs[node.index()].truncate(from as usize - 1);
    }

    fn primary_stopped(&mut self, time: SimTime) {
        self.unserved_since.get_or_insert(time);
        if let Some(since) = self.degraded_since.take() {
            push_sample(&mut self.degraded_ms, ms(since, time));
        }
    }
}

impl Monitor<PbEvent> for PbMonitor {
    const INVARIANTS: &'static [&'static str] =
        &[ONE_PRIMARY_PER_EPOCH, BACKUP_LOG_PREFIX, NO_SAFE_WRITE_LOST];

    fn new(servers: u32) -> Self {
        PbMonitor {
            primaries: BTreeMap::new(),
            logs: vec![Vec::new(); servers as usize],
            epoch_logs: BTreeMap::new(),
            committed: BTreeMap::new(),
            current: None,
            appended_at: Vec::new(),
            appended_base: 0,
            promoted_at: SimTime::ZERO,
            acked_since_promotion: 0,
            promotions: 0,
            committed_writes: 0,
            lost_total: 0,
            lost_per_failover: Vec::new(),
            lost_pct_per_failover: Vec::new(),
            lost_at_rejoin: Vec::new(),
            commit_latency_ms: Vec::new(),
            lag_entries: Vec::new(),
            lag_ms: Vec::new(),
            lag_ms_by_backup: vec![Vec::new(); servers as usize],
            lag_ms_over_time: vec![Series::default(); servers as usize],
            lag_entries_over_time: vec![Series::default(); servers as usize],
            unserved_since: None,
            without_primary_ms: Vec::new(),
            degraded_since: None,
            degraded_ms: Vec::new(),
            fallbacks: 0,
        }
    }

    fn observe(&mut self, time: SimTime, node: NodeId, event: &PbEvent) -> Option<Violation> {
        let is_current = self.current.is_some_and(|(n, _)| n == node);
        match event {
            PbEvent::Promoted { epoch } => return self.on_promoted(time, node, *epoch),
            PbEvent::Appended {
                epoch,
                index,
                digest,
            } => {
                set_at(&mut self.logs[node.index()], *index, *digest);
                if let Some(log) = self.epoch_logs.get_mut(epoch) {
                    set_at(log, *index, *digest);
                }
                if self.current == Some((node, *epoch)) {
                    self.appended_at
                        .truncate((*index - self.appended_base - 1) as usize);
                    self.appended_at.push(time);
                }
            }
            PbEvent::Accepted {
                epoch,
                from,
                digests,
            } => return self.on_accepted(time, node, *epoch, *from, digests),
            PbEvent::Truncated { from } => self.on_truncated(node, *from),
            PbEvent::Recovered { digests } => self.logs[node.index()] = digests.clone(),
            PbEvent::Committed {
                epoch,
                index,
                digest,
                write,
                safe,
            } => {
                if *write {
                    self.committed_writes += 1;
                    self.acked_since_promotion += 1;
                    // From the primary's append to its answer: the mode's cost.
                    let appended = (self.current == Some((node, *epoch)))
                        .then(|| index.checked_sub(self.appended_base + 1))
                        .flatten()
                        .and_then(|o| self.appended_at.get(o as usize));
                    if let Some(appended) = appended {
                        push_sample(&mut self.commit_latency_ms, ms(*appended, time));
                    }
                }
                self.committed.insert(
                    *index,
                    Commit {
                        digest: *digest,
                        epoch: *epoch,
                        write: *write,
                        safe: *safe,
                        lost: false,
                    },
                );
            }
            PbEvent::Acked {
                backup,
                index,
                last,
            } => self.on_acked(time, *backup, *index, *last),
            PbEvent::Degraded(true) => {
                self.fallbacks += 1;
                self.degraded_since = Some(time);
            }
            PbEvent::Degraded(false) => {
                if let Some(since) = self.degraded_since.take() {
                    push_sample(&mut self.degraded_ms, ms(since, time));
                }
            }
            PbEvent::Serving(true) if is_current => {
                if let Some(since) = self.unserved_since.take() {
                    push_sample(&mut self.without_primary_ms, ms(since, time));
                }
            }
            PbEvent::Serving(false) | PbEvent::SteppedDown { .. } if is_current => {
                self.primary_stopped(time)
            }
            PbEvent::Serving(_) | PbEvent::SteppedDown { .. } => {}
        }
        None
    }

    fn node_crashed(&mut self, time: SimTime, node: NodeId) {
        if self.current.is_some_and(|(n, _)| n == node) {
            self.primary_stopped(time);
        }
    }

    fn finish(&mut self, time: SimTime) -> Vec<Violation> {
        if let Some(since) = self.degraded_since.take() {
            push_sample(&mut self.degraded_ms, ms(since, time));
        }
        Vec::new()
    }

    fn metrics(&self) -> ProtocolMetrics {
        let mut samples = vec![
            ("commit_latency_ms", self.commit_latency_ms.clone()),
            ("lost_acked_writes", self.lost_per_failover.clone()),
            ("lost_acked_pct", self.lost_pct_per_failover.clone()),
            ("lost_acked_writes_at_rejoin", self.lost_at_rejoin.clone()),
            ("time_without_primary_ms", self.without_primary_ms.clone()),
            ("replication_lag_entries", self.lag_entries.clone()),
            ("replication_lag_ms", self.lag_ms.clone()),
            ("degraded_ms", self.degraded_ms.clone()),
        ];
        for (backup, lags) in self.lag_ms_by_backup.iter().enumerate() {
            if !lags.is_empty() {
                samples.push((LAG_MS_NAMES[backup], lags.clone()));
            }
        }
        let mut series = Vec::new();
        for (backup, lags) in self.lag_ms_over_time.iter().enumerate() {
            if !lags.points().is_empty() {
                series.push((LAG_MS_SERIES[backup], lags.points().to_vec()));
            }
        }
        for (backup, lags) in self.lag_entries_over_time.iter().enumerate() {
            if !lags.points().is_empty() {
                series.push((LAG_ENTRIES_SERIES[backup], lags.points().to_vec()));
            }
        }
        ProtocolMetrics {
            series,
            samples,
            counts: vec![
                ("committed_commands", self.committed_writes),
                ("promotions", self.promotions),
                ("lost_acked_writes_total", self.lost_total),
                ("semisync_fallbacks", self.fallbacks),
                (
                    "degraded_ms_total",
                    self.degraded_ms.iter().sum::<f64>().round() as u64,
                ),
            ],
            ..ProtocolMetrics::default()
        }
    }

    fn heap_bytes(&self) -> usize {
        let digests: usize = self.logs.iter().map(Vec::capacity).sum::<usize>()
            + self.epoch_logs.values().map(Vec::capacity).sum::<usize>();
        let lags: usize = self
            .lag_ms_by_backup
            .iter()
            .map(Vec::capacity)
            .sum::<usize>()
            + self
                .lag_ms_over_time
                .iter()
                .chain(&self.lag_entries_over_time)
                .map(|s| s.heap_bytes() / 8)
                .sum::<usize>();
        digests * 8
            + crate::heap::map_bytes(&self.committed)
            + (self.appended_at.capacity()
                + lags
                + self.lag_ms.capacity() * 2
                + self.commit_latency_ms.capacity())
                * 8
    }
}
