//! Atomic commit's parameters and bug switches, shared by 2PC and 3PC.

use serde::{Deserialize, Serialize};
use sim_core::{Dur, SimDuration};

/// Which commit protocol runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CommitVariant {
    /// Two-phase commit (Gray 1978): prepare/vote, then the decision. A
    /// participant that voted yes and lost the coordinator is stuck
    /// uncertain until the coordinator recovers.
    #[default]
    TwoPhase,
    /// Three-phase commit (Skeen 1981): a pre-commit round between the
    /// votes and the decision, so that participants can finish a
    /// transaction without the coordinator (the termination protocol).
    /// Safe under crashes on a network with bounded delays; a partition
    /// can make the two sides decide differently.
    ThreePhase,
}

/// The atomic-commit protocols' params, as a scenario writes them:
/// `protocol: TwoPhaseCommit(decision_timeout: "300ms")`, or
/// `ThreePhaseCommit(...)` with the same fields. The accounts are the
/// workload's keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CommitParams {
    /// Every account's balance at the start (accounts are the workload's keys).
    pub initial_balance: i64,
    /// The coordinator aborts when votes are missing after this.
    pub vote_timeout: Dur,
    /// An uncertain participant asks (2PC) or terminates (3PC) after this.
    pub decision_timeout: Dur,
    /// How often an unacknowledged decision is resent (and a recovering
    /// 3PC coordinator polls).
    pub resend_interval: Dur,
    /// 3PC: a termination round, or the coordinator's wait for pre-commit acks.
    pub round_timeout: Dur,
    /// 2PC: uncertain participants ask each other too, not only the
    /// coordinator (the cooperative termination protocol).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cooperative_termination: bool,
    /// Group commit: records written while a sync is in flight share the
    /// next sync (one at a time). Off, every record is its own sync, and a
    /// slow disk's queue soon outlasts the timeouts.
    pub group_commit: bool,
    /// BUG SWITCH: an uncertain participant commits on its own at decision_timeout.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub commit_on_timeout: bool,
    /// BUG SWITCH: the decision goes out (to the client and the
    /// participants) before its record's sync completes, so a power loss
    /// in that window forgets it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub decide_before_sync: bool,
    /// Which protocol runs (the plug-in sets it: TwoPhaseCommit or
    /// ThreePhaseCommit).
    #[serde(skip)]
    #[schemars(skip)]
    pub variant: CommitVariant,
    /// Accounts "k0".."k{accounts-1}" (the workload's keys; the plug-in
    /// sets it); account i lives on shard i mod shards.
    #[serde(skip)]
    #[schemars(skip)]
    pub accounts: u32,
}

impl Default for CommitParams {
    fn default() -> Self {
        CommitParams {
            initial_balance: 100,
            vote_timeout: Dur::ms(100),
            decision_timeout: Dur::ms(300),
            resend_interval: Dur::ms(100),
            round_timeout: Dur::ms(100),
            cooperative_termination: false,
            commit_on_timeout: false,
            decide_before_sync: false,
            group_commit: true,
            variant: CommitVariant::TwoPhase,
            accounts: 0,
        }
    }
}

/// Servers at most: one coordinator plus the shards.
pub const COMMIT_SERVERS_MAX: usize = 1_000;
/// Accounts at most (each shard keeps its balances in memory).
pub const ACCOUNTS_MAX: u32 = 1_000_000;

/// Checks the server count (the scenario's `nodes`): a coordinator and
/// at least one shard, at most `COMMIT_SERVERS_MAX` in all.
pub fn validate_servers(servers: usize) -> Result<(), String> {
    if (2..=COMMIT_SERVERS_MAX).contains(&servers) {
        Ok(())
    } else {
        Err(format!(
            "atomic commit needs a coordinator and at least one shard, at most {COMMIT_SERVERS_MAX} servers; got {servers}"
        ))
    }
}

impl CommitParams {
    /// Checks the params; errors name the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(0..=1_000_000_000_000).contains(&self.initial_balance) {
            return Err(format!(
                "initial_balance: must be between 0 and 1000000000000, got {}",
                self.initial_balance
            ));
        }
        for (field, value) in [
            ("vote_timeout", self.vote_timeout.0),
            ("decision_timeout", self.decision_timeout.0),
            ("resend_interval", self.resend_interval.0),
            ("round_timeout", self.round_timeout.0),
        ] {
            if value == SimDuration::ZERO {
                return Err(format!("{field}: must be above 0"));
            }
        }
        Ok(())
    }

    /// How many shards (participants) `servers` servers make.
    pub fn shards(servers: u32) -> u32 {
        servers - 1
    }
}
