//! Bully election's parameters and bug switches.

use crate::election::Ids;
use serde::{Deserialize, Serialize};
use sim_core::Dur;

/// Who starts the first election when the servers boot. The textbook
/// message counts differ only by who starts: the largest id alone needs
/// n−1 messages, the smallest (or everyone at once) n²−1.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum FirstElection {
    /// Every server starts an election at once.
    #[default]
    All,
    /// Only the server with the smallest id starts; its messages wake the rest.
    Lowest,
    /// Only the server with the largest id starts.
    Highest,
}

/// Bully election's params, as a scenario writes them:
/// `protocol: BullyElection(first_election: Lowest, ids: Random)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BullyParams {
    /// Increasing, Decreasing, Random (a permutation drawn from the seed)
    /// or Explicit([..]).
    pub ids: Ids,
    /// Who stands at boot: All, Lowest (n²−1 messages) or Highest (n−1).
    pub first_election: FirstElection,
    /// How often the leader says it is alive.
    pub heartbeat_interval: Dur,
    /// Silence after which a follower suspects the leader (on its own clock).
    pub failure_timeout: Dur,
    /// A candidate no larger id answers within this wins. Keep it above a
    /// round trip (the algorithm's one synchrony assumption): a live
    /// larger id that answers later is taken for dead.
    pub answer_timeout: Dur,
    /// A candidate that was answered stands again if no winner speaks within this.
    pub coordinator_timeout: Dur,
    /// BUG SWITCH: follow any leader heard, even a smaller id, and hold no
    /// election on restart.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub accept_lower_leader: bool,
    /// BUG SWITCH: declare leadership at once, without asking the larger ids.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub declare_without_election: bool,
    /// Each server's id, by server index, from `ids` (the plug-in fills it
    /// in for a run).
    #[serde(skip)]
    #[schemars(skip)]
    pub uids: Vec<u64>,
}

impl Default for BullyParams {
    fn default() -> Self {
        BullyParams {
            ids: Ids::Random,
            first_election: FirstElection::All,
            heartbeat_interval: Dur::ms(50),
            failure_timeout: Dur::ms(200),
            answer_timeout: Dur::ms(50),
            coordinator_timeout: Dur::ms(200),
            accept_lower_leader: false,
            declare_without_election: false,
            uids: Vec::new(),
        }
    }
}

/// Bully's memory per server squared, for its node limit: an election with
/// every server standing queues about n²/2 messages at once, each counted
/// at about 140 bytes against the budget (measured), rounded up.
pub const BULLY_BYTES_PER_SERVER_SQUARED: u64 = 256;

/// The most servers Bully runs within a memory budget of `memory` bytes:
/// 2,048 within the default 1 GiB.
pub fn bully_servers_max(memory: u64) -> usize {
    ((memory / BULLY_BYTES_PER_SERVER_SQUARED) as f64).sqrt() as usize
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
            &self.ids.uids(servers),
            (self.heartbeat_interval.0, self.failure_timeout.0),
            &[
                ("answer_timeout", self.answer_timeout.0),
                ("coordinator_timeout", self.coordinator_timeout.0),
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
