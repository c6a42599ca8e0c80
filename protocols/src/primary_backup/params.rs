//! Primary-backup's parameters: the replication mode, where clients read,
//! the failure detector's and the lease's timing, and the bug switches.

use serde::{Deserialize, Serialize};
use sim_core::{Dur, SimDuration};

/// When the primary answers a write, and so which writes a failover can lose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub enum Mode {
    /// Answer once every backup has the write on its disk: a failover loses
    /// nothing, and one slow or unreachable backup stalls every write.
    Sync,
    /// Answer once `acks` backups have it on disk (MySQL's semi-synchronous
    /// replication). When they do not answer within `fallback_timeout`, the
    /// primary falls back to answering after its own disk alone, until
    /// `acks` backups have caught up again: a quiet degradation.
    SemiSync { acks: u32, fallback_timeout: Dur },
    /// Answer once the primary's own disk has the write; ship the log to the
    /// backups every `ship_interval`. A failover loses what was not shipped.
    Async { ship_interval: Dur },
}

/// Where clients send their reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ReadFrom {
    /// The primary answers from its committed state while its lease holds:
    /// linearizable with fencing (the lease needs bounded clock drift).
    Primary,
    /// A backup drawn at random answers from what it has applied: stale by
    /// design, and a client may not see its own write.
    Backup,
    /// A random backup answers once it has applied the client's session
    /// position (its last write's or read's): read-your-writes and
    /// monotonic reads, at the cost of waiting for replication.
    BackupWithSession,
}

/// Primary-backup's params, as a scenario writes them:
/// `protocol: PrimaryBackup(mode: SemiSync(acks: 1, fallback_timeout: "500ms"))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PrimaryBackupParams {
    /// Sync, SemiSync(acks, fallback_timeout) or Async(ship_interval).
    pub mode: Mode,
    /// Primary, Backup (stale by design) or BackupWithSession.
    pub read_from: ReadFrom,
    /// How often the primary sends each backup its log (a heartbeat when
    /// there is nothing new).
    pub heartbeat_interval: Dur,
    /// Silence from the primary after which a backup stands for election;
    /// a backup that heard the primary more recently refuses to vote.
    pub failover_timeout: Dur,
    /// Up to this much more, drawn at random each time, before a backup
    /// stands, so that backups rarely stand at once.
    pub failover_jitter: Dur,
    /// The primary serves (commits writes, answers reads) only until
    /// `lease` after the latest heartbeat a majority answered. Must be
    /// below `failover_timeout`: the fence that keeps a cut-off primary
    /// from serving beside a new one.
    pub lease: Dur,
    /// The clock drift, in ppm per clock, the lease assumes at most.
    pub lease_drift_bound_ppm: u32,
    /// How long a session read waits at a backup for the client's position
    /// before the backup refuses it (the client then tries another).
    pub session_wait: Dur,
    /// Entries per append message at most.
    pub batch_entries_max: u32,
    /// BUG SWITCH: no fencing: the primary ignores its lease and keeps
    /// committing and answering while cut off from the backups.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_fencing: bool,
    /// BUG SWITCH: a backup votes for any candidate, however far behind.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub promote_any: bool,
    /// BUG SWITCH: the primary counts a write as on its disk when it
    /// appends it, before the sync completes.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ack_before_local_sync: bool,
    /// BUG SWITCH: with BackupWithSession, clients forget their session
    /// position, so backups serve them whatever they have.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub session_without_position: bool,
}

/// Upper bounds on the params, so a typo cannot make a run endless.
pub const TIMEOUT_MAX: SimDuration = SimDuration::from_secs(60);
pub const BATCH_ENTRIES_MAX: u32 = 10_000;
pub const DRIFT_BOUND_PPM_MAX: u32 = 500_000;
/// Servers at most: a primary and eight backups.
pub const SERVERS_MAX: usize = 9;

impl Default for PrimaryBackupParams {
    fn default() -> Self {
        PrimaryBackupParams {
            mode: Mode::Sync,
            read_from: ReadFrom::Primary,
            heartbeat_interval: Dur::ms(20),
            failover_timeout: Dur::ms(300),
            failover_jitter: Dur::ms(150),
            lease: Dur::ms(200),
            lease_drift_bound_ppm: 1_000,
            session_wait: Dur::ms(200),
            batch_entries_max: 256,
            no_fencing: false,
            promote_any: false,
            ack_before_local_sync: false,
            session_without_position: false,
        }
    }
}

