//! Each read's t-visibility threshold, for the monitor
//! (`sim_core::checker::visibility`): the least time after the latest
//! write to its key was acknowledged at which the same read, its requests
//! taking the same time, would have returned that write or a newer one.
//!
//! A read starts at its coordinator at `s`, its requests reach the
//! replicas it resolves from (the first R to reply) at `a_i`, and replica
//! i first serves the write, or one not older, at `w_i`. Begun d later,
//! the request would reach i at `a_i + d` and find the write there if
//! `w_i <= a_i + d`. So the read is consistent from
//! `t* = (s - acked) + min_i (w_i - a_i)` on, where `acked` is when the
//! write was acknowledged, and inconsistent before: P(consistent at t) is
//! the share of reads with `t* <= t`. This is the WARS model's
//! computation (Bailis et al., PBS, VLDB 2012) on the latencies the run
//! drew; it holds the replicas that answered first fixed, as WARS does.
//!
//! Times are the coordinator's, so with client legs of 0 (as PBS assumes)
//! t is the client's. A replica that serves a version not certainly older
//! than the write (one acknowledged after the write was accepted, or never:
//! a later or a concurrent one) counts as serving it, as `staleness` judges a
//! read.

use super::versions::Dot;
use sim_core::checker::visibility::{Counting, Thresholds};
use sim_core::SimTime;
use std::collections::BTreeMap;

/// Reads whose arrivals the monitor keeps at most; later ones go unmeasured.
pub const READS_TRACKED_MAX: usize = 1_000_000;
/// (key, server, dot) first-served times kept at most.
pub const SERVED_TRACKED_MAX: usize = 4_000_000;

#[derive(Debug)]
struct Read {
    key: String,
    started: SimTime,
    /// (replica, when the request reached it).
    arrivals: Vec<(u32, SimTime)>,
    used: Option<Vec<u32>>,
}

/// What the thresholds are computed from, bounded.
#[derive(Debug, Default)]
pub struct ReadVisibility {
    /// By (coordinator, op).
    reads: BTreeMap<(u32, u64), Read>,
    /// (key, server) -> each dot and when the server first served it.
    served: BTreeMap<(String, u32), BTreeMap<Dot, SimTime>>,
    served_entries: usize,
    /// Reads or served dots past the bounds.
    pub untracked: u64,
}

/// A write as the thresholds need it.
#[derive(Clone, Copy, Debug)]
pub struct WriteTimes {
    pub accepted: SimTime,
    pub acked: Option<SimTime>,
}

impl ReadVisibility {
    pub fn started(&mut self, time: SimTime, coordinator: u32, op: u64, key: &str) {
        if self.reads.len() >= READS_TRACKED_MAX {
            self.untracked += 1;
            return;
        }
        let read = Read {
            key: key.to_string(),
            started: time,
            arrivals: Vec::new(),
            used: None,
        };
        self.reads.insert((coordinator, op), read);
    }

    pub fn arrived(&mut self, time: SimTime, replica: u32, coordinator: u32, op: u64) {
        if let Some(read) = self.reads.get_mut(&(coordinator, op)) {
            if !read.arrivals.iter().any(|(r, _)| *r == replica) {
                read.arrivals.push((replica, time));
            }
        }
    }

    pub fn resolved(&mut self, coordinator: u32, op: u64, used: &[u32]) {
        if let Some(read) = self.reads.get_mut(&(coordinator, op)) {
            debug_assert!(read.used.is_none(), "a read resolves once");
            read.used = Some(used.to_vec());
        }
    }

    pub fn serves(&mut self, time: SimTime, server: u32, key: &str, dots: &[Dot]) {
        let slot = self.served.entry((key.to_string(), server)).or_default();
        for dot in dots {
            if slot.contains_key(dot) {
                continue;
            }
            if self.served_entries >= SERVED_TRACKED_MAX {
                self.untracked += 1;
                continue;
            }
            slot.insert(*dot, time);
            self.served_entries += 1;
        }
    }

    /// The resolved reads' thresholds. `writes`: every tracked write by
    /// dot, with its key.
    pub fn thresholds<'a>(
        &self,
        writes: impl Iterator<Item = (Dot, &'a str, WriteTimes)>,
    ) -> Option<Thresholds> {
        if self.reads.is_empty() {
            return None;
        }
        // Per key, the acknowledged writes in the order acknowledged.
        let mut acked: BTreeMap<&str, Vec<(SimTime, Dot)>> = BTreeMap::new();
        let mut times: BTreeMap<Dot, WriteTimes> = BTreeMap::new();
        for (dot, key, write) in writes {
            times.insert(dot, write);
            if let Some(at) = write.acked {
                acked.entry(key).or_default().push((at, dot));
            }
        }
        for list in acked.values_mut() {
            list.sort_unstable();
        }
        // Per (key, server): its served dots by acknowledgement, latest
        // (or never) first, with the earliest time any of them, or one
        // acknowledged later, was served; dots of untracked writes are
        // left out.
        let never = SimTime::from_nanos(u64::MAX);
        let mut newer: BTreeMap<(&str, u32), Vec<(SimTime, SimTime)>> = BTreeMap::new();
        for ((key, server), dots) in &self.served {
            let mut by_ack: Vec<(SimTime, SimTime)> = dots
                .iter()
                .filter_map(|(dot, at)| Some((times.get(dot)?.acked.unwrap_or(never), *at)))
                .collect();
            by_ack.sort_unstable_by(|a, b| b.cmp(a));
            let mut earliest = never;
            for entry in &mut by_ack {
                earliest = earliest.min(entry.1);
                entry.1 = earliest;
            }
            newer.insert((key.as_str(), *server), by_ack);
        }
        let mut counting = Counting::default();
        for read in self.reads.values() {
            let Some(used) = &read.used else { continue };
            let Some(list) = acked.get(read.key.as_str()) else {
                continue;
            };
            // The latest write acknowledged by the read's start.
            let before = list.partition_point(|(at, _)| *at <= read.started);
            let Some(&(acked_at, target)) = before.checked_sub(1).map(|i| &list[i]) else {
                continue;
            };
            let since_ns = (read.started.as_nanos() - acked_at.as_nanos()) as i64;
            let margin_ns = used
                .iter()
                .filter_map(|server| {
                    let (_, arrived) = read.arrivals.iter().find(|(r, _)| r == server)?;
                    let own = self
                        .served
                        .get(&(read.key.clone(), *server))
                        .and_then(|dots| dots.get(&target).copied());
                    // Not certainly older: acknowledged after the target
                    // was accepted, or never (one acknowledged at that
                    // very instant is older, as `staleness` judges).
                    let began = times[&target].accepted;
                    let later = newer.get(&(read.key.as_str(), *server)).and_then(|list| {
                        let n = list.partition_point(|(ack, _)| *ack > began);
                        n.checked_sub(1).map(|i| list[i].1)
                    });
                    let first = match (own, later) {
                        (Some(a), Some(b)) => a.min(b),
                        (a, b) => a.or(b)?,
                    };
                    Some(first.as_nanos() as i64 - arrived.as_nanos() as i64)
                })
                .min();
            counting.record(margin_ns.map(|m| since_ns + m));
        }
        (counting.reads() > 0).then(|| counting.finish())
    }

    pub fn heap_bytes(&self) -> usize {
        self.reads.len() * 128 + self.served_entries * 48 + self.served.len() * 64
    }
}
