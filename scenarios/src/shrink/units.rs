//! A schedule's faults as units: a fault and the entry that undoes it
//! (a crash and its restart, a partition and its heal, a clog and its
//! release, a loss and its restore) are removed, shortened and moved
//! together, so that removing a crash does not leave a restart of a node
//! that never went down.

use crate::duration::Dur;
use crate::schema::{FaultSpec, TimedFault};
use sim_core::SimDuration;

/// One fault: the entry that starts it and, if it has one, the later entry
/// that undoes it (indices into the schedule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unit {
    pub start: usize,
    pub end: Option<usize>,
}

impl Unit {
    /// How long the fault lasts: to its undo, or its own length (a pause,
    /// a slow or stalled disk); 0 for an instant fault or a lone undo.
    pub fn length_ns(&self, schedule: &[TimedFault]) -> u64 {
        let start = &schedule[self.start];
        match self.end {
            Some(end) => schedule[end].at.0.as_nanos() - start.at.0.as_nanos(),
            None => own_length(&start.fault).map_or(0, |d| d.as_nanos()),
        }
    }

    pub fn entries(&self) -> impl Iterator<Item = usize> {
        std::iter::once(self.start).chain(self.end)
    }
}

/// The length a fault carries itself.
fn own_length(fault: &FaultSpec) -> Option<SimDuration> {
    match fault {
        FaultSpec::Pause(_, d) | FaultSpec::DiskSlow(_, _, d) | FaultSpec::DiskStall(_, d) => {
            Some(d.0)
        }
        _ => None,
    }
}

/// Whether `undo` undoes `fault`.
fn undoes(fault: &FaultSpec, undo: &FaultSpec) -> bool {
    use FaultSpec::*;
    match (fault, undo) {
        (Crash(a) | PowerLoss(a), Restart(b)) => a == b,
        (Pause(a, _), Resume(b)) => a == b,
        (Partition(_) | OneWay { .. } | Isolate(_) | Bridge { .. }, Heal) => true,
        (Clog(a, b), Release(c, d)) => (a == c || c == "*") && (b == d || d == "*"),
        (SetLoss(_), RestoreLoss) => true,
        _ => false,
    }
}

/// The schedule's units, in the order of their first entries. Each fault
/// takes the first later entry that undoes it and is not taken yet (the
/// schedule is in time order); entries nobody takes are units of their own.
pub fn units(schedule: &[TimedFault]) -> Vec<Unit> {
    let mut taken = vec![false; schedule.len()];
    let mut out = Vec::new();
    for i in 0..schedule.len() {
        if taken[i] {
            continue;
        }
        taken[i] = true;
        let end = (i + 1..schedule.len())
            .find(|&j| !taken[j] && undoes(&schedule[i].fault, &schedule[j].fault));
        if let Some(j) = end {
            taken[j] = true;
        }
        out.push(Unit { start: i, end });
    }
    out
}

/// The schedule without the entries of `removed`.
pub fn without(schedule: &[TimedFault], removed: &[Unit]) -> Vec<TimedFault> {
    let mut gone = vec![false; schedule.len()];
    for unit in removed {
        for i in unit.entries() {
            gone[i] = true;
        }
    }
    schedule
        .iter()
        .zip(gone)
        .filter(|(_, gone)| !gone)
        .map(|(entry, _)| entry.clone())
        .collect()
}

/// A time rounded down to a whole millisecond from 1 ms up, else to a
/// whole microsecond, so that shrunk files stay readable.
pub fn round_ns(ns: u64) -> u64 {
    let step = if ns >= 1_000_000 { 1_000_000 } else { 1_000 };
    ns / step * step
}

/// The shortest change worth a candidate: a millisecond.
pub const STEP_MIN_NS: u64 = 1_000_000;

/// `unit` half as long, or `None` if that changes it by less than
/// `STEP_MIN_NS`.
pub fn shortened(schedule: &[TimedFault], unit: Unit) -> Option<Vec<TimedFault>> {
    let length = unit.length_ns(schedule);
    let shorter = round_ns(length / 2);
    if length.saturating_sub(shorter) < STEP_MIN_NS {
        return None;
    }
    let mut out = schedule.to_vec();
    match unit.end {
        Some(end) => {
            let at = schedule[unit.start].at.0.as_nanos() + shorter;
            out[end].at = Dur(SimDuration::from_nanos(at));
        }
        None => {
            let d = Dur(SimDuration::from_nanos(shorter));
            match &mut out[unit.start].fault {
                FaultSpec::Pause(_, len)
                | FaultSpec::DiskSlow(_, _, len)
                | FaultSpec::DiskStall(_, len) => *len = d,
                _ => return None,
            }
        }
    }
    sort(&mut out);
    Some(out)
}

