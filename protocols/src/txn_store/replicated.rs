//! A shard replicated by a Raft group (`replicas` above 1): what the
//! group's log holds and the state machine it builds.
//!
//! The log holds exactly the records a one-server shard writes to its own
//! disk (`server.rs`): a transaction's prepared record before its yes
//! vote, a commit's installed versions with its client's owner, and the
//! drop of a prepared transaction that aborted. The state machine
//! (`ShardImage`) is that disk's picture: the latest committed version of
//! each key, the prepared transactions, and each client's owner. So a new
//! leader rebuilds its shard from the image exactly as a restarted server
//! rebuilds from its disk (`Shard::restore`), prepared transactions
//! holding their locks again.
//!
//! Locks, running transactions and validation state stay in the leader's
//! memory, as in Spanner and CockroachDB: a leader that loses office
//! loses them, and the transactions that had not prepared abort, as at a
//! crash. What a yes vote promised is in the log, so no new leader can
//! forget it.
//!
//! The log also holds the commit decisions of the transactions its
//! group's servers coordinate (`Decide`), as Spanner's coordinator logs
//! its decision through Paxos: a coordinator's crash then blocks nobody.
//! A shard in doubt asks the coordinator's group, whose leader answers
//! from the log, or, finding no decision, logs an abort first; the first
//! decision in the log stands, so a coordinator that comes late with a
//! commit hears that the transaction aborted (a transaction record that
//! another may abort, as CockroachDB's).

use super::dedup::Owner;
use super::locks::TxnId;
use super::records::{PreparedOnDisk, VersionOnDisk};
use super::shard::CommittedWrite;
use crate::raft::RaftApp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A record of the shard's log.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ShardCommand {
    /// The transaction voted yes here: its write set (and OCC's reads)
    /// and its coordinator.
    Prepare(PreparedOnDisk),
    /// The transaction committed here: its versions and its client's owner.
    Commit {
        txn: TxnId,
        writes: Vec<CommittedWrite>,
        owner: Owner,
    },
    /// A prepared transaction aborted.
    Abort { txn: TxnId },
    /// A commit decision (`commit_ts`), or an abort (`None`) logged for a
    /// shard in doubt; the first for a transaction stands.
    Decide { txn: TxnId, commit_ts: Option<u64> },
    /// Every shard has the decision: it may go.
    Forget { txn: TxnId },
}

/// What applying a record came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShardApplied {
    Prepared(TxnId),
    Committed(TxnId),
    /// `prepared`: it was prepared in the image (it voted yes).
    Aborted {
        txn: TxnId,
        prepared: bool,
    },
    /// The decision that stands for `txn` (`None`: abort).
    Decided {
        txn: TxnId,
        commit_ts: Option<u64>,
    },
    Forgotten,
}

/// Who waits, on the leader that proposed a record, for it to be applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardWaiter {
    /// The coordinator waits for the yes vote, with the least commit
    /// timestamp this shard allows.
    Vote {
        coordinator: u32,
        min_commit_ts: u64,
    },
    /// The coordinator waits for the commit's acknowledgement.
    Ack { coordinator: u32 },
    /// Nobody: the monitor hears of the drop.
    Dropped,
    /// The coordinator waits for the decision that stands.
    Decision { coordinator: u32 },
    /// A shard in doubt (its leader) waits for it.
    Answer { shard_server: u32 },
    /// Nobody.
    Nobody,
}

/// The replicated picture of one shard's disk.
#[derive(Debug, Default)]
pub struct ShardImage {
    pub versions: BTreeMap<String, VersionOnDisk>,
    pub prepared: BTreeMap<TxnId, PreparedOnDisk>,
    pub owners: BTreeMap<u32, Owner>,
    /// The decisions of transactions this group's servers coordinate,
    /// until every shard has them (`None`: aborted).
    pub decisions: BTreeMap<TxnId, Option<u64>>,
}

impl ShardImage {
    /// The committed versions, as `Shard::restore` takes them.
    pub fn committed(&self) -> Vec<CommittedWrite> {
        self.versions
            .iter()
            .map(|(key, v)| CommittedWrite {
                key: key.clone(),
                commit_ts: v.commit_ts,
                value: v.value.clone(),
            })
            .collect()
    }

    /// Keeps the later of two owners for one client (`Owners::restore`'s
    /// rule), so an old transaction decided late never steps it back.
    fn keep_owner(&mut self, owner: Owner) {
        let current = self.owners.entry(owner.txn.client).or_insert(owner);
        if (current.txn.seq, current.committed) < (owner.txn.seq, owner.committed) {
            *current = owner;
        }
    }
}

/// The shard as a Raft application.
#[derive(Debug)]
pub struct ShardApp;

impl RaftApp for ShardApp {
    type Command = ShardCommand;
    type State = ShardImage;
    type Output = ShardApplied;
    type Waiter = ShardWaiter;
    /// Reads go to the leader's shard, which holds the locks: none
    /// through the log.
    type Read = std::convert::Infallible;

    fn apply(image: &mut ShardImage, _index: u64, command: &ShardCommand) -> Option<ShardApplied> {
        let applied = match command {
            ShardCommand::Prepare(record) => {
                let txn = record.record.txn;
                image.prepared.insert(txn, record.clone());
                ShardApplied::Prepared(txn)
            }
            ShardCommand::Commit { txn, writes, owner } => {
                for write in writes {
                    let version = VersionOnDisk {
                        commit_ts: write.commit_ts,
                        value: write.value.clone(),
                    };
                    image.versions.insert(write.key.clone(), version);
                }
                image.keep_owner(*owner);
                image.prepared.remove(txn);
                ShardApplied::Committed(*txn)
            }
            ShardCommand::Abort { txn } => {
                let prepared = image.prepared.remove(txn).is_some();
                ShardApplied::Aborted {
                    txn: *txn,
                    prepared,
                }
            }
            ShardCommand::Decide { txn, commit_ts } => {
                let stands = *image.decisions.entry(*txn).or_insert(*commit_ts);
                ShardApplied::Decided {
                    txn: *txn,
                    commit_ts: stands,
                }
            }
            ShardCommand::Forget { txn } => {
                image.decisions.remove(txn);
                ShardApplied::Forgotten
            }
        };
        debug_assert!(match &applied {
            ShardApplied::Prepared(txn) => image.prepared.contains_key(txn),
            ShardApplied::Committed(txn) | ShardApplied::Aborted { txn, .. } =>
                !image.prepared.contains_key(txn),
            ShardApplied::Decided { txn, .. } => image.decisions.contains_key(txn),
            ShardApplied::Forgotten => true,
        });
        Some(applied)
    }

    fn state_heap_bytes(image: &ShardImage) -> usize {
        // An estimate, O(1) per entry, as the server's own.
        image.versions.len() * 96
            + image.prepared.len() * 256
            + image.owners.len() * 64
            + image.decisions.len() * 64
    }

    fn command_heap_bytes(command: &ShardCommand) -> usize {
        match command {
            ShardCommand::Prepare(record) => record.record.writes.len() * 64,
            ShardCommand::Commit { writes, .. } => writes
                .iter()
                .map(|w| w.key.capacity() + w.value.capacity() + 48)
                .sum(),
            ShardCommand::Abort { .. }
            | ShardCommand::Decide { .. }
            | ShardCommand::Forget { .. } => 0,
        }
    }
}

#[cfg(test)]
#[path = "replicated_test.rs"]
mod tests;
