//! The lock's parameters and bug switches.

use crate::raft::params::RaftParams;
use serde::{Deserialize, Serialize};
use sim_core::{Dur, SimDuration};

/// Which lock service the clients use.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum Design {
    /// One lock server (`SET key value NX PX ttl`, released by a
    /// compare-and-delete), with an optional standby it replicates to
    /// asynchronously (`standby`): the Redis Sentinel set-up.
    #[default]
    SingleNode,
    /// `instances` independent lock servers; a client holds the lock when a
    /// majority granted it within the validity time (the Redlock algorithm
    /// as its authors publish it).
    Redlock,
    /// The lock held in a Raft-replicated state machine on `instances`
    /// servers, with leases in the style of etcd and Chubby: a grant
    /// commits through the log, its token is the log index of the acquire
    /// (so tokens increase strictly), and the lease expires by the
    /// leader's timer, `ttl` plus the drift allowance after the grant (a
    /// new leader restarts the full TTL, since it cannot know how much of
    /// it passed).
    Consensus,
}

/// The lock's params, as a scenario writes them:
/// `protocol: Lock(design: Redlock, instances: 5, ttl: "500ms", fencing: true)`.
///
/// Nodes, in order: the lock servers (one for `SingleNode`, two with a
/// standby, `instances` for `Redlock`), then the protected resource, then
/// the clients (every node after the resource).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LockParams {
    /// SingleNode (one server, optional standby) or Redlock.
    pub design: Design,
    /// Redlock: how many independent lock servers; Consensus: how many
    /// servers the Raft group has (odd, 3 to 9).
    pub instances: u32,
    /// SingleNode: a standby that the primary replicates to every
    /// `replication_interval` (asynchronously: a grant is answered before
    /// it is replicated), and that takes over when it has not heard from
    /// the primary for `failover_after` on its own clock.
    pub standby: bool,
    /// SingleNode with a standby: how often the primary sends its state
    /// (also its heartbeat).
    pub replication_interval: Dur,
    /// SingleNode with a standby: the primary's silence after which the
    /// standby promotes itself (a Sentinel's down-after).
    pub failover_after: Dur,
    /// How long a grant lasts on the server's clock unless released.
    pub ttl: Dur,
    /// The clock drift a client allows for, as a fraction of the TTL; the
    /// client also allows 2 ms (Redlock's `CLOCK_DRIFT_FACTOR`).
    pub clock_drift_factor: f64,
    /// The protected resource refuses a read or write whose token is lower
    /// than the highest it has seen (a fencing token).
    pub fencing: bool,
    /// A client's work inside the critical section, between its read of
    /// the resource and its write, drawn uniformly from [work_min, work_max].
    pub work_min: Dur,
    /// The longest work inside the critical section (see `work_min`).
    pub work_max: Dur,
    /// A client's pause between one critical section and its next
    /// acquisition, drawn uniformly from [think_min, think_max].
    pub think_min: Dur,
    /// The longest pause between critical sections (see `think_min`).
    pub think_max: Dur,
    /// How long a client waits for one server's or the resource's answer.
    pub request_timeout: Dur,
    /// How long a client keeps trying to acquire before it gives up.
    pub acquire_timeout: Dur,
    /// A client refused the lock tries again after a delay drawn
    /// uniformly from [retry_min, retry_max].
    pub retry_min: Dur,
    /// The longest delay before a refused client tries again (see
    /// `retry_min`).
    pub retry_max: Dur,
    /// A holder renews its grant every `renew_interval` while it works
    /// (a keepalive: it asks again as the same owner, which moves the
    /// grant's expiry to a full TTL from then), so a section may outlast
    /// the TTL; it enters when its validity covers one interval and two
    /// requests rather than all its work. A pause longer than what is left
    /// of the TTL still stops the renewals, and makes the zombie. None:
    /// no renewal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renew_interval: Option<Dur>,
    /// Consensus: the Raft group's params (its election timeouts,
    /// heartbeat, PreVote and CheckQuorum; PreVote and CheckQuorum are on
    /// by default, as etcd runs them).
    pub raft: RaftParams,
    /// BUG SWITCH: a release deletes the lock whoever holds it (a plain
    /// `DEL` instead of compare-and-delete), so a late release frees
    /// another client's lock.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub release_without_owner_check: bool,
    /// BUG SWITCH: Redlock's validity time is the TTL less the drift
    /// allowance only, not less the time the acquisition took.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub redlock_ignore_elapsed: bool,
    /// BUG SWITCH: the fencing counter lives in the lock's key, which a
    /// release deletes, so the next grant's token starts again from 1.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub token_not_monotonic: bool,
    /// BUG SWITCH (Consensus): a new leader honours the lease's expiry
    /// as the old leader wrote it, an instant on the old leader's clock,
    /// read on its own (a follower's) clock, instead of restarting the
    /// full TTL on its own timer. A follower whose clock runs ahead
    /// expires the lease early when it takes over.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lease_expiry_on_follower_clock: bool,
}

