//! How a scenario writes Bully election's params:
//! `protocol: BullyElection(first_election: Lowest, ids: Random)`.

use crate::duration::Dur;
use crate::ring_spec::IdsSpec;
use protocols::bully::params::{BullyBugs, BullyParams, FirstElection};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FirstElectionSpec {
    #[default]
    All,
    Lowest,
    Highest,
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
fn default_answer_timeout() -> Dur {
    ms(50)
}
fn default_coordinator_timeout() -> Dur {
    ms(200)
}
fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BullySpec {
    /// Which id each server gets (as for ring election).
    #[serde(default)]
    pub ids: IdsSpec,
    /// Who stands when the servers boot: All, Lowest or Highest.
    #[serde(default)]
    pub first_election: FirstElectionSpec,
    #[serde(default = "default_heartbeat")]
    pub heartbeat_interval: Dur,
    #[serde(default = "default_failure_timeout")]
    pub failure_timeout: Dur,
    /// Keep it above a round trip: a live larger id that answers later
    /// than this is taken for dead.
    #[serde(default = "default_answer_timeout")]
    pub answer_timeout: Dur,
    #[serde(default = "default_coordinator_timeout")]
    pub coordinator_timeout: Dur,
    /// BUG SWITCH: follow any leader heard, even a smaller id, and hold no
    /// election on restart.
    #[serde(default, skip_serializing_if = "is_false")]
    pub accept_lower_leader: bool,
    /// BUG SWITCH: declare leadership at once instead of asking the larger
    /// ids first.
    #[serde(default, skip_serializing_if = "is_false")]
    pub declare_without_election: bool,
}

impl Default for BullySpec {
    fn default() -> Self {
        crate::dialect::ron_options()
            .from_str("()")
            .expect("every BullyElection field has a default")
    }
}

impl BullySpec {
    pub const BUG_SWITCHES: &'static [&'static str] =
        &["accept_lower_leader", "declare_without_election"];

    pub fn params(&self, servers: usize) -> BullyParams {
        BullyParams {
            uids: crate::ring_spec::uids(&self.ids, servers),
            first_election: match self.first_election {
                FirstElectionSpec::All => FirstElection::All,
                FirstElectionSpec::Lowest => FirstElection::Lowest,
                FirstElectionSpec::Highest => FirstElection::Highest,
            },
            heartbeat_interval: self.heartbeat_interval.0,
            failure_timeout: self.failure_timeout.0,
            answer_timeout: self.answer_timeout.0,
            coordinator_timeout: self.coordinator_timeout.0,
            bugs: BullyBugs {
                accept_lower_leader: self.accept_lower_leader,
                declare_without_election: self.declare_without_election,
            },
        }
    }
}
