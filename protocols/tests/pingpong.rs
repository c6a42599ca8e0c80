//! Pingpong's own properties: with no faults every node always has exactly
//! one ping outstanding, so messages in flight equal the node count; pings
//! and pongs alternate; and peers are chosen uniformly among the others.

use proptest::prelude::*;
use protocols::pingpong::PingPong;
use sim_core::testkit::strategies::link_config;
use sim_core::{LinkConfig, SimConfig, Simulation, Stop, Topology, TraceKind};

fn sim(nodes: usize, link: LinkConfig, seed: u64) -> Simulation<PingPong> {
    Simulation::new(
        SimConfig::new(seed, Topology::uniform(nodes, link).unwrap()),
        |_| PingPong::default(),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn exactly_one_ping_per_node_is_in_flight(nodes in 2usize..40, seed in any::<u64>(), latency in sim_core::testkit::strategies::latency()) {
        let mut sim = sim(nodes, LinkConfig::with_latency(latency), seed);
        let reason = sim.run(Stop::after_delivered(5_000));
        prop_assert_eq!(reason, sim_core::StopReason::DeliveredReached);
        prop_assert_eq!(sim.pending_events(), nodes);
        let stats = sim.stats();
        prop_assert_eq!(stats.sent - stats.delivered, nodes as u64);
    }

    /// With loss, a lost ping stops that node's loop: in-flight count only shrinks.
    #[test]
    fn lost_messages_end_a_nodes_loop(nodes in 2usize..20, seed in any::<u64>(), mut link in link_config()) {
        link.duplicate = 0.0;
        let mut sim = sim(nodes, link, seed);
        sim.run(Stop::after_delivered(2_000));
        let stats = sim.stats();
        prop_assert_eq!(stats.sent - stats.delivered - stats.dropped.total(), sim.pending_events() as u64);
        prop_assert!(sim.pending_events() <= nodes);
    }
}

#[test]
fn peers_are_chosen_uniformly_among_the_others() {
    let nodes = 5u32;
    let mut sim = sim(nodes as usize, LinkConfig::default(), 3);
    sim.record_trace(false, 1_000_000);
    sim.run(Stop::after_delivered(200_000));
    let mut counts = vec![vec![0u64; nodes as usize]; nodes as usize];
    for record in sim
        .trace_records()
        .iter()
        .filter(|r| r.kind == TraceKind::Send)
    {
        counts[record.node.unwrap().index()][record.peer.unwrap().index()] += 1;
    }
    for (from, row) in counts.iter().enumerate() {
        assert_eq!(row[from], 0, "never pings itself");
        let pings: u64 = row.iter().sum::<u64>() / 2; // pings plus the pongs it answers
        assert!(pings > 1_000);
    }
    // Pings per (from, to): each of the 4 others gets ~1/4 of a node's pings.
    let node0: Vec<u64> = (1..nodes).map(|to| counts[0][to as usize]).collect();
    let total: u64 = node0.iter().sum();
    for c in node0 {
        let share = c as f64 / total as f64;
        assert!((share - 0.25).abs() < 0.02, "share {share}");
    }
}
