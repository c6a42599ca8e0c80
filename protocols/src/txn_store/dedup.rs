//! Which attempt of a client's transaction a shard serves.
//!
//! A client retries a transaction that got no answer, and a retry may
//! reach another coordinator, which starts it afresh under a new id. Two
//! attempts of one operation must never both commit: a list would hold
//! its append twice. So each shard keeps, per client, the attempt it
//! serves of the client's latest operation (`Owner`): the first attempt
//! to arrive. Another attempt of that operation is refused while the
//! owner may still commit here (it is running, prepared or committed),
//! and admitted once the owner is gone without committing (aborted here,
//! so it can never commit: it would need this shard's yes). An attempt of
//! an older operation than the client's latest is refused: the client has
//! moved on.
//!
//! A transaction that committed here is never admitted again: a late
//! copy of its request to run would run it afresh, and a copy of its
//! commit would then install its writes a second time.
//!
//! A message can overtake another: an abort can reach a shard before the
//! transaction's own request to run there, which would then take locks
//! that nothing releases until the shard gives up on it. So a shard also
//! remembers the transactions it dropped or heard aborted (`dropped`,
//! bounded, oldest forgotten first) and admits none of them again.
//!
//! The owners of prepared and committed transactions are on disk with
//! them, so a restart forgets only owners that had not prepared, whose
//! attempts can no longer commit here either.

use super::locks::TxnId;
use std::collections::{BTreeMap, BTreeSet};

/// Dropped transactions remembered at most (the oldest go first).
pub const DROPPED_MAX: usize = 100_000;

/// The attempt a shard serves of a client's latest operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Owner {
    pub txn: TxnId,
    /// It committed here.
    pub committed: bool,
}

/// Per client, its owner (at most one per client: bounded by the clients).
#[derive(Debug, Default)]
pub struct Owners {
    by_client: BTreeMap<u32, Owner>,
    dropped: BTreeSet<TxnId>,
}

impl Owners {
    /// Whether `txn` may run here; `live` tells whether a transaction is
    /// still running or prepared here. An admitted attempt becomes its
    /// operation's owner.
    pub fn admit(&mut self, txn: TxnId, live: impl Fn(TxnId) -> bool) -> bool {
        if self.dropped.contains(&txn) {
            return false;
        }
        let admitted = match self.by_client.get(&txn.client) {
            None => true,
            // Running or prepared: a repeat of its request continues it.
            // Committed: a late copy (the network duplicates) may not run
            // it again, or a copy of its commit would install it twice.
            Some(owner) if owner.txn == txn => !owner.committed,
            Some(owner) if owner.txn.seq > txn.seq => false,
            Some(owner) if owner.txn.seq < txn.seq => true,
            Some(owner) => !owner.committed && !live(owner.txn),
        };
        if admitted {
            let owner = self.by_client.entry(txn.client).or_insert(Owner {
                txn,
                committed: false,
            });
            if owner.txn != txn {
                *owner = Owner {
                    txn,
                    committed: false,
                };
            }
        }
        debug_assert!(!admitted || self.by_client[&txn.client].txn == txn);
        admitted
    }

    /// `txn` was dropped here, or its abort arrived: it may not run here
    /// again, even if its request to run comes late.
    pub fn dropped(&mut self, txn: TxnId) {
        if self.dropped.len() >= DROPPED_MAX {
            self.dropped.pop_first();
        }
        self.dropped.insert(txn);
    }

    /// `txn` committed here: no other attempt of its operation may. A
    /// later operation's owner stays (an old transaction decided late).
    pub fn committed(&mut self, txn: TxnId) -> Owner {
        let owner = Owner {
            txn,
            committed: true,
        };
        let current = self.by_client.entry(txn.client).or_insert(owner);
        if current.txn.seq <= txn.seq {
            *current = owner;
        }
        owner
    }