impl Default for LockParams {
    fn default() -> Self {
        LockParams {
            design: Design::SingleNode,
            instances: 5,
            standby: false,
            replication_interval: Dur::ms(100),
            failover_after: Dur::ms(300),
            ttl: Dur::ms(500),
            clock_drift_factor: 0.01,
            fencing: false,
            work_min: Dur::ms(20),
            work_max: Dur::ms(80),
            think_min: Dur::ms(5),
            think_max: Dur::ms(50),
            request_timeout: Dur::ms(50),
            acquire_timeout: Dur::secs(2),
            retry_min: Dur::ms(10),
            retry_max: Dur::ms(50),
            renew_interval: None,
            raft: RaftParams {
                pre_vote: true,
                check_quorum: true,
                ..RaftParams::default()
            },
            release_without_owner_check: false,
            redlock_ignore_elapsed: false,
            token_not_monotonic: false,
            lease_expiry_on_follower_clock: false,
        }
    }
}

/// Redlock instances at most: a client asks each in turn, so an
/// acquisition costs up to this many request timeouts.
pub const INSTANCES_MAX: u32 = 9;
/// Clients at most: each is a node with its own timers.
pub const CLIENTS_MAX: usize = 1_000;
/// A TTL of more than an hour would outlive any run.
pub const TTL_MAX: SimDuration = SimDuration::from_secs(3_600);

impl LockParams {
    /// How many lock servers the design runs: ids `0..lock_servers`.
    pub fn lock_servers(&self) -> u32 {
        match self.design {
            Design::SingleNode => 1 + u32::from(self.standby),
            Design::Redlock | Design::Consensus => self.instances,
        }
    }

    /// The protected resource's node id (after the lock servers).
    pub fn resource(&self) -> u32 {
        self.lock_servers()
    }

    /// The drift a client allows for: `ttl × clock_drift_factor + 2 ms`.
    pub fn drift_allowance(&self) -> SimDuration {
        let ns = self.ttl.0.as_nanos() as f64 * self.clock_drift_factor;
        SimDuration::from_nanos(ns as u64).saturating_add(SimDuration::from_millis(2))
    }

    /// How long a Consensus leader waits after a grant (or after it took
    /// over) before it expires the lease: the TTL plus the drift
    /// allowance, so that a server clock slower than the client's by up
    /// to the allowance still outlasts the client's validity.
    pub fn lease_on_leader(&self) -> SimDuration {
        self.ttl.0.saturating_add(self.drift_allowance())
    }

    /// A majority of the lock servers.
    pub fn majority(&self) -> u32 {
        self.lock_servers() / 2 + 1
    }

    /// Whether the design promises tokens that increase with every grant:
    /// one server's counter does; Redlock's independent counters do not
    /// (a client's token is the largest its majority gave, which a later
    /// majority need not exceed).
    pub fn monotonic_tokens(&self) -> bool {
        matches!(self.design, Design::SingleNode | Design::Consensus)
    }

