//! Atomic commit's parameters and bug switches, shared by 2PC and 3PC.

use sim_core::SimDuration;

/// Which commit protocol runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitVariant {
    /// Two-phase commit (Gray 1978): prepare/vote, then the decision. A
    /// participant that voted yes and lost the coordinator is stuck
    /// uncertain until the coordinator recovers.
    TwoPhase,
    /// Three-phase commit (Skeen 1981): a pre-commit round between the
    /// votes and the decision, so that participants can finish a
    /// transaction without the coordinator (the termination protocol).
    /// Safe under crashes on a network with bounded delays; a partition
    /// can make the two sides decide differently.
    ThreePhase,
}

/// Known broken variants, for showing that the checks catch them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitBugs {
    /// A participant that stays uncertain past `decision_timeout` commits
    /// on its own instead of asking (2PC) or terminating (3PC).
    pub commit_on_timeout: bool,
    /// The coordinator sends its decision before the decision record is
    /// synced; a power loss forgets it, and recovery presumes abort.
    pub decide_before_sync: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CommitParams {
    pub variant: CommitVariant,
    /// Accounts "k0".."k{accounts-1}"; account i lives on shard i mod shards.
    pub accounts: u32,
    /// Every account's balance at the start.
    pub initial_balance: i64,
    /// The coordinator aborts a transaction whose votes are not all in
    /// after this long.
    pub vote_timeout: SimDuration,
    /// A participant uncertain for this long asks about the outcome (2PC)
    /// or starts the termination protocol (3PC).
    pub decision_timeout: SimDuration,
    /// How often a decision is resent to participants that have not
    /// acknowledged it, and how often a recovering 3PC coordinator polls.
    pub resend_interval: SimDuration,
    /// 3PC: how long one round of the termination protocol waits for
    /// answers; 3PC coordinator: how long it waits for pre-commit acks.
    pub round_timeout: SimDuration,
    /// 2PC: an uncertain participant asks the other participants too, not
    /// only the coordinator (the cooperative termination protocol).
    pub cooperative_termination: bool,
    pub bugs: CommitBugs,
}

/// Servers at most: one coordinator plus the shards.
pub const COMMIT_SERVERS_MAX: usize = 1_000;
/// Accounts at most (each shard keeps its balances in memory).
pub const ACCOUNTS_MAX: u32 = 1_000_000;

impl CommitParams {
    /// Checks the params for `servers` servers; errors name the field.
    pub fn validate(&self, servers: usize) -> Result<(), String> {
        if !(2..=COMMIT_SERVERS_MAX).contains(&servers) {
            return Err(format!(
                "nodes: atomic commit needs a coordinator and at least one shard, at most {COMMIT_SERVERS_MAX} servers; got {servers}"
            ));
        }
        if !(0..=1_000_000_000_000).contains(&self.initial_balance) {
            return Err(format!(
                "initial_balance: must be between 0 and 1000000000000, got {}",
                self.initial_balance
            ));
        }
        for (field, value) in [
            ("vote_timeout", self.vote_timeout),
            ("decision_timeout", self.decision_timeout),
            ("resend_interval", self.resend_interval),
            ("round_timeout", self.round_timeout),
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
