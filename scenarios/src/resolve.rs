//! Resolution: a scenario plus a seed becomes a fully explicit scenario.
//!
//! Everything the seed decides is written out: the seed itself, generated
//! faults (the nemesis, including which kinds swarm testing switched on),
//! randomly drawn clocks and default stop times. Running the resolved
//! scenario reproduces the same run, and it is what `run` writes to
//! `resolved.ron` (ARCHITECTURE.md, invariant 5).
//!
//! Nemesis rule: one generated fault at a time. After a quiet interval a
//! fault starts, lasts a drawn time, and is undone (heal, restart, release,
//! restore loss); pauses end by themselves and clock jumps are instant. A
//! generated `Heal` also removes partitions the schedule declared.

use crate::convert::default_stop_after;
use crate::duration::{Dur, SignedDur};
use crate::names::server_names;
use crate::scenario::Scenario;
use crate::schema::*;
use crate::validate::SCHEDULE_MAX;
use rand::seq::SliceRandom;
use rand::Rng;
use sim_core::rng::{self, SimRng};
use sim_core::SimDuration;

/// The resolved scenario for `seed`. The input must have passed validation.
pub fn resolve(scenario: &Scenario, seed: u64) -> Scenario {
    let mut out = scenario.clone();
    out.seed = seed;
    out.seeds = None;
    out.sweep = Vec::new();
    if out.workload.clients > 0 && out.workload.stop_after.is_none() {
        out.workload.stop_after = Some(default_stop_after(out.duration));
    }
    let servers = server_names(&scenario.nodes);
    if let Some(random) = out.clocks.random.take() {
        let mut rng = rng::stream(seed, "clocks");
        let listed: Vec<String> = out.clocks.nodes.iter().map(|c| c.node.clone()).collect();
        for name in servers.iter().filter(|n| !listed.contains(n)) {
            let offset_max = random.offset_max.0.as_nanos().min(i64::MAX as u64) as i64;
            let offset = rng.random_range(-offset_max..=offset_max);
            let drift = if random.drift_ppm_max > 0.0 {
                let raw = rng.random_range(-random.drift_ppm_max..=random.drift_ppm_max);
                (raw * 1000.0).round() / 1000.0
            } else {
                0.0
            };
            out.clocks.nodes.push(ClockSpec {
                node: name.clone(),
                offset: SignedDur(offset),
                drift_ppm: drift,
                timer_lateness: None,
            });
        }
    }
    // What the seed decides in the protocol's params (ring and Bully ids),
    // each protocol from its own stream, so one's ids never shift another's.
    let setup = out.protocol_setup();
    out.protocol.resolve(&setup, seed);
    let mut jitter_rng = rng::stream(seed, "fault-jitter");
    let jittered = out.faults.schedule.iter().any(|e| e.jitter.is_some());
    for entry in &mut out.faults.schedule {
        if let Some(jitter) = entry.jitter.take() {
            let span = jitter.0.as_nanos();
            if span > 0 {
                let offset = jitter_rng.random_range(0..span);
                entry.at = Dur(entry.at.0.saturating_add(SimDuration::from_nanos(offset)));
            }
        }
    }
    if jittered {
        // Stable: entries keep their order where their times tie.
        out.faults.schedule.sort_by_key(|entry| entry.at);
    }
    // The generators fill at most the room the schedule has left. One that
    // runs out of room says from when its faults are missing: the schedule
    // is complete only before that, and the run stops there, inconclusive
    // (`faults.cut_at`), rather than silently going on without them.
    let mut cut_at = out.faults.cut_at.map(|d| d.0);
    if let Some(outages) = out.faults.outages.take() {
        let room = SCHEDULE_MAX.saturating_sub(out.faults.schedule.len());
        let (faults, cut) = outage_faults(&outages, &servers, scenario.duration, seed, room);
        out.faults.schedule.extend(faults);
        out.faults.schedule.sort_by_key(|entry| entry.at);
        cut_at = earliest(cut_at, cut);
    }
    if let Some(nemesis) = out.faults.nemesis.take() {
        let room = SCHEDULE_MAX.saturating_sub(out.faults.schedule.len());
        let (generated, cut) = generate(&nemesis, &servers, scenario.duration, seed, room);
        out.faults.schedule.extend(generated);
        // Stable: user entries stay ahead of generated ones at the same time.
        out.faults.schedule.sort_by_key(|entry| entry.at);
        cut_at = earliest(cut_at, cut);
    }
    debug_assert!(out.faults.schedule.len() <= SCHEDULE_MAX.max(scenario.faults.schedule.len()));
    out.faults.cut_at = cut_at.map(Dur);
    out
}

