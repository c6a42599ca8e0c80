//! How a scenario writes ring election's params:
//! `protocol: RingElection(variant: LeLann, ids: Decreasing)`.

use crate::duration::Dur;
use protocols::ring::params::{RingBugs, RingParams, RingVariant};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RingVariantSpec {
    #[default]
    ChangRoberts,
    LeLann,
}

/// Which id each server gets. The ring runs n1 -> n2 -> ... -> n1.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdsSpec {
    /// n1 gets 1, n2 gets 2, ...: ids grow along the ring (Chang–Roberts'
    /// best case, 2n−1 election messages).
    Increasing,
    /// n1 gets n, n2 gets n−1, ...: the worst case, n(n+1)/2.
    Decreasing,
    /// A permutation of 1..=n drawn from the seed (resolution writes it
    /// out as `Explicit`).
    #[default]
    Random,
    /// One id per server, in server order; unique.
    Explicit(Vec<u64>),
}

/// The ids `ids` gives `servers` servers. `Random` must have been resolved
/// (to `Explicit`); if not (validation), it stands for 1..=n.
pub fn uids(ids: &IdsSpec, servers: usize) -> Vec<u64> {
    let n = servers as u64;
    match ids {
        IdsSpec::Increasing | IdsSpec::Random => (1..=n).collect(),
        IdsSpec::Decreasing => (1..=n).rev().collect(),
        IdsSpec::Explicit(ids) => ids.clone(),
    }
}

fn ms(n: u64) -> Dur {
    Dur(sim_core::SimDuration::from_millis(n))
}
fn default_heartbeat() -> Dur {
    ms(50)
}
fn default_failure_timeout() -> Dur {
    ms(200)
}
fn default_hop_timeout() -> Dur {
    ms(50)
}
fn default_election_timeout() -> Dur {
    ms(2_000)
}
fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RingSpec {
    #[serde(default)]
    pub variant: RingVariantSpec,
    #[serde(default)]
    pub ids: IdsSpec,
    #[serde(default = "default_heartbeat")]
    pub heartbeat_interval: Dur,
    #[serde(default = "default_failure_timeout")]
    pub failure_timeout: Dur,
    #[serde(default = "default_hop_timeout")]
    pub hop_timeout: Dur,
    /// An election that elects no one within this long starts over; keep
    /// it above n hops of latency, twice (the winner's id and its
    /// announcement each go round).
    #[serde(default = "default_election_timeout")]
    pub election_timeout: Dur,
    /// BUG SWITCH: Chang–Roberts forwards smaller ids instead of
    /// swallowing them, so every server declares itself leader.
    #[serde(default, skip_serializing_if = "is_false")]
    pub forward_smaller_ids: bool,
}

impl Default for RingSpec {
    fn default() -> Self {
        crate::dialect::ron_options()
            .from_str("()")
            .expect("every RingElection field has a default")
    }
}

impl RingSpec {
    pub const BUG_SWITCHES: &'static [&'static str] = &["forward_smaller_ids"];

    /// The ids for `servers` servers. `Random` must have been resolved; if
    /// not (validation), it stands for 1..=n.
    pub fn uids(&self, servers: usize) -> Vec<u64> {
        uids(&self.ids, servers)
    }

    pub fn params(&self, servers: usize) -> RingParams {
        RingParams {
            variant: match self.variant {
                RingVariantSpec::ChangRoberts => RingVariant::ChangRoberts,
                RingVariantSpec::LeLann => RingVariant::LeLann,
            },
            uids: self.uids(servers),
            heartbeat_interval: self.heartbeat_interval.0,
            failure_timeout: self.failure_timeout.0,
            hop_timeout: self.hop_timeout.0,
            election_timeout: self.election_timeout.0,
            bugs: RingBugs {
                forward_smaller_ids: self.forward_smaller_ids,
            },
        }
    }
}