    /// Checks the params for `nodes` nodes; errors name the field.
    pub fn validate(&self, nodes: usize) -> Result<(), String> {
        if matches!(self.design, Design::Redlock | Design::Consensus) {
            if !(3..=INSTANCES_MAX).contains(&self.instances) || self.instances.is_multiple_of(2) {
                return Err(format!(
                    "instances: {:?} needs an odd number of lock servers from 3 to {INSTANCES_MAX}, so that a majority is well defined and two clients cannot both hold one; got {}",
                    self.design, self.instances
                ));
            }
            if self.standby {
                return Err(format!("standby: only a SingleNode lock has a standby; {:?} has its own replication. Remove standby", self.design));
            }
        }
        if self.design == Design::Consensus {
            self.raft
                .validate(self.instances as usize)
                .map_err(|e| format!("raft.{e}"))?;
            if self.raft.preload_log_lengths.iter().any(|n| *n > 0) {
                return Err("raft.preload_log_lengths: the lock's log holds lock commands, not no-ops; remove it".into());
            }
        } else if self.lease_expiry_on_follower_clock {
            return Err(format!("lease_expiry_on_follower_clock: a bug switch of the Consensus design; {:?} has no leader to take over a lease. Remove it or set design: Consensus", self.design));
        }
        if self.ttl.0 == SimDuration::ZERO || self.ttl.0 > TTL_MAX {
            return Err(format!(
                "ttl: must be more than 0 and at most 1h; got {}",
                self.ttl
            ));
        }
        if !(0.0..0.5).contains(&self.clock_drift_factor) {
            return Err(format!(
                "clock_drift_factor: must be at least 0 and below 0.5 (Redlock uses 0.01); got {}",
                self.clock_drift_factor
            ));
        }
        if self.drift_allowance() >= self.ttl.0 {
            return Err(format!(
                "ttl: {} leaves no validity once the drift allowance ({}) is taken off; raise ttl",
                self.ttl,
                self.drift_allowance()
            ));
        }
        for (name, min, max) in [
            ("work", self.work_min, self.work_max),
            ("think", self.think_min, self.think_max),
            ("retry", self.retry_min, self.retry_max),
        ] {
            if min > max {
                return Err(format!(
                    "{name}_min: must not exceed {name}_max ({max}); got {min}"
                ));
            }
        }
        for (name, d) in [
            ("request_timeout", self.request_timeout),
            ("acquire_timeout", self.acquire_timeout),
            ("replication_interval", self.replication_interval),
            ("failover_after", self.failover_after),
        ] {
            if d.0 == SimDuration::ZERO {
                return Err(format!("{name}: must be more than 0"));
            }
        }
        if let Some(every) = self.renew_interval {
            let validity = self.ttl.0.saturating_sub(self.drift_allowance());
            if every.0 == SimDuration::ZERO || every.0 >= validity {
                return Err(format!(
                    "renew_interval: must be more than 0 and less than the TTL less the drift allowance ({validity}), or the grant lapses between renewals; got {every}"
                ));
            }
        }
        if self.standby && self.failover_after <= self.replication_interval {
            return Err(format!(
                "failover_after: must exceed replication_interval ({}), the primary's heartbeat, or the standby takes over from a live primary; got {}",
                self.replication_interval, self.failover_after
            ));
        }
        let servers = self.lock_servers() as usize;
        if nodes < servers + 2 {
            return Err(format!(
                "nodes: the lock needs its {servers} lock server(s), the protected resource and at least one client: at least {} nodes; got {nodes}",
                servers + 2
            ));
        }
        if nodes - servers - 1 > CLIENTS_MAX {
            return Err(format!(
                "nodes: at most {CLIENTS_MAX} clients; got {}",
                nodes - servers - 1
            ));
        }
        Ok(())
    }
}
