//! Node promises: timers never fire on a crashed or paused node and fire late
//! after a pause; durable state survives a crash and volatile state does not;
//! the storage fault loses unsynced writes; drift stretches timers by exactly
//! 1/(1+drift); a clock jump moves the clock's reading and nothing else.

mod common;

use common::{chatter_sim, ms, n};
use proptest::prelude::*;
use sim_core::testkit::strategies::{clock, fault_schedule};
use sim_core::{
    ClockConfig, Context, Fault, LinkConfig, NodeId, NodeStatus, Protocol, SimConfig, SimDuration,
    SimTime, Simulation, Stop, TimerId, Topology, TraceKind,
};

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Replays the node status from the trace: no timer, message or request is
    /// handled by a node while it is down or paused.
    #[test]
    fn nothing_is_handled_by_a_crashed_or_paused_node(
        node_count in 2usize..6,
        schedule in fault_schedule(5, SimDuration::from_secs(2), 20),
        clocks in prop::collection::vec(clock(200.0), 5),
        seed in any::<u64>(),
    ) {
        let schedule: Vec<_> = schedule.into_iter().filter(|(_, f)| f.validate(node_count).is_ok()).collect();
        let clocks = clocks[..node_count].to_vec();
        let mut sim = chatter_sim(node_count, LinkConfig::default(), clocks, seed, &schedule);
        sim.record_trace(false, 5_000_000);
        sim.run(Stop::after(SimDuration::from_secs(3)));
        let mut status = vec![NodeStatus::Down; node_count];
        for record in sim.trace_records() {
            let Some(node) = record.node else { continue };
            let slot = &mut status[node.index()];
            match record.kind {
                TraceKind::Start | TraceKind::Restart | TraceKind::Resume => *slot = NodeStatus::Up,
                TraceKind::Crash => *slot = NodeStatus::Down,
                TraceKind::Pause => *slot = NodeStatus::Paused,
                TraceKind::Timer | TraceKind::Deliver | TraceKind::Request => {
                    prop_assert_eq!(*slot, NodeStatus::Up, "{:?} handled by a node that is {:?}", record, *slot);
                }
                _ => {}
            }
        }
        for (index, expected) in status.iter().enumerate() {
            prop_assert_eq!(sim.node_status(NodeId(index as u32)), *expected);
        }
    }

    /// Drift: a timer of D local fires after D/(1+drift) of true time (to 2 ns).
    #[test]
    fn drift_stretches_timers_by_exactly_one_over_one_plus_drift(drift_ppm in -100_000.0f64..100_000.0, local_ms in 1u64..10_000) {
        let mut sim = one_timer_sim(ClockConfig { offset_ns: 0, drift_ppm }, SimDuration::from_millis(local_ms));
        sim.run(Stop::after(SimDuration::from_secs(20)));
        let fired = sim.trace_records().iter().find(|r| r.kind == TraceKind::Timer).unwrap().time;
        // Drift is kept at 1 ppb resolution (see clock.rs), so compare with the quantised rate.
        let drift_ppb = (drift_ppm * 1_000.0).round();
        let expected = (local_ms * 1_000_000) as f64 / (1.0 + drift_ppb * 1e-9);
        prop_assert!((fired.as_nanos() as f64 - expected).abs() <= 2.0, "fired at {fired}, expected {expected} ns");
    }
}

/// Sets one timer of `after` at start and records the local clock when it fires.
struct OneTimer {
    after: SimDuration,
    fired_local: Option<sim_core::LocalTime>,
}

impl Protocol for OneTimer {
    type Message = ();
    type Timer = ();
    type Request = ();
    type Output = ();
    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.set_timer(self.after, ());
    }
    fn on_message(&mut self, _ctx: &mut Context<'_, Self>, _from: NodeId, _message: ()) {}
    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _id: TimerId, _timer: ()) {
        self.fired_local = Some(ctx.now());
    }
}

fn one_timer_sim(clock: ClockConfig, after: SimDuration) -> Simulation<OneTimer> {
    let mut config = SimConfig::new(1, Topology::uniform(1, LinkConfig::default()).unwrap());
    config.clocks = vec![clock];
    let mut sim = Simulation::new(config, move |_| OneTimer {
        after,
        fired_local: None,
    })
    .unwrap();
    sim.record_trace(false, 1_000);
    sim
}

#[test]
fn a_paused_node_fires_its_timers_late_at_resume() {
    let mut sim = one_timer_sim(ClockConfig::default(), SimDuration::from_millis(100));
    sim.schedule_fault(
        ms(50),
        Fault::Pause {
            node: n(0),
            duration: Some(SimDuration::from_millis(200)),
        },
    )
    .unwrap();
    sim.run(Stop::after(SimDuration::from_secs(1)));
    let timer = sim
        .trace_records()
        .iter()
        .find(|r| r.kind == TraceKind::Timer)
        .unwrap();
    assert_eq!(timer.time, ms(250), "due at 100ms, fired at the resume");
    assert_eq!(
        sim.node(n(0)).unwrap().fired_local,
        Some(sim_core::LocalTime::from_nanos(250_000_000))
    );
}

