//! Fault intervals for the charts' shaded bands, from a resolved fault
//! schedule: a fault starts a band and the fault that undoes it ends it.
//!
//! The pairing rule: a partition (any of `Partition`, `OneWay`, `Isolate`,
//! `Bridge`) lasts until the next `Heal`; a `Crash` or `PowerLoss` of a
//! node until its `Restart`; a `Pause` for its duration or until its
//! `Resume`; a `Clog` until the `Release` of the same link (or a `"*"`
//! release that covers it); `SetLoss` until `RestoreLoss`. A `ClockJump` is
//! an instant. Whatever is not undone lasts to the end of the run. A fault
//! naming "@leader" is labelled with that name: the run binds it when it
//! happens. "@old-leader" is the server the latest "@leader" fault acted
//! on, so a `Restart("@old-leader")` ends that fault's band.

use scenarios::metrics::FaultBinding;
use scenarios::schema::{FaultSpec, TimedFault};

/// What kind of fault a band shows; each kind has its own colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BandKind {
    Partition,
    Crash,
    Pause,
    Clog,
    Loss,
    ClockJump,
}

/// One fault's interval, in ms from the start of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultBand {
    pub start_ms: f64,
    /// Equal to `start_ms` for an instant (a clock jump).
    pub end_ms: f64,
    pub kind: BandKind,
    /// For people: "partition n1 n2 | n3", "crash n1".
    pub label: String,
    /// The fault's place in the schedule.
    pub index: usize,
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// The bands of `schedule` (in time order) over a run of `duration_ns`,
/// naming each role a fault named by the node the run bound it to
/// (`bindings`, from the run's metrics): "crash n5 (@leader)".
pub fn fault_bands(
    schedule: &[TimedFault],
    duration_ns: u64,
    bindings: &[FaultBinding],
) -> Vec<FaultBand> {
    let mut bands = unbound_bands(schedule, duration_ns);
    for band in &mut bands {
        for binding in bindings.iter().filter(|b| b.index == band.index) {
            band.label = name_role(&band.label, &binding.role, &binding.node);
        }
    }
    bands
}