fn earliest(a: Option<SimDuration>, b: Option<SimDuration>) -> Option<SimDuration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Each server's outages for `seed`, server by server: Crash (or
/// PowerLoss) and Restart faults. Each server draws from a stream of its
/// own ("outages/<name>"), so one server's outages do not depend on
/// another's, nor on the servers there are.
///
/// At most `room` entries: where they run out, the outages are complete
/// only before some time, which comes back with them (and no entry is
/// after it).
pub fn outage_faults(
    outages: &crate::schema::OutagesSpec,
    servers: &[String],
    duration: Dur,
    seed: u64,
    room: usize,
) -> (Vec<TimedFault>, Option<SimDuration>) {
    let mut stop = outages.stop.unwrap_or(default_nemesis_stop(duration)).0;
    let mut cut = None;
    let (up, down) = (
        outages.up_mean.0.as_nanos() as f64,
        outages.down_mean.0.as_nanos() as f64,
    );
    let mut out = Vec::new();
    for name in servers {
        let mut rng = rng::stream(seed, &format!("outages/{name}"));
        let exp = |rng: &mut SimRng, mean: f64| {
            let u: f64 = rng.random();
            SimDuration::from_nanos((-(1.0 - u).ln() * mean).min(1e18) as u64)
        };
        // Stationary: down at the start with the long-run down share.
        let mut is_down = rng.random::<f64>() < down / (up + down);
        let mut t = outages.start.0;
        while t < stop {
            if is_down && out.len() + 2 > room {
                // This server's outages are known only before `t`; every
                // server's then end there too.
                stop = t;
                cut = Some(t);
                out.retain(|entry: &TimedFault| entry.at.0 < t);
                break;
            }
            if is_down {
                let back = t.saturating_add(exp(&mut rng, down)).min(stop);
                let fault = if outages.power_loss {
                    FaultSpec::PowerLoss(name.clone())
                } else {
                    FaultSpec::Crash(name.clone())
                };
                out.push(TimedFault {
                    jitter: None,
                    at: Dur(t),
                    fault,
                });
                out.push(TimedFault {
                    jitter: None,
                    at: Dur(back),
                    fault: FaultSpec::Restart(name.clone()),
                });
                t = back;
            } else {
                t = t.saturating_add(exp(&mut rng, up));
            }
            is_down = !is_down;
        }
    }
    debug_assert!(out.len() <= room);
    (out, cut)
}

/// The nemesis's faults for `seed`, in time order: at most `room`
/// entries, and where they run out, the time before which they are
/// complete.
pub fn generate(
    nemesis: &NemesisSpec,
    servers: &[String],
    duration: Dur,
    seed: u64,
    room: usize,
) -> (Vec<TimedFault>, Option<SimDuration>) {
    let mut rng = rng::stream(seed, rng::names::FAULTS);
    let mut kinds: Vec<NemesisKind> = nemesis.kinds.clone();
    kinds.sort();
    kinds.dedup();
    if nemesis.swarm && kinds.len() > 1 {
        let chosen: Vec<NemesisKind> = kinds
            .iter()
            .copied()
            .filter(|_| rng.random_bool(0.5))
            .collect();
        kinds = if chosen.is_empty() {
            vec![kinds[rng.random_range(0..kinds.len())]]
        } else {
            chosen
        };
    }
    if servers.len() < 2 {
        kinds.retain(|k| !matches!(k, NemesisKind::Partition | NemesisKind::Clog));
    }
    let stop = nemesis.stop.unwrap_or(default_nemesis_stop(duration)).0;
    let mut out = Vec::new();
    if kinds.is_empty() {
        return (out, None);
    }
    let mut t = nemesis.start.0;
    let mut cut = None;
    loop {
        if out.len() + 2 > room {
            // Every fault so far has ended by `t`; the next is unknown.
            cut = Some(t);
            break;
        }
        let gap = draw(&mut rng, nemesis.interval_min.0, nemesis.interval_max.0);
        let length = draw(&mut rng, nemesis.fault_min.0, nemesis.fault_max.0);
        let start = t.saturating_add(gap);
        let end = start.saturating_add(length);
        if end > stop || end == t {
            break;
        }
        let kind = kinds[rng.random_range(0..kinds.len())];
        let pick = |rng: &mut SimRng| servers[rng.random_range(0..servers.len())].clone();
        let mut at = |when: SimDuration, fault: FaultSpec| {
            out.push(TimedFault {
                jitter: None,
                at: Dur(when),
                fault,
            })
        };
        match kind {
            NemesisKind::Partition => {
                let mut shuffled = servers.to_vec();
                shuffled.shuffle(&mut rng);
                let cut = rng.random_range(1..shuffled.len());
                let right = shuffled.split_off(cut);
                at(start, FaultSpec::Partition(vec![shuffled, right]));
                at(end, FaultSpec::Heal);
            }
            NemesisKind::Crash | NemesisKind::PowerLoss => {
                let victim = pick(&mut rng);
                let fault = if kind == NemesisKind::Crash {
                    FaultSpec::Crash(victim.clone())
                } else {
                    FaultSpec::PowerLoss(victim.clone())
                };
                at(start, fault);
                at(end, FaultSpec::Restart(victim));
            }
            NemesisKind::Pause => at(start, FaultSpec::Pause(pick(&mut rng), Dur(length))),
            NemesisKind::ClockJump => {
                let max = nemesis.clock_jump_max.0.as_nanos().min(i64::MAX as u64) as i64;
                let delta = if max == 0 {
                    0
                } else {
                    rng.random_range(-max..=max)
                };
                at(
                    start,
                    FaultSpec::ClockJump(pick(&mut rng), SignedDur(delta)),
                );
            }
            NemesisKind::Clog => {
                let from = pick(&mut rng);
                let mut to = pick(&mut rng);
                while to == from {
                    to = pick(&mut rng);
                }
                at(start, FaultSpec::Clog(from.clone(), to.clone()));
                at(end, FaultSpec::Release(from, to));
            }
            NemesisKind::Loss => {
                at(start, FaultSpec::SetLoss(nemesis.loss));
                at(end, FaultSpec::RestoreLoss);
            }
            NemesisKind::DiskSlow => at(
                start,
                FaultSpec::DiskSlow(pick(&mut rng), nemesis.disk_slow_factor, Dur(length)),
            ),
            NemesisKind::DiskStall => at(start, FaultSpec::DiskStall(pick(&mut rng), Dur(length))),
        }
        t = end;
    }
    (out, cut)
}

fn draw(rng: &mut SimRng, min: SimDuration, max: SimDuration) -> SimDuration {
    SimDuration::from_nanos(rng.random_range(min.as_nanos()..=max.as_nanos().max(min.as_nanos())))
}
