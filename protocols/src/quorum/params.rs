//! The leaderless store's parameters: N, R and W, placement, how versions
//! are ordered, how replicas repair one another, the failure detector, and
//! the bug switches.

use serde::{Deserialize, Serialize};
use sim_core::{Dur, SimDuration};

/// How replicas order the versions of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Versioning {
    /// Each write is stamped with its coordinator's local clock (in units
    /// of `lww_resolution`, ties broken by server and write number) and
    /// the highest stamp wins (Cassandra). Concurrent writes silently
    /// drop all but one, and a clock that runs behind makes its server's
    /// later writes lose to earlier ones.
    LastWriterWins,
    /// Dotted version vectors (Riak): each write is named by its
    /// coordinator and that server's write counter, and carries the
    /// versions its client had seen. A version replaces only those it
    /// has seen; concurrent writes are kept side by side (siblings), a
    /// read returns them all, and the client's next write of the key,
    /// which carries what the read returned, replaces them.
    VersionVectors,
}

/// What a read coordinator does with replicas that answered stale data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ReadRepair {
    Off,
    /// Answer the client at once, then send the stale replicas (including
    /// late ones, until `request_timeout`) the newest versions.
    Async,
    /// Before answering, write the newest versions to the stale replicas
    /// among the R that answered, and wait for their acks (Cassandra's
    /// blocking repair): a later quorum read cannot see less.
    Blocking,
}

/// Background replica synchronisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub enum AntiEntropy {
    Off,
    /// Every `interval`, each server compares a digest of the keys it
    /// shares with the next other server in turn (a hash per bucket of
    /// keys: a Merkle tree of one level) and the two exchange the keys of
    /// the buckets that differ.
    Periodic {
        interval: Dur,
    },
}

/// Which server coordinates a client's operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Coordinator {
    /// The server the client reached (clients pick one at random, as
    /// through a load balancer).
    AnyServer,
    /// The key's first live home replica: a server that is not forwards
    /// the request to it (Dynamo).
    FirstReplica,
    /// A server drawn at random for each operation, so a client's reads
    /// and writes are coordinated from independently chosen servers (the
    /// PBS paper's WAN model, where each operation is coordinated from a
    /// datacentre chosen at random).
    RandomEachOperation,
}

/// How many replicas a read asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ReadFanout {
    /// All N, answering after the first R replies.
    All,
    /// Only R of them, drawn at random among those believed alive.
    Quorum,
}

/// How many replicas a write goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum WriteFanout {
    /// All N, answering after W acks; the others get it too (expanding
    /// quorums: Dynamo and its descendants).
    All,
    /// Only W of them, drawn at random among those believed alive, so a
    /// write reaches exactly W replicas (non-expanding quorums, whose
    /// k-staleness PBS gives in closed form). Without repair, the others
    /// never learn it.
    Quorum,
}

/// The params, as a scenario writes them:
/// `protocol: Quorum(replicas: 3, read_quorum: 2, write_quorum: 2)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct QuorumParams {
    /// N: the replicas of each key, its home servers on the ring.
    pub replicas: u32,
    /// R: replies a read waits for.
    pub read_quorum: u32,
    /// W: durable acks a write waits for.
    pub write_quorum: u32,
    /// Virtual nodes per server on the consistent-hashing ring.
    pub vnodes: u32,
    /// AnyServer or FirstReplica.
    pub coordinator: Coordinator,
    /// All (ask N, answer after R) or Quorum (ask R at random).
    pub read_fanout: ReadFanout,
    /// All (send to N, answer after W) or Quorum (send to W at random).
    pub write_fanout: WriteFanout,
    /// LastWriterWins or VersionVectors.
    pub versioning: Versioning,
    /// The unit of last-writer-wins stamps: writes within one unit on
    /// different servers tie, and ties go to the larger server id.
    pub lww_resolution: Dur,
    /// Off, Async or Blocking.
    pub read_repair: ReadRepair,
    /// A write or read whose home replicas are down goes to the next live
    /// servers on the ring instead; a stand-in keeps the write as a hint
    /// and hands it to its home replica once that is back (Dynamo).
    pub sloppy_quorum: bool,
    /// How often a server holding hints tries to hand them back.
    pub handoff_interval: Dur,
    /// Off or Periodic(interval).
    pub anti_entropy: AntiEntropy,
    /// How often each server tells the others it is alive.
    pub heartbeat_interval: Dur,
    /// Silence after which a server counts another as down.
    pub down_after: Dur,
    /// How long a coordinator waits for R replies or W acks. A read that
    /// gets too few is refused (it changed nothing); a write that gets too
    /// few is left unanswered, since some replicas may have taken it.
    pub request_timeout: Dur,
    /// BUG SWITCH: the coordinator counts every ack toward W, so a
    /// duplicated ack from one replica counts twice.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub count_duplicate_acks: bool,
    /// BUG SWITCH: last-writer-wins compares stamps alone; on a tie a
    /// replica keeps whichever write reached it last, so replicas diverge.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lww_ignore_ties: bool,
    /// BUG SWITCH: a stand-in drops its hints once their home replica is
    /// back, without handing them over.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hint_never_delivered: bool,
}