/// `label` with the whole word `role` written as "node (role)".
fn name_role(label: &str, role: &str, node: &str) -> String {
    label
        .split(' ')
        .map(|word| {
            if word == role {
                format!("{node} ({role})")
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn unbound_bands(schedule: &[TimedFault], duration_ns: u64) -> Vec<FaultBand> {
    let end = ms(duration_ns);
    let mut bands: Vec<FaultBand> = Vec::new();
    // Indices into `bands` still open, with what closes them.
    let mut open: Vec<(usize, Closer)> = Vec::new();
    // The band of the latest fault that named "@leader": what "@old-leader" means.
    let mut latest_leader_band: Option<usize> = None;
    for (index, entry) in schedule.iter().enumerate() {
        if let Some(as_leader) = old_leader_undo(&entry.fault) {
            // "@old-leader" is the node the latest "@leader" fault bound:
            // the undo closes that fault's band, as the same undo of
            // "@leader" would have closed it then.
            let at = ms(entry.at.0.as_nanos()).min(end);
            open.retain(|(i, closer)| {
                let ends = Some(*i) == latest_leader_band && closer.closed_by(&as_leader);
                if ends {
                    bands[*i].end_ms = bands[*i].end_ms.min(at);
                }
                !ends
            });
            continue;
        }
        if names_leader(&entry.fault) {
            latest_leader_band = Some(bands.len());
        }
        let at = ms(entry.at.0.as_nanos()).min(end);
        let mut start = |kind, label: String, closer: Option<Closer>| {
            bands.push(FaultBand {
                start_ms: at,
                end_ms: if closer.is_some() { end } else { at },
                kind,
                label,
                index,
            });
            if let Some(closer) = closer {
                open.push((bands.len() - 1, closer));
            }
        };
        match &entry.fault {
            FaultSpec::Partition(groups) => {
                let sides: Vec<String> = groups.iter().map(|g| g.join(" ")).collect();
                start(
                    BandKind::Partition,
                    format!("partition {}", sides.join(" | ")),
                    Some(Closer::Heal),
                );
            }
            FaultSpec::OneWay { from, to } => start(
                BandKind::Partition,
                format!("one-way {} -> {}", from.join(" "), to.join(" ")),
                Some(Closer::Heal),
            ),
            FaultSpec::Isolate(node) => start(
                BandKind::Partition,
                format!("isolate {node}"),
                Some(Closer::Heal),
            ),
            FaultSpec::Bridge { bridge, .. } => start(
                BandKind::Partition,
                format!("bridge {bridge}"),
                Some(Closer::Heal),
            ),
            FaultSpec::Crash(node) => start(
                BandKind::Crash,
                format!("crash {node}"),
                Some(Closer::Restart(node.clone())),
            ),
            FaultSpec::PowerLoss(node) => start(
                BandKind::Crash,
                format!("power loss {node}"),
                Some(Closer::Restart(node.clone())),
            ),
            FaultSpec::Pause(node, length) => {
                start(
                    BandKind::Pause,
                    format!("pause {node}"),
                    Some(Closer::Resume(node.clone())),
                );
                let last = bands.len() - 1;
                bands[last].end_ms = (at + ms(length.0.as_nanos())).min(end);
            }
            FaultSpec::Clog(from, to) => start(
                BandKind::Clog,
                format!("clog {from} -> {to}"),
                Some(Closer::Release(from.clone(), to.clone())),
            ),
            FaultSpec::SetLoss(p) => start(
                BandKind::Loss,
                format!("loss {p}"),
                Some(Closer::RestoreLoss),
            ),
            FaultSpec::ClockJump(node, by) => start(
                BandKind::ClockJump,
                format!("clock {node} {}", serde_plain(by)),
                None,
            ),
            undo => {
                open.retain(|(index, closer)| {
                    if closer.closed_by(undo) {
                        bands[*index].end_ms = bands[*index].end_ms.min(at);
                        false
                    } else {
                        true
                    }
                });
            }
        }
    }
    bands
}

/// A `Restart` or `Resume` of "@old-leader", as the same undo of "@leader".
fn old_leader_undo(fault: &FaultSpec) -> Option<FaultSpec> {
    let leader = || scenarios::names::LEADER.to_string();
    match fault {
        FaultSpec::Restart(n) if n == scenarios::names::OLD_LEADER => {
            Some(FaultSpec::Restart(leader()))
        }
        FaultSpec::Resume(n) if n == scenarios::names::OLD_LEADER => {
            Some(FaultSpec::Resume(leader()))
        }
        _ => None,
    }
}

/// A crash, power loss or pause of "@leader" (the faults a later
/// "@old-leader" undoes).
fn names_leader(fault: &FaultSpec) -> bool {
    matches!(
        fault,
        FaultSpec::Crash(n) | FaultSpec::PowerLoss(n) | FaultSpec::Pause(n, _)
            if n == scenarios::names::LEADER
    )
}

/// A signed duration as a scenario writes it ("-300ms").
fn serde_plain(by: &scenarios::duration::SignedDur) -> String {
    sim_core::time::format_signed_nanos(by.0)
}

/// What ends an open band.
#[derive(Clone, Debug)]
enum Closer {
    Heal,
    Restart(String),
    Resume(String),
    Release(String, String),
    RestoreLoss,
}

impl Closer {
    fn closed_by(&self, fault: &FaultSpec) -> bool {
        match (self, fault) {
            (Closer::Heal, FaultSpec::Heal) | (Closer::RestoreLoss, FaultSpec::RestoreLoss) => true,
            (Closer::Restart(node), FaultSpec::Restart(n))
            | (Closer::Resume(node), FaultSpec::Resume(n)) => node == n,
            (Closer::Release(from, to), FaultSpec::Release(f, t)) => {
                (f == from || f == "*") && (t == to || t == "*")
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scenarios::duration::Dur;

    fn at(ms: u64, fault: FaultSpec) -> TimedFault {
        TimedFault {
            jitter: None,
            at: Dur::ms(ms),
            fault,
        }
    }

    #[test]
    fn a_partition_from_2s_to_3s_is_a_band_at_those_times() {
        let schedule = [
            at(
                2_000,
                FaultSpec::Partition(vec![vec!["n1".into()], vec!["n2".into(), "n3".into()]]),
            ),
            at(3_000, FaultSpec::Heal),
        ];
        assert_eq!(
            fault_bands(&schedule, 10_000_000_000, &[]),
            [FaultBand {
                start_ms: 2_000.0,
                end_ms: 3_000.0,
                kind: BandKind::Partition,
                label: "partition n1 | n2 n3".into(),
                index: 0,
            }]
        );
    }

    /// Regression: raft-leader-crash drew its leader's crash to the end of
    /// the run, though `Restart("@old-leader")` came at 3 s. "@old-leader"
    /// names the server the latest "@leader" fault acted on, so its
    /// restart ends that crash's band (and no other).
    #[test]
    fn a_restart_of_the_old_leader_ends_the_leader_crash_band() {
        let schedule = [
            at(1_000, FaultSpec::Crash("n1".into())),
            at(2_000, FaultSpec::Crash("@leader".into())),
            at(3_000, FaultSpec::Restart("@old-leader".into())),
            at(3_500, FaultSpec::Pause("@leader".into(), Dur::ms(1_000))),
            at(4_000, FaultSpec::Resume("@old-leader".into())),
        ];
        let bound = |index: usize, node: &str| FaultBinding {
            index,
            role: "@leader".into(),
            node: node.into(),
        };
        let bindings = [bound(1, "n3"), bound(3, "n2")];
        let bands: Vec<(f64, f64, String)> = fault_bands(&schedule, 5_000_000_000, &bindings)
            .into_iter()
            .map(|b| (b.start_ms, b.end_ms, b.label))
            .collect();
        assert_eq!(
            bands,
            [
                (1_000.0, 5_000.0, "crash n1".to_string()),
                (2_000.0, 3_000.0, "crash n3 (@leader)".to_string()),
                (3_500.0, 4_000.0, "pause n2 (@leader)".to_string()),
            ]
        );
        // Without the run's bindings, the role is named as the file names it.
        assert_eq!(
            fault_bands(&schedule, 5_000_000_000, &[])[1].label,
            "crash @leader"
        );
    }

    #[test]
    fn each_fault_is_ended_by_its_own_undo_or_the_end_of_the_run() {
        let schedule = [
            at(100, FaultSpec::Crash("n1".into())),
            at(200, FaultSpec::Crash("n2".into())),
            at(300, FaultSpec::Pause("n3".into(), Dur::ms(50))),
            at(400, FaultSpec::Restart("n2".into())),
            at(500, FaultSpec::Clog("n1".into(), "n2".into())),
            at(600, FaultSpec::Release("*".into(), "n2".into())),
            at(700, FaultSpec::SetLoss(0.5)),
            at(
                800,
                FaultSpec::ClockJump("n1".into(), scenarios::duration::SignedDur(-300_000_000)),
            ),
        ];
        let bands: Vec<(f64, f64, BandKind)> = fault_bands(&schedule, 1_000_000_000, &[])
            .into_iter()
            .map(|b| (b.start_ms, b.end_ms, b.kind))
            .collect();
        assert_eq!(
            bands,
            [
                (100.0, 1_000.0, BandKind::Crash),
                (200.0, 400.0, BandKind::Crash),
                (300.0, 350.0, BandKind::Pause),
                (500.0, 600.0, BandKind::Clog),
                (700.0, 1_000.0, BandKind::Loss),
                (800.0, 800.0, BandKind::ClockJump),
            ]
        );
    }
}
