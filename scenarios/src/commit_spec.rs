//! How a scenario writes the atomic-commit protocols' params:
//! `protocol: TwoPhaseCommit(decision_timeout: "300ms")`, or
//! `ThreePhaseCommit(...)` with the same fields. The accounts are the
//! workload's keys.

use crate::duration::Dur;
use protocols::commit::params::{CommitBugs, CommitParams, CommitVariant};
use serde::{Deserialize, Serialize};

fn ms(n: u64) -> Dur {
    Dur(sim_core::SimDuration::from_millis(n))
}
fn default_initial_balance() -> i64 {
    100
}
fn default_vote_timeout() -> Dur {
    ms(100)
}
fn default_decision_timeout() -> Dur {
    ms(300)
}
fn default_resend_interval() -> Dur {
    ms(100)
}
fn default_round_timeout() -> Dur {
    ms(100)
}
fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitSpec {
    /// Every account's balance at the start.
    #[serde(default = "default_initial_balance")]
    pub initial_balance: i64,
    /// The coordinator aborts a transaction whose votes are not all in by then.
    #[serde(default = "default_vote_timeout")]
    pub vote_timeout: Dur,
    /// A participant uncertain this long asks (2PC) or terminates (3PC).
    #[serde(default = "default_decision_timeout")]
    pub decision_timeout: Dur,
    /// How often an unacknowledged decision is resent.
    #[serde(default = "default_resend_interval")]
    pub resend_interval: Dur,
    /// 3PC: how long a termination round, or the coordinator's wait for
    /// pre-commit acks, lasts.
    #[serde(default = "default_round_timeout")]
    pub round_timeout: Dur,
    /// 2PC: uncertain participants also ask each other (cooperative
    /// termination), not only the coordinator.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cooperative_termination: bool,
    /// BUG SWITCH: an uncertain participant commits on its own at
    /// `decision_timeout`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub commit_on_timeout: bool,
    /// BUG SWITCH: the coordinator sends its decision before syncing the
    /// decision record, so a power loss forgets it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub decide_before_sync: bool,
}

impl Default for CommitSpec {
    fn default() -> Self {
        crate::dialect::ron_options()
            .from_str("()")
            .expect("every commit field has a default")
    }
}

impl CommitSpec {
    pub const BUG_SWITCHES: &'static [&'static str] = &["commit_on_timeout", "decide_before_sync"];

    pub fn params(&self, variant: CommitVariant, accounts: u32) -> CommitParams {
        CommitParams {
            variant,
            accounts,
            initial_balance: self.initial_balance,
            vote_timeout: self.vote_timeout.0,
            decision_timeout: self.decision_timeout.0,
            resend_interval: self.resend_interval.0,
            round_timeout: self.round_timeout.0,
            cooperative_termination: self.cooperative_termination,
            bugs: CommitBugs {
                commit_on_timeout: self.commit_on_timeout,
                decide_before_sync: self.decide_before_sync,
            },
        }
    }
}