/// Upper bounds on the params, so a typo cannot make a run endless.
pub const TIMEOUT_MAX: SimDuration = SimDuration::from_secs(60);
/// Servers at most: version vectors hold a counter per server.
pub const SERVERS_MAX: usize = 16;
pub const VNODES_MAX: u32 = 1_024;

impl Default for QuorumParams {
    fn default() -> Self {
        QuorumParams {
            replicas: 3,
            read_quorum: 2,
            write_quorum: 2,
            vnodes: 64,
            coordinator: Coordinator::AnyServer,
            read_fanout: ReadFanout::All,
            write_fanout: WriteFanout::All,
            versioning: Versioning::LastWriterWins,
            lww_resolution: Dur::ms(1),
            read_repair: ReadRepair::Off,
            sloppy_quorum: false,
            handoff_interval: Dur::ms(100),
            anti_entropy: AntiEntropy::Off,
            heartbeat_interval: Dur::ms(50),
            down_after: Dur::ms(200),
            request_timeout: Dur::ms(500),
            count_duplicate_acks: false,
            lww_ignore_ties: false,
            hint_never_delivered: false,
        }
    }
}

impl QuorumParams {
    /// Whether every read quorum meets every write quorum on the home
    /// replicas: R + W > N, without stand-ins.
    pub fn strict_overlap(&self) -> bool {
        self.read_quorum + self.write_quorum > self.replicas && !self.sloppy_quorum
    }

    /// "field: what is wrong, and how to fix it".
    pub fn validate(&self, servers: usize) -> Result<(), String> {
        if !(1..=SERVERS_MAX).contains(&servers) {
            return Err(format!(
                "nodes: the quorum store needs 1 to {SERVERS_MAX} servers, got {servers}"
            ));
        }
        if self.replicas == 0 || self.replicas as usize > servers {
            return Err(format!(
                "replicas: N must be 1 to the servers ({servers}), got {}",
                self.replicas
            ));
        }
        for (name, value) in [
            ("read_quorum", self.read_quorum),
            ("write_quorum", self.write_quorum),
        ] {
            if value == 0 || value > self.replicas {
                return Err(format!(
                    "{name}: must be 1 to replicas ({}), got {value}",
                    self.replicas
                ));
            }
        }
        if !(1..=VNODES_MAX).contains(&self.vnodes) {
            return Err(format!("vnodes: 1 to {VNODES_MAX}, got {}", self.vnodes));
        }
        let mut durations = vec![
            ("lww_resolution", self.lww_resolution),
            ("handoff_interval", self.handoff_interval),
            ("heartbeat_interval", self.heartbeat_interval),
            ("down_after", self.down_after),
            ("request_timeout", self.request_timeout),
        ];
        if let AntiEntropy::Periodic { interval } = self.anti_entropy {
            durations.push(("anti_entropy", interval));
        }
        for (name, value) in durations {
            if value.0 == SimDuration::ZERO || value.0 > TIMEOUT_MAX {
                return Err(format!(
                    "{name}: must be above zero and at most {TIMEOUT_MAX}, got {value}"
                ));
            }
        }
        if self.down_after.0 <= self.heartbeat_interval.0 {
            return Err(format!(
                "down_after: must be above heartbeat_interval ({}), or live servers count as down between heartbeats; got {}",
                self.heartbeat_interval, self.down_after
            ));
        }
        if self.lww_ignore_ties && self.versioning != Versioning::LastWriterWins {
            return Err(
                "lww_ignore_ties: a bug of last-writer-wins; set versioning: LastWriterWins"
                    .to_string(),
            );
        }
        if self.hint_never_delivered && !self.sloppy_quorum {
            return Err(
                "hint_never_delivered: a bug of hinted handoff; set sloppy_quorum: true"
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
    fn the_defaults_are_valid_and_impossible_quorums_are_refused() {
        let params = QuorumParams::default();
        assert_eq!(params.validate(3), Ok(()));
        assert!(params.strict_overlap());
        assert!(params.validate(2).unwrap_err().starts_with("replicas:"));
        let too_many = QuorumParams {
            write_quorum: 4,
            ..params.clone()
        };
        assert!(too_many
            .validate(5)
            .unwrap_err()
            .starts_with("write_quorum:"));
        let blind = QuorumParams {
            hint_never_delivered: true,
            ..params
        };
        assert!(blind
            .validate(3)
            .unwrap_err()
            .starts_with("hint_never_delivered:"));
    }
}
