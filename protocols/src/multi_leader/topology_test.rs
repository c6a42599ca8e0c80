//! Who forwards to whom, exactly, and the property that every region
//! gets every write once and forwarding ends, for every topology and
//! size; the ring's bug switch forwards forever, and a failed region
//! stops the ring behind it.

use super::topology::{next_hops, Regions, Topology, HUB};
use proptest::prelude::*;
use std::collections::VecDeque;

/// Floods one write from `origin`; how many times each region received
/// it, and how many messages it took (stopping at `limit`). `down` drops
/// what reaches it.
fn flood(
    topology: Topology,
    regions: u32,
    origin: u32,
    loops: bool,
    down: Option<u32>,
    limit: usize,
) -> (Vec<u32>, usize) {
    let mut received = vec![0u32; regions as usize];
    let mut queue = VecDeque::new();
    let (first, carried) = next_hops(
        topology,
        regions,
        origin,
        origin,
        Regions::of(origin),
        loops,
    );
    queue.extend(first.into_iter().map(|to| (to, carried)));
    let mut messages = 0;
    while let Some((at, visited)) = queue.pop_front() {
        messages += 1;
        if messages > limit {
            break;
        }
        if down == Some(at) {
            continue;
        }
        received[at as usize] += 1;
        let (hops, carried) = next_hops(topology, regions, at, origin, visited, loops);
        queue.extend(hops.into_iter().map(|to| (to, carried)));
    }
    (received, messages)
}

#[test]
fn each_topology_sends_where_it_says() {
    let origin = Regions::of(1);
    assert_eq!(
        next_hops(Topology::AllToAll, 4, 1, 1, origin, false).0,
        [0, 2, 3]
    );
    assert!(
        next_hops(Topology::AllToAll, 4, 2, 1, origin.with(1), false)
            .0
            .is_empty()
    );
    let (ring, carried) = next_hops(Topology::Ring, 4, 1, 1, origin, false);
    assert_eq!(ring, [2]);
    assert_eq!(
        next_hops(Topology::Ring, 4, 3, 1, carried.with(2), false).0,
        [0]
    );
    let all_but_one = carried.with(2).with(3);
    assert!(
        next_hops(Topology::Ring, 4, 0, 1, all_but_one, false)
            .0
            .is_empty(),
        "back at the origin: stop"
    );
    assert_eq!(next_hops(Topology::Star, 4, 1, 1, origin, false).0, [HUB]);
    assert_eq!(
        next_hops(Topology::Star, 4, HUB, 1, origin, false).0,
        [2, 3],
        "the hub forwards to the spokes not visited"
    );
    assert!(next_hops(Topology::Star, 4, 3, 1, origin.with(0), false)
        .0
        .is_empty());
    assert_eq!(
        next_hops(Topology::Star, 4, HUB, HUB, Regions::of(HUB), false).0,
        [1, 2, 3]
    );
}

#[test]
fn a_failed_region_stops_the_ring_behind_it_and_a_failed_hub_stops_the_star() {
    let (received, _) = flood(Topology::Ring, 4, 0, false, Some(2), 100);
    assert_eq!(received, [0, 1, 0, 0], "n3 and n4 never hear of it");
    let (received, _) = flood(Topology::Star, 4, 1, false, Some(HUB), 100);
    assert_eq!(received, [0, 0, 0, 0]);
    let (received, _) = flood(Topology::AllToAll, 4, 0, false, Some(2), 100);
    assert_eq!(
        received,
        [0, 1, 0, 1],
        "all-to-all loses only the failed one"
    );
}

proptest! {
    #[test]
    fn every_region_gets_each_write_once_and_forwarding_ends(
        regions in 1u32..=12,
        origin_seed in any::<u32>(),
        topology in prop::sample::select(vec![Topology::AllToAll, Topology::Ring, Topology::Star]),
    ) {
        let origin = origin_seed % regions;
        let (received, messages) = flood(topology, regions, origin, false, None, 10_000);
        for (region, times) in received.iter().enumerate() {
            let expected = u32::from(region as u32 != origin);
            prop_assert_eq!(*times, expected, "region {} of {}", region, regions);
        }
        // One message per other region, in every shape: the star's way
        // through the hub is the hub's own copy.
        prop_assert_eq!(messages, regions as usize - 1);
    }

    /// Forwarding round the ring without the visited set never ends.
    #[test]
    fn bug_switch_ring_forward_loops_forwards_forever(regions in 2u32..=12, origin_seed in any::<u32>()) {
        let origin = origin_seed % regions;
        let limit = 100 * regions as usize;
        let (received, messages) = flood(Topology::Ring, regions, origin, true, None, limit);
        prop_assert!(messages > limit);
        prop_assert!(received.iter().all(|times| *times > 1));
    }
}
