//! The multi-leader store's parameters and bug switches.

use super::resolution::{CrdtKind, Resolution};
use super::topology::Topology;
use serde::{Deserialize, Serialize};
use sim_core::{Dur, SimDuration};

/// Regions at most: the topology tests prove forwarding up to here, and
/// the monitor keeps per-region tables.
pub const REGIONS_LIMIT: u32 = 12;

/// Followers per region at most.
pub const FOLLOWERS_MAX: u32 = 4;

/// The multi-leader store's params, as a scenario writes them:
/// `protocol: MultiLeader(regions: 3, topology: Ring, conflict_resolution: VersionVectors)`.
///
/// Servers, in order: region 1's leader and its followers, then region
/// 2's, and so on, so `nodes` is `regions × (1 + followers)`. Client `c`
/// (from 0) belongs to region `c mod regions` and sends every request to
/// its region's leader; place clients and servers in the scenario's
/// `regions` to give each its region's latency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MultiLeaderParams {
    /// How many regions, each with one leader (2 to 12).
    pub regions: u32,
    /// Followers per region (0 to 4): they receive everything their
    /// leader applies, asynchronously, and serve nobody.
    pub followers: u32,
    /// How leaders replicate to each other: AllToAll, Ring or Star (hub:
    /// region 1).
    pub topology: Topology,
    /// How concurrent writes to a key resolve: LastWriterWins (by the
    /// origin's clock), VersionVectors (siblings kept for the reader) or
    /// Crdt(kind). A counter's writes add 1 (a PN-Counter's every third
    /// write of a client subtracts 1); a set's writes insert their value;
    /// a read returns the value, the siblings joined by '|', the count,
    /// or the set's elements joined by '|'.
    pub conflict_resolution: Resolution,
    /// A leader applies a remote write only after every write its origin
    /// had applied before taking it (causal delivery). Off: on arrival.
    pub causal_delivery: bool,
    /// How often a leader resends what a region it replicates to has not
    /// acknowledged (a write is first sent at once).
    pub resend_interval: Dur,
    /// Writes one replication message carries at most.
    pub batch_max: u32,
    /// BUG SWITCH: last-writer-wins stamps a write with the origin's raw
    /// clock, even when the key already holds a later stamp: a region
    /// whose clock is behind loses the write it makes after reading a
    /// newer one (a causally later write lost to skew).
    pub lww_ignore_clock_skew: bool,
    /// BUG SWITCH: a counter's merge adds the shipped counts instead of
    /// keeping the larger, so every resent or duplicated shipment counts
    /// again.
    pub crdt_merge_not_idempotent: bool,
    /// BUG SWITCH: a ring forwards a write to its successor without
    /// looking at the regions it has visited, so writes go round forever.
    pub ring_forward_loops: bool,
    /// BUG SWITCH: with `causal_delivery` on, a leader applies a remote
    /// write as it arrives anyway, dependencies or not.
    pub apply_without_dependencies: bool,
}

impl Default for MultiLeaderParams {
    fn default() -> Self {
        MultiLeaderParams {
            regions: 2,
            followers: 0,
            topology: Topology::AllToAll,
            conflict_resolution: Resolution::LastWriterWins,
            causal_delivery: true,
            resend_interval: Dur::ms(200),
            batch_max: 64,
            lww_ignore_clock_skew: false,
            crdt_merge_not_idempotent: false,
            ring_forward_loops: false,
            apply_without_dependencies: false,
        }
    }
}

impl MultiLeaderParams {
    /// Servers per region: the leader and its followers.
    pub fn per_region(&self) -> u32 {
        1 + self.followers
    }

    /// Servers a run needs.
    pub fn servers(&self) -> u32 {
        self.regions * self.per_region()
    }

    /// The region of server `server`.
    pub fn region_of(&self, server: u32) -> u32 {
        server / self.per_region()
    }

    /// The leader of region `region`.
    pub fn leader_of(&self, region: u32) -> u32 {
        region * self.per_region()
    }

    /// Whether server `server` leads its region.
    pub fn leads(&self, server: u32) -> bool {
        server.is_multiple_of(self.per_region())
    }

    /// Whether remote writes wait for their dependencies.
    pub fn waits_for_dependencies(&self) -> bool {
        self.causal_delivery && !self.apply_without_dependencies
    }

    /// Checks the params against `servers`; the message names the field.
    pub fn validate(&self, servers: usize) -> Result<(), String> {
        if !(2..=REGIONS_LIMIT).contains(&self.regions) {
            return Err(format!(
                "regions: between 2 and {REGIONS_LIMIT}, got {}",
                self.regions
            ));
        }
        if self.followers > FOLLOWERS_MAX {
            return Err(format!(
                "followers: at most {FOLLOWERS_MAX} per region, got {}",
                self.followers
            ));
        }
        if servers as u64 != u64::from(self.servers()) {
            return Err(format!(
                "the store needs regions × (1 + followers) = {} servers, got {servers}: set nodes: Count({})",
                self.servers(),
                self.servers()
            ));
        }
        let resend = self.resend_interval.0;
        if resend < SimDuration::from_millis(1) || resend > SimDuration::from_secs(60) {
            return Err(format!(
                "resend_interval: between 1ms and 60s, got {}",
                self.resend_interval
            ));
        }
        if !(1..=10_000).contains(&self.batch_max) {
            return Err(format!(
                "batch_max: between 1 and 10000, got {}",
                self.batch_max
            ));
        }
        if self.crdt_merge_not_idempotent
            && !matches!(
                self.conflict_resolution,
                Resolution::Crdt(CrdtKind::GCounter | CrdtKind::PnCounter)
            )
        {
            return Err(
                "crdt_merge_not_idempotent: breaks a counter's merge; set conflict_resolution: Crdt(GCounter) or Crdt(PnCounter)"
                    .into(),
            );
        }
        if self.ring_forward_loops && self.topology != Topology::Ring {
            return Err("ring_forward_loops: breaks a ring; set topology: Ring".into());
        }
        if self.apply_without_dependencies && !self.causal_delivery {
            return Err(
                "apply_without_dependencies: breaks causal delivery; set causal_delivery: true"
                    .into(),
            );
        }
        Ok(())
    }
}
