//! The leaderless store's invariant and metrics.
//!
//! `no-acked-write-lost`: at the end of the run, every write a coordinator
//! acknowledged (W replicas had it on disk) is still on some server's disk
//! (in a home replica's store, or as a hint a stand-in still holds), or
//! a version that does not precede it in real time is: one that was not
//! acknowledged before the write began. So a write replaced by a
//! concurrent or later one is not lost, and one replaced by an earlier
//! write (last-writer-wins with a clock that runs behind), or dropped
//! with its hint, is.
//!
//! The monitor mirrors what each server has on disk from `Holds`, which
//! servers report only once durable, so a power loss takes back nothing
//! it counted.
//!
//! Metrics: hints stored and handed off, read repairs, anti-entropy
//! bytes, and each server's share of the keys (the ring's balance).

use super::messages::QEvent;
use super::versions::Dot;
use super::visibility::{ReadVisibility, WriteTimes};
use crate::invariant::{Monitor, ProtocolMetrics, Violation, VIOLATIONS_AT_FINISH_MAX};
use sim_core::{NodeId, SimTime};
use std::collections::BTreeMap;

pub const NO_ACKED_WRITE_LOST: &str = "no-acked-write-lost";

/// Writes whose times the monitor keeps at most; later ones go unjudged
/// (and are counted).
pub const WRITES_TRACKED_MAX: usize = 1_000_000;

#[derive(Debug)]
struct Write {
    key: String,
    accepted: SimTime,
    acked: Option<SimTime>,
}

#[derive(Debug, Default)]
pub struct QuorumMonitor {
    writes: BTreeMap<Dot, Write>,
    untracked: u64,
    /// (key, server, hint_for) -> the dots it has on disk.
    holds: BTreeMap<(String, u32, Option<u32>), Vec<Dot>>,
    home_keys: Vec<(u32, u32)>,
    hinted: u64,
    handed_off: u64,
    repairs: u64,
    repaired_replicas: u64,
    anti_entropy_bytes: u64,
    acked: u64,
    /// Each read's t-visibility threshold (`visibility.rs`).
    visibility: ReadVisibility,
}

impl QuorumMonitor {
    /// The acknowledged writes lost at the end, in dot order.
    fn lost(&self) -> Vec<(Dot, &Write)> {
        // Per key, every dot some server holds.
        let mut held: BTreeMap<&str, Vec<Dot>> = BTreeMap::new();
        for ((key, _, _), dots) in &self.holds {
            held.entry(key.as_str()).or_default().extend(dots);
        }
        self.writes
            .iter()
            .filter_map(|(dot, write)| {
                write.acked?;
                let survivors = held.get(write.key.as_str()).map_or(&[][..], Vec::as_slice);
                let kept = survivors.iter().any(|s| {
                    *s == *dot
                        || self.writes.get(s).is_none_or(|other| {
                            other.acked.is_none_or(|done| done >= write.accepted)
                        })
                });
                (!kept).then_some((*dot, write))
            })
            .collect()
    }
}

