//! Ring election's parameters and bug switches.

use sim_core::SimDuration;

/// Which algorithm runs on the ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingVariant {
    /// Chang & Roberts (1979): a node forwards only ids larger than its
    /// own; the id that comes home wins and is announced around the ring.
    /// n·H_n election messages on average, 2n−1 at best, n(n+1)/2 at worst.
    ChangRoberts,
    /// LeLann (1977): every id travels the whole ring; a node whose own id
    /// comes home has seen them all and takes the largest. n² messages.
    /// Needs FIFO links: an id may not overtake another on a link.
    LeLann,
}

/// Known broken variants, for showing that the checks catch them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RingBugs {
    /// Chang–Roberts forwards smaller ids instead of swallowing them, so
    /// every id comes home and every node declares itself leader.
    pub forward_smaller_ids: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RingParams {
    pub variant: RingVariant,
    /// Each server's unique id, by server index. The ring runs in server
    /// index order: server i passes messages to server i+1 (mod n).
    pub uids: Vec<u64>,
    /// How often a leader tells everyone it is alive.
    pub heartbeat_interval: SimDuration,
    /// A node that hears nothing from its leader for this long (on its own
    /// clock) suspects it and starts an election.
    pub failure_timeout: SimDuration,
    /// A ring message the successor has not acknowledged within this long
    /// marks the successor suspected; the message goes to the next node.
    pub hop_timeout: SimDuration,
    /// An election that elects no one within this long starts over.
    pub election_timeout: SimDuration,
    pub bugs: RingBugs,
}

/// Servers on a ring at most (ids and suspicion lists are per server).
pub const RING_SERVERS_MAX: usize = 100_000;

impl RingParams {
    /// Checks the params for `servers` servers; errors name the field.
    pub fn validate(&self, servers: usize) -> Result<(), String> {
        crate::election::validate_election(
            servers,
            (RING_SERVERS_MAX, "on a ring"),
            &self.uids,
            (self.heartbeat_interval, self.failure_timeout),
            &[
                ("hop_timeout", self.hop_timeout),
                ("election_timeout", self.election_timeout),
            ],
        )?;
        Ok(())
    }
}
