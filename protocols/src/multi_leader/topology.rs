//! The replication topology between region leaders: to whom a leader
//! sends a write it took, or passes on one it received.
//!
//! - `AllToAll`: the origin sends to every other region; nobody forwards.
//!   Fastest, and the shape in which an update can overtake its insert
//!   (two paths of different length).
//! - `Ring`: each region forwards to its successor, until the successor
//!   has the write already (it is in the write's visited set). One path
//!   per write, so a region that fails stops the ring for everyone after
//!   it.
//! - `Star`: the origin sends to the hub (region 0), which forwards to
//!   every spoke not yet visited; the hub is a single point of failure.
//!
//! Why a visited set: a region cannot tell from the write alone whether
//! it has gone round, and a ring that forwards without looking (the
//! `ring_forward_loops` bug switch) sends every write round forever.

use serde::{Deserialize, Serialize};

/// How region leaders replicate to each other.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum Topology {
    /// Every region's leader sends its writes to every other region.
    #[default]
    AllToAll,
    /// Each region forwards to the next, round a ring of region ids.
    Ring,
    /// Writes go through the hub, region 0.
    Star,
}

/// Regions at most: the visited set is a bit per region.
pub const REGIONS_MAX: u32 = 32;

/// The hub of a star.
pub const HUB: u32 = 0;

/// A set of regions, a bit each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Regions(u32);

impl Regions {
    pub fn of(region: u32) -> Regions {
        assert!(region < REGIONS_MAX, "region {region} beyond {REGIONS_MAX}");
        Regions(1 << region)
    }

    pub fn contains(self, region: u32) -> bool {
        region < REGIONS_MAX && self.0 & (1 << region) != 0
    }

    pub fn with(self, region: u32) -> Regions {
        Regions(self.0 | Regions::of(region).0)
    }

    pub fn len(self) -> u32 {
        self.0.count_ones()
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// Where region `me` sends a write that `origin` took, which has been at
/// `visited` (the origin included) before reaching `me`: the regions it
/// goes to next, and the visited set it carries there. `loops` is the
/// `ring_forward_loops` bug switch.
pub fn next_hops(
    topology: Topology,
    regions: u32,
    me: u32,
    origin: u32,
    visited: Regions,
    loops: bool,
) -> (Vec<u32>, Regions) {
    assert!(me < regions && origin < regions && regions <= REGIONS_MAX);
    debug_assert!(visited.contains(origin), "the origin has its own write");
    let carried = visited.with(me);
    let hops: Vec<u32> = match topology {
        Topology::AllToAll if me == origin => (0..regions).filter(|r| *r != me).collect(),
        Topology::AllToAll => Vec::new(),
        Topology::Ring => {
            let next = (me + 1) % regions;
            if next == me || (!loops && carried.contains(next)) {
                Vec::new()
            } else {
                vec![next]
            }
        }
        Topology::Star if me == HUB => (0..regions).filter(|r| !carried.contains(*r)).collect(),
        Topology::Star if me == origin => vec![HUB],
        Topology::Star => Vec::new(),
    };
    debug_assert!(!hops.contains(&me), "a region does not send to itself");
    (hops, carried)
}
