//! Ring election's parameters and bug switches.

use crate::election::Ids;
use serde::{Deserialize, Serialize};
use sim_core::Dur;

/// Which algorithm runs on the ring.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum RingVariant {
    /// Chang & Roberts (1979): a node forwards only ids larger than its
    /// own; the id that comes home wins and is announced around the ring.
    /// n·H_n election messages on average, 2n−1 at best, n(n+1)/2 at worst.
    #[default]
    ChangRoberts,
    /// LeLann (1977): every id travels the whole ring; a node whose own id
    /// comes home has seen them all and takes the largest. n² messages.
    /// Needs FIFO links: an id may not overtake another on a link.
    LeLann,
}

/// Ring election's params, as a scenario writes them:
/// `protocol: RingElection(variant: LeLann, ids: Decreasing)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RingParams {
    /// ChangRoberts or LeLann (LeLann needs FIFO links).
    pub variant: RingVariant,
    /// Increasing, Decreasing, Random (a permutation drawn from the seed)
    /// or Explicit([..]).
    pub ids: Ids,
    /// How often the leader says it is alive.
    pub heartbeat_interval: Dur,
    /// Silence after which a server suspects the leader (on its own clock).
    pub failure_timeout: Dur,
    /// An unacknowledged ring hop skips the successor after this.
    pub hop_timeout: Dur,
    /// An election that elects no one starts over after this; keep it
    /// above n hops of latency, twice (the winner's id and its
    /// announcement each go round).
    pub election_timeout: Dur,
    /// BUG SWITCH: forward smaller ids instead of swallowing them, so every
    /// server declares itself leader.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub forward_smaller_ids: bool,
    /// Each server's id, by server index, from `ids` (the plug-in fills it
    /// in for a run). The ring runs in server index order.
    #[serde(skip)]
    #[schemars(skip)]
    pub uids: Vec<u64>,
}

impl Default for RingParams {
    fn default() -> Self {
        RingParams {
            variant: RingVariant::ChangRoberts,
            ids: Ids::Random,
            heartbeat_interval: Dur::ms(50),
            failure_timeout: Dur::ms(200),
            hop_timeout: Dur::ms(50),
            election_timeout: Dur::ms(2_000),
            forward_smaller_ids: false,
            uids: Vec::new(),
        }
    }
}

/// Servers on a ring at most (ids and suspicion lists are per server).
pub const RING_SERVERS_MAX: usize = 100_000;

impl RingParams {
    /// Checks the params for `servers` servers; errors name the field.
    pub fn validate(&self, servers: usize) -> Result<(), String> {
        crate::election::validate_election(
            servers,
            (RING_SERVERS_MAX, "on a ring"),
            &self.ids.uids(servers),
            (self.heartbeat_interval.0, self.failure_timeout.0),
            &[
                ("hop_timeout", self.hop_timeout.0),
                ("election_timeout", self.election_timeout.0),
            ],
        )?;
        Ok(())
    }
}
