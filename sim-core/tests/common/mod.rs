//! Shared helpers for the engine's integration tests: tiny scripted protocols
//! and cluster builders.
#![allow(dead_code)]

use sim_core::testkit::Chatter;
use sim_core::{
    ClockConfig, Context, Fault, LinkConfig, NodeId, Protocol, SimConfig, SimTime, Simulation,
    TimerId, Topology,
};

/// Sends `burst` numbered messages to every listed peer at start; counts what it receives.
#[derive(Debug, Default)]
pub struct Blaster {
    pub targets: Vec<NodeId>,
    pub burst: u32,
    pub received: Vec<(NodeId, u32)>,
}

impl Protocol for Blaster {
    type Message = u32;
    type Timer = ();
    type Request = ();
    type Output = ();
    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        for target in self.targets.clone() {
            for sequence in 0..self.burst {
                ctx.send(target, sequence);
            }
        }
    }
    fn on_message(&mut self, _ctx: &mut Context<'_, Self>, from: NodeId, message: u32) {
        self.received.push((from, message));
    }
    fn on_timer(&mut self, _ctx: &mut Context<'_, Self>, _id: TimerId, _timer: ()) {}
}

/// A cluster of `n` nodes where node i blasts `burst` messages to each of `targets(i)`.
pub fn blaster_sim(
    n: usize,
    link: LinkConfig,
    seed: u64,
    burst: u32,
    targets: impl Fn(NodeId) -> Vec<NodeId> + 'static,
) -> Simulation<Blaster> {
    let topology = Topology::uniform(n, link).unwrap();
    let mut sim = Simulation::new(SimConfig::new(seed, topology), move |id| Blaster {
        targets: targets(id),
        burst,
        received: vec![],
    })
    .unwrap();
    sim.record_trace(false, 10_000_000);
    sim
}

/// A Chatter cluster with the given links, clocks and fault schedule.
pub fn chatter_sim(
    n: usize,
    link: LinkConfig,
    clocks: Vec<ClockConfig>,
    seed: u64,
    faults: &[(SimTime, Fault)],
) -> Simulation<Chatter> {
    let topology = Topology::uniform(n, link).unwrap();
    let mut config = SimConfig::new(seed, topology);
    config.clocks = clocks;
    let mut sim = Simulation::new(config, |_| Chatter::new(20)).unwrap();
    for (at, fault) in faults {
        sim.schedule_fault(*at, fault.clone()).unwrap();
    }
    sim
}

pub fn ms(v: u64) -> SimTime {
    SimTime::from_nanos(v * 1_000_000)
}

pub fn n(i: u32) -> NodeId {
    NodeId(i)
}