/// `unit` moved to start at `at_ns` (earlier), its undo moved with it.
pub fn moved(schedule: &[TimedFault], unit: Unit, at_ns: u64) -> Vec<TimedFault> {
    let start = schedule[unit.start].at.0.as_nanos();
    debug_assert!(at_ns <= start, "faults only move earlier");
    let delta = start - at_ns;
    let mut out = schedule.to_vec();
    for i in unit.entries() {
        let at = out[i].at.0.as_nanos() - delta;
        out[i].at = Dur(SimDuration::from_nanos(at));
    }
    sort(&mut out);
    out
}

/// Time order, stable where times tie (entries at one instant keep their order).
fn sort(schedule: &mut [TimedFault]) {
    schedule.sort_by_key(|e| e.at);
}

/// Whether `fault` names the node `name`.
pub fn names(fault: &FaultSpec, name: &str) -> bool {
    use FaultSpec::*;
    match fault {
        Crash(n)
        | PowerLoss(n)
        | Restart(n)
        | Pause(n, _)
        | Resume(n)
        | Isolate(n)
        | ClockJump(n, _)
        | DiskSlow(n, _, _)
        | DiskStall(n, _) => n == name,
        Clog(a, b) | Release(a, b) => a == name || b == name,
        Partition(groups) => groups.iter().flatten().any(|n| n == name),
        OneWay { from, to } => from.iter().chain(to).any(|n| n == name),
        Bridge {
            left,
            right,
            bridge,
        } => bridge == name || left.iter().chain(right).any(|n| n == name),
        Heal | SetLoss(_) | RestoreLoss => false,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A schedule entry at `ms`.
    pub(in crate::shrink) fn at(ms: u64, fault: FaultSpec) -> TimedFault {
        TimedFault {
            at: Dur::ms(ms),
            jitter: None,
            fault,
        }
    }

    pub(in crate::shrink) fn s(n: &str) -> String {
        n.to_string()
    }

    #[test]
    fn faults_pair_with_their_undo_and_lone_entries_stand_alone() {
        let schedule = vec![
            at(0, FaultSpec::Clog(s("n1"), s("n2"))),
            at(0, FaultSpec::Clog(s("n2"), s("n3"))),
            at(70, FaultSpec::Crash(s("n3"))),
            at(72, FaultSpec::Restart(s("n3"))),
            at(75, FaultSpec::Release(s("n2"), s("n3"))),
            at(200, FaultSpec::Release(s("*"), s("*"))),
            at(300, FaultSpec::Restart(s("n1"))),
        ];
        let found = units(&schedule);
        assert_eq!(
            found,
            vec![
                Unit {
                    start: 0,
                    end: Some(5)
                },
                Unit {
                    start: 1,
                    end: Some(4)
                },
                Unit {
                    start: 2,
                    end: Some(3)
                },
                Unit {
                    start: 6,
                    end: None
                },
            ]
        );
        assert_eq!(found[2].length_ns(&schedule), 2_000_000);
        assert_eq!(without(&schedule, &found[..2]).len(), 3);
    }

    #[test]
    fn shortening_and_moving_keep_a_unit_together_and_in_time_order() {
        let schedule = vec![
            at(100, FaultSpec::Crash(s("n1"))),
            at(150, FaultSpec::Pause(s("n2"), Dur::ms(40))),
            at(300, FaultSpec::Restart(s("n1"))),
        ];
        let found = units(&schedule);
        let shorter = shortened(&schedule, found[0]).expect("200 ms halves");
        // In time order: the crash, the pause at 150 ms, the restart at 200 ms.
        assert_eq!(shorter[2].fault, FaultSpec::Restart(s("n1")));
        assert_eq!(shorter[2].at, Dur::ms(200));
        let paused = shortened(&schedule, found[1]).expect("40 ms halves");
        assert_eq!(paused[1].fault, FaultSpec::Pause(s("n2"), Dur::ms(20)));
        let early = moved(&schedule, found[0], 0);
        assert_eq!(early[0].at, Dur::ms(0));
        assert_eq!(early[2].fault, FaultSpec::Restart(s("n1")));
        assert_eq!(early[2].at, Dur::ms(200));
        let one_ms = vec![at(5, FaultSpec::Pause(s("n1"), Dur::ms(1)))];
        assert_eq!(shortened(&one_ms, units(&one_ms)[0]), None);
    }
}
