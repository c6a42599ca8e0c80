//! TxnStore's durable records: what a one-server shard and a coordinator
//! write to their disks, and what a shard's Raft group logs in their
//! stead (`replicated.rs`).

use super::locks::TxnId;
use super::shard::PreparedRecord;
use serde::{Deserialize, Serialize};
use sim_core::NodeId;

/// A shard's durable record of a transaction it voted yes to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PreparedOnDisk {
    pub record: PreparedRecord,
    pub coordinator: NodeId,
}

/// A coordinator's durable commit decision, kept until every shard has
/// the commit on disk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionOnDisk {
    pub txn: TxnId,
    pub commit_ts: u64,
    pub shards: Vec<u32>,
}

/// A key's latest committed version, on its shard's disk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionOnDisk {
    pub commit_ts: u64,
    pub value: String,
}