    /// An owner read back from disk after a restart (the later of two for
    /// one client wins).
    pub fn restore(&mut self, owner: Owner) {
        let current = self.by_client.entry(owner.txn.client).or_insert(owner);
        if (current.txn.seq, current.committed) < (owner.txn.seq, owner.committed) {
            *current = owner;
        }
    }

    /// The owner for `client`, if any.
    pub fn get(&self, client: u32) -> Option<Owner> {
        self.by_client.get(&client).copied()
    }

    /// Clients with an owner, and dropped transactions remembered.
    pub fn len(&self) -> usize {
        self.by_client.len() + self.dropped.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_client.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(client: u32, seq: u64, stamp: u64) -> TxnId {
        TxnId { stamp, client, seq }
    }

    #[test]
    fn the_first_attempt_to_arrive_owns_the_operation_while_it_may_commit() {
        let mut owners = Owners::default();
        let first = attempt(1, 5, 100);
        let retry = attempt(1, 5, 200);
        assert!(owners.admit(first, |_| false));
        assert!(owners.admit(first, |_| true), "the owner itself, again");
        // The owner still runs here: the retry is refused.
        assert!(!owners.admit(retry, |t| t == first));
        // The owner was aborted here: the retry takes over, and from then
        // on the first attempt is refused.
        assert!(owners.admit(retry, |_| false));
        assert!(!owners.admit(first, |t| t == retry));
        // Once committed, no other attempt gets in, running or not.
        owners.committed(retry);
        assert!(!owners.admit(attempt(1, 5, 300), |_| false));
        // The client's next operation is admitted; its older one no more.
        assert!(owners.admit(attempt(1, 6, 400), |_| false));
        assert!(!owners.admit(attempt(1, 5, 500), |_| false));
        // An old transaction decided late leaves the latest owner.
        owners.committed(attempt(1, 5, 200));
        assert_eq!(owners.get(1).map(|o| o.txn.seq), Some(6));
        // Other clients are independent.
        assert!(owners.admit(attempt(2, 1, 50), |_| false));
        assert_eq!(owners.len(), 2);
    }

    /// Regression (swarm scenario 448, seed 1; frozen as
    /// `txnstore-late-copy-runs-a-commit-again.ron`): on a network that
    /// duplicates, a late copy of a committed transaction's request to run
    /// was admitted (it was its operation's owner), ran again, and a late
    /// copy of its commit installed its append a second time.
    #[test]
    fn regression_a_late_copy_of_a_committed_transactions_request_is_refused() {
        let mut owners = Owners::default();
        let txn = attempt(1, 3, 100);
        assert!(owners.admit(txn, |_| false));
        assert!(
            owners.admit(txn, |_| true),
            "a repeat while it runs continues it"
        );
        owners.committed(txn);
        assert!(!owners.admit(txn, |_| false), "committed here: never again");
        assert_eq!(
            owners.get(1),
            Some(Owner {
                txn,
                committed: true
            })
        );
    }

    #[test]
    fn a_transaction_whose_abort_came_first_is_not_admitted_when_its_request_comes() {
        let mut owners = Owners::default();
        let late = attempt(4, 1, 10);
        owners.dropped(late);
        assert!(!owners.admit(late, |_| false));
        // Another attempt of the same operation still may run.
        assert!(owners.admit(attempt(4, 1, 20), |_| false));
    }

    #[test]
    fn a_restart_restores_the_latest_owner_of_each_client() {
        let mut owners = Owners::default();
        let prepared = Owner {
            txn: attempt(3, 7, 10),
            committed: false,
        };
        let committed_earlier = Owner {
            txn: attempt(3, 6, 5),
            committed: true,
        };
        owners.restore(prepared);
        owners.restore(committed_earlier);
        assert_eq!(owners.get(3), Some(prepared));
        let same_committed = Owner {
            committed: true,
            ..prepared
        };
        owners.restore(same_committed);
        assert_eq!(owners.get(3), Some(same_committed));
        assert!(!owners.admit(attempt(3, 7, 99), |_| false));
    }
}
