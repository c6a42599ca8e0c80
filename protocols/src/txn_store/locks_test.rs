//! The lock table, request by request: exact grants, waits, wounds and
//! deaths under both deadlock policies.

use super::locks::{Acquire, DeadlockPolicy, LockTable, Mode, TxnId};

fn txn(stamp: u64) -> TxnId {
    TxnId {
        stamp,
        client: stamp as u32,
        seq: 1,
    }
}

#[test]
fn shared_locks_share_and_an_exclusive_one_waits_for_them_all() {
    let mut table = LockTable::new(DeadlockPolicy::WoundWait);
    let (a, b, c) = (txn(1), txn(2), txn(3));
    assert_eq!(table.acquire(b, "k", Mode::Shared), Acquire::Granted);
    assert_eq!(table.acquire(c, "k", Mode::Shared), Acquire::Granted);
    // c is younger than b: waits for b's shared lock to go.
    assert_eq!(table.acquire(c, "k", Mode::Exclusive), Acquire::Waiting);
    // Asking again for what it holds is granted at once.
    assert_eq!(table.acquire(b, "k", Mode::Shared), Acquire::Granted);
    // A shared request does not overtake the queued exclusive one.
    assert_eq!(table.acquire(txn(4), "k", Mode::Shared), Acquire::Waiting);
    assert!(table.waiting(txn(4)));
    // b ends: c (a holder already) is upgraded; txn 4 still waits.
    assert_eq!(
        table.release_all(b),
        [(c, "k".to_string(), Mode::Exclusive)]
    );
    assert_eq!(table.held(c, "k"), Some(Mode::Exclusive));
    assert!(table.waiting(txn(4)));
    // c ends: the shared waiter gets it; then the table empties.
    assert_eq!(
        table.release_all(c),
        [(txn(4), "k".to_string(), Mode::Shared)]
    );
    assert_eq!(table.release_all(txn(4)), []);
    assert_eq!(table.keys_locked(), 0);
    let _ = a;
}

#[test]
fn wound_wait_an_older_requester_wounds_younger_holders_and_a_younger_one_waits() {
    let mut table = LockTable::new(DeadlockPolicy::WoundWait);
    let (old, young) = (txn(1), txn(9));
    assert_eq!(table.acquire(young, "k", Mode::Exclusive), Acquire::Granted);
    assert_eq!(
        table.acquire(old, "k", Mode::Shared),
        Acquire::Wounds(vec![young])
    );
    // The caller aborts the wounded one: the older requester gets the lock.
    assert_eq!(
        table.release_all(young),
        [(old, "k".to_string(), Mode::Shared)]
    );
    // Now the young one, retried with its stamp, waits for the old one.
    assert_eq!(table.acquire(young, "k", Mode::Exclusive), Acquire::Waiting);
    assert_eq!(
        table.release_all(old),
        [(young, "k".to_string(), Mode::Exclusive)]
    );
}

#[test]
fn wait_die_an_older_requester_waits_and_a_younger_one_dies() {
    let mut table = LockTable::new(DeadlockPolicy::WaitDie);
    let (old, young) = (txn(1), txn(9));
    assert_eq!(table.acquire(old, "k", Mode::Exclusive), Acquire::Granted);
    assert_eq!(table.acquire(young, "k", Mode::Shared), Acquire::Dies);
    assert!(!table.waiting(young), "a dying request is not queued");
    table.release_all(old);
    assert_eq!(table.acquire(young, "k", Mode::Exclusive), Acquire::Granted);
    assert_eq!(table.acquire(old, "k", Mode::Exclusive), Acquire::Waiting);
    assert_eq!(
        table.release_all(young),
        [(old, "k".to_string(), Mode::Exclusive)]
    );
}

/// The classic deadlock: a holds x and wants y, b holds y and wants x.
/// Either policy breaks it: exactly one of the two is told to abort.
#[test]
fn neither_policy_lets_two_transactions_wait_for_each_other() {
    for policy in [DeadlockPolicy::WoundWait, DeadlockPolicy::WaitDie] {
        let mut table = LockTable::new(policy);
        let (a, b) = (txn(1), txn(2));
        assert_eq!(table.acquire(a, "x", Mode::Exclusive), Acquire::Granted);
        assert_eq!(table.acquire(b, "y", Mode::Exclusive), Acquire::Granted);
        let b_wants_x = table.acquire(b, "x", Mode::Exclusive);
        let a_wants_y = table.acquire(a, "y", Mode::Exclusive);
        match policy {
            DeadlockPolicy::WoundWait => {
                assert_eq!(b_wants_x, Acquire::Waiting, "the younger waits");
                assert_eq!(a_wants_y, Acquire::Wounds(vec![b]), "the older wounds");
            }
            DeadlockPolicy::WaitDie => {
                assert_eq!(b_wants_x, Acquire::Dies, "the younger dies");
                assert_eq!(a_wants_y, Acquire::Waiting, "the older waits");
            }
        }
        // Aborting b frees y for a.
        let granted = table.release_all(b);
        assert_eq!(
            granted,
            [(a, "y".to_string(), Mode::Exclusive)],
            "{policy:?}"
        );
    }
}

