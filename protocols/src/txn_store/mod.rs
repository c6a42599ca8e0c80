//! A sharded transactional store (`TxnStore`), built piece by piece: the
//! concurrency controls' own machinery first, each a pure data structure
//! with its handler-level tests.
//!
//! - `locks.rs`: two-phase locking's lock table, with wound-wait or
//!   wait-die against deadlock.
//! - `mvcc.rs`: multi-version storage for snapshot isolation (reads at a
//!   start timestamp, first committer wins) and read committed (the newest
//!   committed version).
//! - `occ.rs`: optimistic concurrency control's backward validation.
//! - `params.rs`: the params a scenario will write, validated, and what
//!   they mean for the shards and the coordinator.
//! - `plan.rs`: a coordinator's view of a transaction: its micro-ops by
//!   shard (hash or range sharding), its reads merged back, its votes.
//! - `timestamps.rs`: snapshot isolation's timestamp sources (an oracle,
//!   or the coordinators' clocks with Spanner's commit-wait).
//! - `coordinator.rs`: a transaction's coordinator over two-phase commit
//!   (presumed abort), sans-IO: it returns the sends, the durable
//!   decision and the client's answer.
//! - `shard.rs`: one shard's part of a transaction under each isolation
//!   level: execute, vote, install or drop.

pub mod coordinator;
#[cfg(test)]
mod coordinator_test;
pub mod dedup;
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
pub mod params;
pub mod plan;
#[cfg(test)]
mod plan_test;
pub mod plugin;
pub mod server;
pub mod shard;
#[cfg(test)]
mod shard_test;
pub mod timestamps;