#[test]
fn a_crash_drops_pending_timers() {
    let mut sim = one_timer_sim(ClockConfig::default(), SimDuration::from_millis(100));
    sim.schedule_fault(
        ms(50),
        Fault::Crash {
            node: n(0),
            lose_unsynced: false,
        },
    )
    .unwrap();
    sim.schedule_fault(ms(60), Fault::Restart(n(0))).unwrap();
    sim.run(Stop::after(SimDuration::from_secs(1)));
    let fired: Vec<SimTime> = sim
        .trace_records()
        .iter()
        .filter(|r| r.kind == TraceKind::Timer)
        .map(|r| r.time)
        .collect();
    assert_eq!(
        fired,
        vec![ms(160)],
        "only the timer the restarted node set itself"
    );
}

#[test]
fn a_clock_jump_moves_the_reading_and_nothing_else() {
    let run = |jump: bool| {
        let faults = if jump {
            vec![(
                ms(500),
                Fault::ClockJump {
                    node: n(1),
                    delta_ns: -300_000_000,
                },
            )]
        } else {
            vec![]
        };
        let mut sim = chatter_sim(3, LinkConfig::default(), vec![], 11, &faults);
        sim.record_trace(false, 1_000_000);
        sim.run(Stop::after(SimDuration::from_secs(1)));
        sim
    };
    let (plain, jumped) = (run(false), run(true));
    let events = |sim: &Simulation<sim_core::testkit::Chatter>| -> Vec<_> {
        sim.trace_records()
            .iter()
            .filter(|r| r.kind != TraceKind::ClockJump)
            .cloned()
            .collect()
    };
    assert_eq!(
        events(&plain),
        events(&jumped),
        "every event happens at the same true time"
    );
    let readings = |sim: &Simulation<sim_core::testkit::Chatter>| {
        sim.node(n(1)).unwrap().timer_readings.clone()
    };
    let (before, after) = (readings(&plain), readings(&jumped));
    assert_eq!(before.len(), after.len());
    let mut saw_jump = false;
    for (a, b) in before.iter().zip(&after) {
        if a.as_nanos() < 500_000_000 {
            assert_eq!(a, b);
        } else {
            assert_eq!(a.as_nanos() - b.as_nanos(), 300_000_000);
            saw_jump = true;
        }
    }
    assert!(saw_jump);
}

/// What `Keeper` read back at recovery: the synced and the unsynced key.
type Recovered = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Writes a synced and an unsynced key at start, and keeps a volatile marker.
#[derive(Default)]
struct Keeper {
    volatile_marker: u32,
    recovered: Option<Recovered>,
}

impl Protocol for Keeper {
    type Message = ();
    type Timer = ();
    type Request = ();
    type Output = ();
    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        self.volatile_marker = 7;
        ctx.storage().put("synced", b"yes".to_vec());
        ctx.storage().sync();
        ctx.storage().put("unsynced", b"maybe".to_vec());
    }
    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        let mut read = |key| ctx.storage().get(key).map(<[u8]>::to_vec);
        self.recovered = Some((read("synced"), read("unsynced")));
    }
    fn on_message(&mut self, _ctx: &mut Context<'_, Self>, _from: NodeId, _message: ()) {}
    fn on_timer(&mut self, _ctx: &mut Context<'_, Self>, _id: TimerId, _timer: ()) {}
}

#[test]
fn durable_state_survives_a_crash_and_volatile_state_does_not() {
    for lose_unsynced in [false, true] {
        let topology = Topology::uniform(1, LinkConfig::default()).unwrap();
        let mut sim = Simulation::new(SimConfig::new(1, topology), |_| Keeper::default()).unwrap();
        sim.schedule_fault(
            ms(10),
            Fault::Crash {
                node: n(0),
                lose_unsynced,
            },
        )
        .unwrap();
        sim.schedule_fault(ms(20), Fault::Restart(n(0))).unwrap();
        sim.run(Stop::after(SimDuration::from_secs(1)));
        let keeper = sim.node(n(0)).unwrap();
        assert_eq!(
            keeper.volatile_marker, 0,
            "volatile state is fresh after a restart"
        );
        let (synced, unsynced) = keeper.recovered.clone().unwrap();
        assert_eq!(synced.as_deref(), Some(&b"yes"[..]));
        let expected_unsynced = if lose_unsynced {
            None
        } else {
            Some(&b"maybe"[..])
        };
        assert_eq!(
            unsynced.as_deref(),
            expected_unsynced,
            "lose_unsynced = {lose_unsynced}"
        );
    }
}

#[test]
fn messages_to_a_crashed_node_are_dropped_at_delivery() {
    let link = LinkConfig::with_latency(sim_core::Latency::constant_ms(100));
    let mut sim = common::blaster_sim(
        2,
        link,
        1,
        3,
        |me| if me == n(0) { vec![n(1)] } else { vec![] },
    );
    sim.schedule_fault(
        ms(50),
        Fault::Crash {
            node: n(1),
            lose_unsynced: false,
        },
    )
    .unwrap();
    sim.run(Stop::after(SimDuration::from_secs(1)));
    assert_eq!(sim.stats().dropped.node_down, 3);
    assert_eq!(sim.stats().node(n(1)).dropped, 3);
}

#[test]
fn the_queue_bound_stops_the_run_with_a_reason() {
    let topology = Topology::uniform(2, LinkConfig::default()).unwrap();
    let mut config = SimConfig::new(1, topology);
    config.limits.queue_len_max = 100;
    let mut sim = Simulation::new(config, |me: NodeId| common::Blaster {
        targets: vec![NodeId(1 - me.0)],
        burst: 1_000,
        received: vec![],
    })
    .unwrap();
    assert_eq!(
        sim.run(Stop::after(SimDuration::from_secs(1))),
        sim_core::StopReason::QueueLimit
    );
}
