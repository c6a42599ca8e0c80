//! Every run ends: a protocol that loops at one simulated instant stops at
//! `Limits::events_per_instant_max`, any run stops at `Limits::events_max`,
//! and `Stop::events_until` pauses a run in slices however long it spends
//! at one instant, without changing what it does.
//!
//! Postmortem (issue: runs that never end): `events_max` defaulted to
//! `u64::MAX` and a zero-delay timer was accepted, so a protocol that
//! re-armed one on every firing hung `run`, `sweep` and `shrink`: neither
//! a panic nor inconclusive, with no progress line, since the driver only
//! heard from the engine when outputs piled up.

use sim_core::{
    Context, LinkConfig, NodeId, Protocol, SimConfig, SimDuration, SimTime, Simulation, Stop,
    StopReason, TimerId, Topology,
};

/// Re-arms a timer of `after` every time it fires, for ever.
struct Looper {
    after: SimDuration,
    fired: u64,
}

impl Protocol for Looper {
    type Message = ();
    type Timer = ();
    type Request = ();
    type Output = ();
    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.set_timer(self.after, ());
    }
    fn on_message(&mut self, _ctx: &mut Context<'_, Self>, _from: NodeId, _message: ()) {}
    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _id: TimerId, _timer: ()) {
        self.fired += 1;
        ctx.set_timer(self.after, ());
    }
}

fn looper(after: SimDuration, limits: impl FnOnce(&mut sim_core::Limits)) -> Simulation<Looper> {
    let mut config = SimConfig::new(3, Topology::uniform(2, LinkConfig::default()).unwrap());
    limits(&mut config.limits);
    Simulation::new(config, move |_| Looper { after, fired: 0 }).unwrap()
}

fn fired(sim: &Simulation<Looper>) -> u64 {
    (0..2).map(|i| sim.node(NodeId(i)).unwrap().fired).sum()
}

#[test]
fn a_zero_delay_timer_loop_stops_at_the_instant_bound() {
    let mut sim = looper(SimDuration::ZERO, |l| l.events_per_instant_max = 10_000);
    let reason = sim.run(Stop::after(SimDuration::from_secs(1)));
    assert_eq!(reason, StopReason::InstantLimit);
    assert!(
        !reason.is_complete(),
        "a loop is inconclusive, never a pass"
    );
    assert_eq!(sim.now(), SimTime::ZERO, "time never moved");
    // It stops once more than the bound's events happened at the instant.
    assert_eq!(sim.events(), 10_001);
    // It stays stopped: calling again does not run past the bound.
    assert_eq!(
        sim.run(Stop::after(SimDuration::from_secs(1))),
        StopReason::InstantLimit
    );
    assert_eq!(sim.events(), 10_001);
}

#[test]
fn the_instant_bound_is_on_by_default() {
    let mut sim = looper(SimDuration::ZERO, |_| {});
    let reason = sim.run(Stop::after(SimDuration::from_secs(1)));
    assert_eq!(reason, StopReason::InstantLimit);
    assert_eq!(
        sim.events(),
        sim_core::engine::EVENTS_PER_INSTANT_MAX_DEFAULT + 1
    );
}

#[test]
fn busy_instants_below_the_bound_pass_and_time_moves_on() {
    // Two nodes each firing every nanosecond: one event per node per
    // instant, far below the bound, for 10 µs.
    let mut sim = looper(SimDuration::from_nanos(1), |l| l.events_per_instant_max = 2);
    let reason = sim.run(Stop::after(SimDuration::from_micros(10)));
    assert_eq!(reason, StopReason::TimeReached);
    assert_eq!(fired(&sim), 2 * 10_000);
}

/// The instant bound looks only every so many events (one comparison per
/// event covers every check by count), so a loop that starts after time
/// has moved is caught within twice the bound, and a busy instant just
/// under the bound never is.
#[test]
fn a_loop_that_starts_later_is_caught_within_twice_the_bound() {
    /// Ticks every microsecond until 1 ms, then loops at that instant.
    struct LateLooper;
    impl Protocol for LateLooper {
        type Message = ();
        type Timer = ();
        type Request = ();
        type Output = ();
        fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
            ctx.set_timer(SimDuration::from_micros(1), ());
        }
        fn on_message(&mut self, _ctx: &mut Context<'_, Self>, _from: NodeId, _message: ()) {}
        fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _id: TimerId, _timer: ()) {
            let late = ctx.now().as_nanos() >= 1_000_000;
            let after = if late {
                SimDuration::ZERO
            } else {
                SimDuration::from_micros(1)
            };
            ctx.set_timer(after, ());
        }
    }
    let bound = 5_000;
    let mut config = SimConfig::new(1, Topology::uniform(1, LinkConfig::default()).unwrap());
    config.limits.events_per_instant_max = bound;
    let mut sim = Simulation::new(config, |_| LateLooper).unwrap();
    assert_eq!(
        sim.run(Stop::after(SimDuration::from_secs(1))),
        StopReason::InstantLimit
    );
    assert_eq!(sim.now(), SimTime::from_nanos(1_000_000));
    let before_loop = 1_000 + 1; // the start, and a tick a microsecond
    let at_instant = sim.events() - before_loop;
    assert!(
        at_instant > bound && at_instant <= 2 * bound + 2,
        "{at_instant}"
    );
}

#[test]
fn a_run_stops_at_its_event_bound() {
    let mut sim = looper(SimDuration::from_nanos(1), |l| l.events_max = 5_000);
    let reason = sim.run(Stop::after(SimDuration::from_secs(3)));
    assert_eq!(reason, StopReason::EventLimit);
    assert!(!reason.is_complete());
    assert_eq!(sim.events(), 5_000);
    assert!(
        sim_core::Limits::default().events_max < u64::MAX,
        "bounded by default"
    );
}

#[test]
fn slices_pause_and_resume_to_the_same_run() {
    let until = Stop::after(SimDuration::from_micros(50));
    let mut whole = looper(SimDuration::from_nanos(3), |_| {});
    assert_eq!(whole.run(until), StopReason::TimeReached);
    let mut sliced = looper(SimDuration::from_nanos(3), |_| {});
    let mut pauses = 0;
    loop {
        let reason = sliced.run(until.pausing_at_events(sliced.events() + 777));
        if reason != StopReason::EventsReached {
            assert_eq!(reason, StopReason::TimeReached);
            break;
        }
        assert_eq!(
            sliced.events() % 777,
            0,
            "a pause comes exactly at the slice"
        );
        pauses += 1;
    }
    assert!(pauses > 10, "{pauses}");
    assert_eq!(sliced.events(), whole.events());
    assert_eq!(sliced.trace_hash(), whole.trace_hash());
    assert_eq!(fired(&sliced), fired(&whole));
}
