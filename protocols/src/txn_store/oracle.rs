//! The timestamp oracle (Percolator's): server n1, under snapshot
//! isolation with `timestamps: Oracle`, hands out strictly increasing
//! timestamps, never one again after a restart.
//!
//! Why batches: a timestamp must never be given twice, so the oracle
//! must know after a crash how far it went. It reserves `ORACLE_BATCH`
//! timestamps on disk at a time, gives out only reserved ones, and asks
//! for the next batch when half of the current one is left; a restart
//! starts above the last reservation. One sync per batch, not one per
//! timestamp. A request that finds the reservation exhausted waits for
//! the next one to be on disk.
//!
//! Sans-IO: it reads and writes the node's storage it is handed, and
//! returns the answers for the server to send.

use super::locks::TxnId;
use super::messages::{TsPurpose, TxnMessage};
use super::timestamps::Oracle;
use sim_core::storage::DurableStorage;
use sim_core::{NodeId, SyncId};

/// Timestamps reserved on disk at a time.
pub const ORACLE_BATCH: u64 = 1 << 20;
/// Requests waiting for the next batch to be on disk, at most; past it a
/// request waits for its coordinator's timeout.
pub const ORACLE_WAITING_MAX: usize = 10_000;
/// The oracle's node: server n1.
pub const ORACLE: NodeId = NodeId(0);

const ORACLE_KEY: &str = "oracle/limit";

/// An answer to send: to whom, and the timestamp message.
pub type Answer = (NodeId, TxnMessage);

#[derive(Debug)]
pub struct OracleServer {
    oracle: Oracle,
    /// Timestamps up to this are reserved on disk.
    durable_limit: u64,
    /// A reservation on its way to disk: (its sync, the new limit).
    reserving: Option<(SyncId, u64)>,
    waiting: Vec<(NodeId, TxnId, TsPurpose)>,
}

impl OracleServer {
    /// The oracle at a start or restart: above every timestamp reserved
    /// before, with the next batch asked for.
    pub fn start(storage: &mut DurableStorage) -> OracleServer {
        let floor = storage.get(ORACLE_KEY).map_or(0, |bytes| {
            serde_json::from_slice::<u64>(bytes).expect("the oracle's limit is well-formed")
        });
        let mut server = OracleServer {
            oracle: Oracle::recover(floor),
            durable_limit: floor,
            reserving: None,
            waiting: Vec::new(),
        };
        server.reserve(storage);
        debug_assert!(server.reserving.is_some());
        server
    }

    /// Reserves the next batch when the current one runs low. The server
    /// calls it after it has sent each answer, so that the answer goes
    /// before the reservation's sync is asked for.
    pub fn reserve(&mut self, storage: &mut DurableStorage) {
        let last = self.oracle.peek();
        if self.reserving.is_some() || self.durable_limit - last > ORACLE_BATCH / 2 {
            return;
        }
        let limit = self.durable_limit.max(last) + ORACLE_BATCH;
        let bytes = serde_json::to_vec(&limit).expect("a number serialises");
        storage.put(ORACLE_KEY, bytes);
        let sync = storage.sync_grouped();
        self.reserving = Some((sync, limit));
    }

    /// A timestamp for `from`, or none yet (it waits for the next batch);
    /// then `reserve`.
    pub fn request(
        &mut self,
        storage: &mut DurableStorage,
        from: NodeId,
        txn: TxnId,
        purpose: TsPurpose,
    ) -> Option<Answer> {
        if self.oracle.peek() >= self.durable_limit {
            if self.waiting.len() < ORACLE_WAITING_MAX {
                self.waiting.push((from, txn, purpose));
            }
            self.reserve(storage);
            return None;
        }
        let ts = self.oracle.issue();
        debug_assert!(ts <= self.durable_limit);
        Some((from, TxnMessage::Ts { txn, purpose, ts }))
    }

    /// Sync `id` completed: a reservation it covers is on disk. Returns
    /// the requests that waited for it, to be asked again in order.
    pub fn synced(&mut self, id: SyncId) -> Vec<(NodeId, TxnId, TsPurpose)> {
        let Some((sync, limit)) = self.reserving else {
            return Vec::new();
        };
        if sync > id {
            return Vec::new();
        }
        self.durable_limit = limit;
        self.reserving = None;
        std::mem::take(&mut self.waiting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txn(seq: u64) -> TxnId {
        TxnId {
            stamp: seq,
            client: 0,
            seq,
        }
    }

    fn ts(answer: Option<Answer>) -> u64 {
        match answer {
            Some((_, TxnMessage::Ts { ts, .. })) => ts,
            other => panic!("no timestamp: {other:?}"),
        }
    }

    #[test]
    fn requests_wait_for_the_first_batch_then_get_increasing_timestamps() {
        let mut storage = DurableStorage::new(1 << 20);
        let mut oracle = OracleServer::start(&mut storage);
        // Nothing is reserved on disk yet: the request waits.
        assert_eq!(
            oracle.request(&mut storage, NodeId(2), txn(1), TsPurpose::Start),
            None
        );
        storage.make_all_durable();
        let waited = oracle.synced(SyncId(u64::MAX));
        assert_eq!(waited, vec![(NodeId(2), txn(1), TsPurpose::Start)]);
        let first = ts(oracle.request(&mut storage, NodeId(2), txn(1), TsPurpose::Start));
        let second = ts(oracle.request(&mut storage, NodeId(1), txn(2), TsPurpose::Commit));
        assert!(second > first && first >= 1);
    }

    #[test]
    fn a_restart_starts_above_every_timestamp_reserved_before() {
        let mut storage = DurableStorage::new(1 << 20);
        let mut oracle = OracleServer::start(&mut storage);
        storage.make_all_durable();
        oracle.synced(SyncId(u64::MAX));
        let before = ts(oracle.request(&mut storage, NodeId(1), txn(1), TsPurpose::Start));
        // Restarted: the old reservation's limit is the new floor.
        let mut again = OracleServer::start(&mut storage);
        storage.make_all_durable();
        again.synced(SyncId(u64::MAX));
        let after = ts(again.request(&mut storage, NodeId(1), txn(2), TsPurpose::Start));
        assert!(after > before + ORACLE_BATCH - 1, "{after} after {before}");
    }
}
