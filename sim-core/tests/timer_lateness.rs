//! Timer lateness: a node's timers fire after their deadline by a draw
//! from its distribution, from a stream of its own; without one they fire
//! exactly on time and no draw is made.

use sim_core::latency::Latency;
use sim_core::link::LinkConfig;
use sim_core::protocol::{Context, Protocol};
use sim_core::{NodeId, SimConfig, SimDuration, SimTime, Simulation, Stop, TimerId, Topology};

/// Sets a 10 ms timer at start and again each time it fires, and reports
/// the true time it fired at.
struct Ticker;

impl Protocol for Ticker {
    type Message = ();
    type Timer = ();
    type Request = ();
    type Output = u64;
    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.set_timer(SimDuration::from_millis(10), ());
    }
    fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: TimerId, _: ()) {
        ctx.output(0);
        ctx.set_timer(SimDuration::from_millis(10), ());
    }
}

/// Each node's firing times, ns, over 100 ms.
fn firings(lateness: Vec<Option<Latency>>, seed: u64) -> (Vec<Vec<u64>>, u64) {
    let topology = Topology::uniform(3, LinkConfig::default()).unwrap();
    let mut config = SimConfig::new(seed, topology);
    config.timer_lateness = lateness;
    let mut sim = Simulation::new(config, |_| Ticker).unwrap();
    sim.run(Stop::at(SimTime::from_nanos(100_000_000)));
    let mut per_node = vec![Vec::new(); 3];
    for emitted in sim.drain_outputs() {
        per_node[emitted.node.index()].push(emitted.time.as_nanos());
    }
    (per_node, sim.trace_hash())
}

#[test]
fn without_lateness_timers_fire_on_time_and_in_lockstep() {
    let (on_time, hash) = firings(Vec::new(), 1);
    let expected: Vec<u64> = (1..=10).map(|k| k * 10_000_000).collect();
    assert!(
        on_time.iter().all(|times| *times == expected),
        "{on_time:?}"
    );
    // None for every node is the same run as no lateness at all.
    assert_eq!(firings(vec![None, None, None], 1).1, hash);
}

#[test]
fn a_late_node_drifts_by_its_draws_and_the_others_keep_time() {
    let late = Latency::Uniform {
        min: SimDuration::from_nanos(1_000),
        max: SimDuration::from_nanos(50_000),
    };
    let (times, _) = firings(vec![None, Some(late.clone()), None], 7);
    let on_time: Vec<u64> = (1..=10).map(|k| k * 10_000_000).collect();
    assert_eq!(times[0], on_time);
    assert_eq!(times[2], on_time);
    // Each period is 10 ms plus a draw in [1, 50] us, so n2 falls behind
    // more with every timer: lockstep is broken.
    let mut previous = 0;
    for &t in &times[1] {
        let gap = t - previous;
        assert!((10_001_000..=10_050_000).contains(&gap), "{gap}");
        previous = t;
    }
    assert!(times[1].len() <= 10 && times[1].len() >= 9);
    // The same seed draws the same lateness; another seed other draws.
    assert_eq!(firings(vec![None, Some(late.clone()), None], 7).0, times);
    assert_ne!(firings(vec![None, Some(late), None], 8).0[1], times[1]);
}

#[test]
fn a_lateness_list_of_the_wrong_length_or_an_invalid_one_is_an_error() {
    let topology = Topology::uniform(3, LinkConfig::default()).unwrap();
    let mut config = SimConfig::new(1, topology);
    config.timer_lateness = vec![None];
    assert!(Simulation::new(config, |_| Ticker).is_err());
    let topology = Topology::uniform(3, LinkConfig::default()).unwrap();
    let mut config = SimConfig::new(1, topology);
    let bad = Latency::Pareto {
        scale: SimDuration::from_millis(1),
        alpha: -1.0,
    };
    config.timer_lateness = vec![None, Some(bad), None];
    let error = Simulation::new(config, |_| Ticker).err().expect("invalid");
    assert!(error.to_string().contains("timer lateness"), "{error}");
}