#[test]
fn a_full_queue_tells_the_requester_to_abort() {
    let mut table = LockTable::new(DeadlockPolicy::WoundWait);
    assert_eq!(
        table.acquire(txn(0), "k", Mode::Exclusive),
        Acquire::Granted
    );
    for stamp in 1..=super::locks::WAITERS_PER_KEY_MAX as u64 {
        assert_eq!(
            table.acquire(txn(stamp), "k", Mode::Exclusive),
            Acquire::Waiting
        );
    }
    let beyond = txn(super::locks::WAITERS_PER_KEY_MAX as u64 + 1);
    assert_eq!(table.acquire(beyond, "k", Mode::Exclusive), Acquire::Full);
}

/// Regression: a holder's upgrade queued behind a waiter for its own
/// shared lock waited for itself until its transaction timed out (the
/// first TxnStore runs stalled for a whole `request_timeout`, seed 3).
#[test]
fn regression_an_upgrade_goes_ahead_of_the_waiters_for_its_own_lock() {
    let mut table = LockTable::new(DeadlockPolicy::WoundWait);
    let (older, fellow, younger) = (txn(1), txn(2), txn(3));
    assert_eq!(table.acquire(older, "k", Mode::Shared), Acquire::Granted);
    assert_eq!(table.acquire(fellow, "k", Mode::Shared), Acquire::Granted);
    // A younger writer queues behind both readers.
    assert_eq!(
        table.acquire(younger, "k", Mode::Exclusive),
        Acquire::Waiting
    );
    // The older reader upgrades: it wounds its fellow reader and waits,
    // ahead of the younger writer.
    assert_eq!(
        table.acquire(older, "k", Mode::Exclusive),
        Acquire::Wounds(vec![fellow])
    );
    assert_eq!(
        table.release_all(fellow),
        [(older, "k".to_string(), Mode::Exclusive)]
    );
    assert!(table.waiting(younger));
}

/// Regression: a grant handed a lock to a younger waiter while an older
/// one still waited behind it, and wound-wait was never applied to the
/// new holder; the older one waited on it while it waited, on another
/// shard, for the older one (TxnStore, seed 3: a stall of a whole
/// `request_timeout`). Waiters are now served oldest first, and the rule
/// is applied again after every grant.
#[test]
fn regression_after_a_grant_the_deadlock_rule_applies_to_the_new_holder() {
    let mut table = LockTable::new(DeadlockPolicy::WoundWait);
    let (holder, young, old) = (txn(1), txn(5), txn(3));
    assert_eq!(
        table.acquire(holder, "k", Mode::Exclusive),
        Acquire::Granted
    );
    assert_eq!(table.acquire(young, "k", Mode::Exclusive), Acquire::Waiting);
    assert_eq!(table.acquire(old, "k", Mode::Shared), Acquire::Waiting);
    // The old one is served first, though it came second.
    assert_eq!(
        table.release_all(holder),
        [(old, "k".to_string(), Mode::Shared)]
    );
    assert_eq!(table.conflicts_on("k"), (vec![], vec![]));
    // Under wait-die the same grant makes the younger waiter die.
    let mut table = LockTable::new(DeadlockPolicy::WaitDie);
    assert_eq!(
        table.acquire(txn(9), "k", Mode::Exclusive),
        Acquire::Granted
    );
    // txn 4 comes first and waits (older than the holder); txn 2 comes
    // second and waits too. (txn 4 coming second would die at once: it
    // would wait for an older waiter.)
    assert_eq!(
        table.acquire(txn(4), "k", Mode::Exclusive),
        Acquire::Waiting
    );
    assert_eq!(
        table.acquire(txn(2), "k", Mode::Exclusive),
        Acquire::Waiting
    );
    // The older one gets it; the younger one now waits for an older
    // holder, which wait-die forbids.
    table.release_all(txn(9));
    assert_eq!(table.conflicts_on("k"), (vec![], vec![txn(4)]));
}

/// Regression: in arrival order an older reader queued behind a younger
/// writer, which waited for a holder that waited, on another key, for the
/// older reader: three transactions stalled until their deadline
/// (isolation-levels, 2PL, seed 1: 14 timeouts, commits taking 1 s).
#[test]
fn regression_an_older_request_is_not_held_behind_a_younger_waiter() {
    let mut table = LockTable::new(DeadlockPolicy::WoundWait);
    let (a, b, c) = (txn(1), txn(2), txn(3));
    assert_eq!(table.acquire(b, "k1", Mode::Shared), Acquire::Granted);
    assert_eq!(table.acquire(a, "k2", Mode::Shared), Acquire::Granted);
    // c, the youngest, waits for b's shared lock on k1.
    assert_eq!(table.acquire(c, "k1", Mode::Exclusive), Acquire::Waiting);
    // b waits for a on k2.
    assert_eq!(table.acquire(b, "k2", Mode::Exclusive), Acquire::Waiting);
    // a, the oldest, reads k1: shared with b, and c waiting is younger,
    // so it is granted at once instead of queueing behind c.
    assert_eq!(table.acquire(a, "k1", Mode::Shared), Acquire::Granted);
    // A younger reader still queues behind an older waiting writer.
    assert_eq!(table.acquire(txn(4), "k1", Mode::Shared), Acquire::Waiting);
}