impl Monitor<QEvent> for QuorumMonitor {
    const INVARIANTS: &'static [&'static str] = &[NO_ACKED_WRITE_LOST];

    fn new(_servers: u32) -> Self {
        QuorumMonitor::default()
    }

    fn observe(&mut self, time: SimTime, node: NodeId, event: &QEvent) -> Option<Violation> {
        match event {
            QEvent::Placement { home_keys } => self.home_keys.push((node.0, *home_keys)),
            QEvent::Accepted { key, dot } => {
                if self.writes.len() < WRITES_TRACKED_MAX {
                    self.writes.insert(
                        *dot,
                        Write {
                            key: key.clone(),
                            accepted: time,
                            acked: None,
                        },
                    );
                } else {
                    self.untracked += 1;
                }
            }
            QEvent::Acked { dot, .. } => {
                self.acked += 1;
                if let Some(write) = self.writes.get_mut(dot) {
                    write.acked = Some(time);
                }
            }
            QEvent::Holds {
                key,
                hint_for,
                dots,
            } => {
                let slot = (key.clone(), node.0, *hint_for);
                if dots.is_empty() {
                    self.holds.remove(&slot);
                } else {
                    self.holds.insert(slot, dots.clone());
                }
            }
            QEvent::Repaired { replicas } => {
                self.repairs += 1;
                self.repaired_replicas += u64::from(*replicas);
            }
            QEvent::HandedOff { versions } => self.handed_off += u64::from(*versions),
            QEvent::Hinted => self.hinted += 1,
            QEvent::AntiEntropySent { bytes } => self.anti_entropy_bytes += bytes,
            QEvent::ReadStarted { op, key } => self.visibility.started(time, node.0, *op, key),
            QEvent::ReadArrived { coordinator, op } => {
                self.visibility.arrived(time, node.0, *coordinator, *op)
            }
            QEvent::ReadResolved { op, used } => self.visibility.resolved(node.0, *op, used),
            QEvent::Serves { key, dots } => self.visibility.serves(time, node.0, key, dots),
        }
        None
    }

    fn finish(&mut self, time: SimTime) -> Vec<Violation> {
        let lost = self.lost();
        let count = lost.len();
        lost.into_iter()
            .take(VIOLATIONS_AT_FINISH_MAX)
            .map(|(dot, write)| {
                let acked = write.acked.expect("only acknowledged writes are lost");
                Violation {
                    invariant: NO_ACKED_WRITE_LOST,
                    time,
                    node: Some(NodeId(dot.node)),
                    message: format!(
                        "the write of {} named ({}, {}) was acknowledged at {acked}, but no server holds it or anything newer at the end ({count} acknowledged writes lost)",
                        write.key, dot.node, dot.counter
                    ),
                }
            })
            .collect()
    }

    fn metrics(&self) -> ProtocolMetrics {
        let keys: u32 = self.home_keys.iter().map(|(_, k)| k).sum();
        let mut samples = Vec::new();
        let mut counts = vec![
            ("acked_writes", self.acked),
            ("hints_stored", self.hinted),
            ("hints_handed_off", self.handed_off),
            ("read_repairs", self.repairs),
            ("read_repaired_replicas", self.repaired_replicas),
            ("anti_entropy_bytes", self.anti_entropy_bytes),
            ("writes_untracked", self.untracked),
        ];
        if !self.home_keys.is_empty() && keys > 0 {
            let mean = f64::from(keys) / self.home_keys.len() as f64;
            let max = self.home_keys.iter().map(|(_, k)| *k).max().unwrap_or(0);
            samples.push((
                "home_keys_per_server",
                self.home_keys.iter().map(|(_, k)| f64::from(*k)).collect(),
            ));
            counts.push((
                "key_load_max_over_mean_pct",
                (f64::from(max) / mean * 100.0).round() as u64,
            ));
        }
        if self.visibility.untracked > 0 {
            // Past the bounds: t-visibility was measured on fewer reads.
            counts.push(("visibility_untracked", self.visibility.untracked));
        }
        let writes = self.writes.iter().map(|(dot, w)| {
            let times = WriteTimes {
                accepted: w.accepted,
                acked: w.acked,
            };
            (*dot, w.key.as_str(), times)
        });
        ProtocolMetrics {
            samples,
            counts,
            series: Vec::new(),
            visibility: self.visibility.thresholds(writes),
            mutex_history: None,
        }
    }

    fn heap_bytes(&self) -> usize {
        self.writes.len() * 96 + self.holds.len() * 96 + self.visibility.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SimTime {
        SimTime::from_nanos(ms * 1_000_000)
    }

    #[test]
    fn a_write_replaced_by_an_earlier_one_is_lost_and_by_a_later_one_is_not() {
        let key = "k1".to_string();
        let (a, b, c) = (
            Dot {
                node: 0,
                counter: 1,
            },
            Dot {
                node: 1,
                counter: 1,
            },
            Dot {
                node: 2,
                counter: 1,
            },
        );
        let mut m = QuorumMonitor::new(3);
        let mut see = |ms, event| m.observe(at(ms), NodeId(0), &event);
        // a completes, then b begins and completes: b is newer in real time.
        see(
            1,
            QEvent::Accepted {
                key: key.clone(),
                dot: a,
            },
        );
        see(
            2,
            QEvent::Acked {
                key: key.clone(),
                dot: a,
            },
        );
        see(
            3,
            QEvent::Accepted {
                key: key.clone(),
                dot: b,
            },
        );
        see(
            4,
            QEvent::Acked {
                key: key.clone(),
                dot: b,
            },
        );
        // The replicas keep a (its stamp is higher: b's clock ran behind).
        see(
            5,
            QEvent::Holds {
                key: key.clone(),
                hint_for: None,
                dots: vec![a],
            },
        );
        let lost = m.finish(at(10));
        assert_eq!(lost.len(), 1);
        assert!(
            lost[0].message.contains("named (1, 1)"),
            "{}",
            lost[0].message
        );
        // Had they kept c, concurrent with both (never acknowledged),
        // nothing is lost.
        m.observe(
            at(3),
            NodeId(2),
            &QEvent::Accepted {
                key: key.clone(),
                dot: c,
            },
        );
        m.observe(
            at(6),
            NodeId(0),
            &QEvent::Holds {
                key,
                hint_for: None,
                dots: vec![c],
            },
        );
        assert_eq!(m.finish(at(10)), Vec::new());
    }
}