impl PrimaryBackupParams {
    /// The lease as the primary's own clock must count it: shortened by
    /// the drift bound, so that it ends on every clock before a backup's
    /// failover timeout does.
    pub fn lease_on_own_clock(&self) -> SimDuration {
        let ns = self.lease.0.as_nanos() as u128;
        let kept = ns * u128::from(1_000_000 - self.lease_drift_bound_ppm) / 1_000_000;
        SimDuration::from_nanos(kept as u64)
    }

    /// "field: what is wrong, and how to fix it".
    pub fn validate(&self, servers: usize) -> Result<(), String> {
        if !(2..=SERVERS_MAX).contains(&servers) {
            return Err(format!(
                "nodes: primary-backup needs a primary and 1 to {} backups (2 to {SERVERS_MAX} servers), got {servers}",
                SERVERS_MAX - 1
            ));
        }
        let durations = [
            ("heartbeat_interval", self.heartbeat_interval),
            ("failover_timeout", self.failover_timeout),
            ("failover_jitter", self.failover_jitter),
            ("lease", self.lease),
            ("session_wait", self.session_wait),
        ];
        for (name, value) in durations {
            if value.0 > TIMEOUT_MAX {
                return Err(format!("{name}: at most {TIMEOUT_MAX}, got {value}"));
            }
        }
        for (name, value) in [
            ("heartbeat_interval", self.heartbeat_interval),
            ("failover_timeout", self.failover_timeout),
        ] {
            if value.0 == SimDuration::ZERO {
                return Err(format!("{name}: must be above zero"));
            }
        }
        if self.lease.0 >= self.failover_timeout.0 {
            return Err(format!(
                "lease: must be below failover_timeout ({}), or a cut-off primary may still serve when a backup takes over; got {}",
                self.failover_timeout, self.lease
            ));
        }
        if self.heartbeat_interval.0 >= self.lease.0 {
            return Err(format!(
                "heartbeat_interval: must be below lease ({}), or the lease lapses between heartbeats; got {}",
                self.lease, self.heartbeat_interval
            ));
        }
        if self.lease_drift_bound_ppm > DRIFT_BOUND_PPM_MAX {
            return Err(format!(
                "lease_drift_bound_ppm: at most {DRIFT_BOUND_PPM_MAX}, got {}",
                self.lease_drift_bound_ppm
            ));
        }
        if !(1..=BATCH_ENTRIES_MAX).contains(&self.batch_entries_max) {
            return Err(format!(
                "batch_entries_max: 1 to {BATCH_ENTRIES_MAX}, got {}",
                self.batch_entries_max
            ));
        }
        match self.mode {
            Mode::Sync => {}
            Mode::SemiSync {
                acks,
                fallback_timeout,
            } => {
                if acks == 0 || acks as usize >= servers {
                    return Err(format!(
                        "mode: SemiSync's acks must be 1 to the backups ({}), got {acks}",
                        servers - 1
                    ));
                }
                if fallback_timeout.0 == SimDuration::ZERO || fallback_timeout.0 > TIMEOUT_MAX {
                    return Err(format!(
                        "mode: SemiSync's fallback_timeout must be above zero and at most {TIMEOUT_MAX}, got {fallback_timeout}"
                    ));
                }
            }
            Mode::Async { ship_interval } => {
                if ship_interval.0 == SimDuration::ZERO || ship_interval.0 > TIMEOUT_MAX {
                    return Err(format!(
                        "mode: Async's ship_interval must be above zero and at most {TIMEOUT_MAX}, got {ship_interval}"
                    ));
                }
            }
        }
        if self.session_without_position && self.read_from != ReadFrom::BackupWithSession {
            return Err(
                "session_without_position: a bug of session reads; set read_from: BackupWithSession"
                    .to_string(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_bad_timing_is_refused() {
        let params = PrimaryBackupParams::default();
        assert_eq!(params.validate(3), Ok(()));
        assert!(params.validate(1).unwrap_err().starts_with("nodes:"));
        let lease_too_long = PrimaryBackupParams {
            lease: Dur::ms(300),
            ..params.clone()
        };
        assert!(lease_too_long
            .validate(3)
            .unwrap_err()
            .starts_with("lease:"));
        let too_many_acks = PrimaryBackupParams {
            mode: Mode::SemiSync {
                acks: 3,
                fallback_timeout: Dur::ms(100),
            },
            ..params
        };
        assert!(too_many_acks.validate(3).unwrap_err().starts_with("mode:"));
    }

    #[test]
    fn the_lease_on_the_primary_clock_allows_for_drift() {
        let params = PrimaryBackupParams::default();
        assert_eq!(
            params.lease_on_own_clock(),
            SimDuration::from_micros(199_800)
        );
    }
}
