//! Bully election's parameters and bug switches.

use sim_core::SimDuration;

/// Who starts the first election when the servers boot. The textbook
/// message counts differ only by who starts: the largest id alone needs
/// n−1 messages, the smallest (or everyone at once) n²−1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FirstElection {
    /// Every server starts an election at once.
    #[default]
    All,
    /// Only the server with the smallest id starts; its messages wake the rest.
    Lowest,
    /// Only the server with the largest id starts.
    Highest,
}

/// Known broken variants, for showing that the checks catch them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BullyBugs {
    /// A server follows any leader it hears, even one with a smaller id,
    /// and holds no election when it restarts: the largest id, back from a
    /// crash, never takes over.
    pub accept_lower_leader: bool,
    /// A server that starts an election declares itself leader at once,
    /// without asking the larger ids whether they are alive.
    pub declare_without_election: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BullyParams {
    /// Each server's unique id, by server index.
    pub uids: Vec<u64>,
    pub first_election: FirstElection,
    /// How often a leader tells everyone it is alive.
    pub heartbeat_interval: SimDuration,
    /// A follower that hears nothing from its leader for this long (on its
    /// own clock) suspects it and starts an election.
    pub failure_timeout: SimDuration,
    /// A candidate that no larger id answers within this long declares
    /// itself leader. Must exceed a round trip: the algorithm's one
    /// synchrony assumption.
    pub answer_timeout: SimDuration,
    /// A candidate that a larger id answered waits this long for that
    /// id's (or a still larger one's) victory, then starts over.
    pub coordinator_timeout: SimDuration,
    pub bugs: BullyBugs,
}

/// Servers at most: an election costs O(n²) messages.
pub const BULLY_SERVERS_MAX: usize = 10_000;

impl BullyParams {
    /// Checks the params for `servers` servers; errors name the field.
    pub fn validate(&self, servers: usize) -> Result<(), String> {
        crate::election::validate_election(
            servers,
            (
                BULLY_SERVERS_MAX,
                "run Bully (an election costs n² messages)",
            ),
            &self.uids,
            (self.heartbeat_interval, self.failure_timeout),
            &[
                ("answer_timeout", self.answer_timeout),
                ("coordinator_timeout", self.coordinator_timeout),
            ],
        )?;
        if self.coordinator_timeout <= self.answer_timeout {
            return Err(format!(
                "coordinator_timeout: must exceed answer_timeout ({}), since the larger id waits that long before it wins; got {}",
                self.answer_timeout, self.coordinator_timeout
            ));
        }
        Ok(())
    }
}
