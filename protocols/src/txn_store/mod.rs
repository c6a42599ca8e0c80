//! A sharded transactional store (`TxnStore`): every server holds one
//! shard of the keys, alone or as one replica of the shard's Raft group
//! (`replicas`), and coordinates the transactions its clients send it; a
//! transaction over several shards commits by two-phase commit (presumed
//! abort), under the isolation level the params choose.
//!
//! The pure parts, each a data structure with its handler-level tests:
//! - `locks.rs`: two-phase locking's lock table, with wound-wait or
//!   wait-die against deadlock, waiters served oldest first.
//! - `mvcc.rs`: multi-version storage for snapshot isolation (reads at a
//!   start timestamp, first committer wins) and read committed (the newest
//!   committed version).
//! - `occ.rs`: optimistic concurrency control's backward validation.
//! - `shard.rs`: one shard's part of a transaction under each isolation
//!   level: execute, vote, install or drop; the bug switches.
//! - `plan.rs`: a coordinator's view of a transaction: its micro-ops by
//!   shard (hash or range sharding), its reads merged back, its votes.
//! - `coordinator.rs`: two-phase commit over the shards a transaction
//!   touched, sans-IO: it returns the sends, the durable decision and the
//!   client's answer.
//! - `dedup.rs`: which attempt of a client's operation a shard serves, so
//!   that no operation commits twice.
//! - `timestamps.rs`: snapshot isolation's timestamp sources (an oracle,
//!   or the coordinators' clocks with Spanner's commit-wait).
//! - `params.rs`: the params a scenario writes, validated.
//! - `replicated.rs`: a shard replicated by a Raft group (`replicas`
//!   above 1): the records its log holds and the picture of the shard
//!   they build, from which a new leader rebuilds.
//! - `group.rs`: which servers hold which shard, and the Raft library's
//!   window on a server.
//!
//! And what runs them: `messages.rs` (messages, timers, events),
//! `records.rs` (the durable records), `server.rs` (the service: messages, timers and the disk
//! around the pure parts, recovery after a crash), `oracle.rs` (the
//! timestamp oracle's batches on disk),
//! `monitor.rs` (atomic commit, and the metrics), `plugin.rs`.

pub mod coordinator;
#[cfg(test)]
mod coordinator_test;
pub mod dedup;
pub mod group;
pub mod locks;
#[cfg(test)]
mod locks_test;
pub mod messages;
pub mod monitor;
pub mod mvcc;
#[cfg(test)]
mod mvcc_test;
pub mod occ;
#[cfg(test)]
mod occ_test;
pub mod oracle;
pub mod params;
pub mod plan;
#[cfg(test)]
mod plan_test;
pub mod plugin;
pub mod records;
pub mod replicated;
pub mod server;
#[cfg(test)]
mod server_group_test;
pub mod shard;
#[cfg(test)]
mod shard_test;
pub mod timestamps;
