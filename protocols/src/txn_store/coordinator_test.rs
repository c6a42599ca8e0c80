//! The coordinator, call by call: the steps of a committed and an aborted
//! cross-shard transaction, and the rules that keep it atomic.

use super::coordinator::{Abort, Coordinator, Request, Step};
use super::locks::TxnId;
use super::plan::Sharding;
use super::shard::{AbortReason, Mop};
use crate::kv::TxnMop;

const T: TxnId = TxnId {
    stamp: 7,
    client: 1,
    seq: 1,
};

fn mop(read: bool, key: u32, value: u64) -> TxnMop {
    TxnMop { read, key, value }
}

/// k0 on shard 0, k3 on shard 1 (range sharding of 4 keys over 2).
fn coordinator() -> Coordinator {
    Coordinator::new(Sharding::Range { keys: 4 }, 2)
}

fn began(c: &mut Coordinator) -> Vec<Step> {
    c.begin(T, &[mop(true, 0, 0), mop(false, 3, 9)], false, 100)
}

#[test]
fn a_cross_shard_transaction_executes_votes_persists_then_commits_and_answers() {
    let mut c = coordinator();
    assert_eq!(
        began(&mut c),
        [
            Step::Send(
                0,
                Request::Execute {
                    txn: T,
                    start_ts: 100,
                    mops: vec![Mop::Read("k0".into())]
                }
            ),
            Step::Send(
                1,
                Request::Execute {
                    txn: T,
                    start_ts: 100,
                    mops: vec![Mop::Write("k3".into(), "9".into())]
                }
            ),
        ]
    );
    assert_eq!(began(&mut c), [], "a retry of one in progress");
    assert_eq!(c.executed(1, T, vec![]), []);
    assert_eq!(
        c.executed(0, T, vec![Some("5".into())]),
        [
            Step::Send(0, Request::Prepare { txn: T }),
            Step::Send(1, Request::Prepare { txn: T })
        ]
    );
    assert_eq!(c.voted(0, T, true, 120), []);
    // Every yes: the decision goes to disk before anyone hears it.
    assert_eq!(c.voted(1, T, true, 120), [Step::PersistCommit(T, 120)]);
    // An abort from a shard now cannot undo it, nor can the timeout.
    assert_eq!(c.aborted(T, AbortReason::Wounded), []);
    assert_eq!(c.timed_out(T), []);
    assert_eq!(
        c.persisted(T, 120),
        [
            Step::Send(
                0,
                Request::Commit {
                    txn: T,
                    commit_ts: 120
                }
            ),
            Step::Send(
                1,
                Request::Commit {
                    txn: T,
                    commit_ts: 120
                }
            ),
            Step::Reply(T, Ok(vec!["5".into()])),
        ]
    );
    assert_eq!(c.active(), 0);
}

#[test]
fn one_no_vote_aborts_everywhere_and_the_client_hears_it() {
    let mut c = coordinator();
    began(&mut c);
    c.executed(0, T, vec![None]);
    c.executed(1, T, vec![]);
    assert_eq!(
        c.voted(1, T, false, 0),
        [
            Step::Send(0, Request::Abort { txn: T }),
            Step::Send(1, Request::Abort { txn: T }),
            Step::Reply(T, Err(Abort::VotedNo)),
        ]
    );
    assert_eq!(c.voted(0, T, true, 0), [], "too late: decided");
}

#[test]
fn an_execution_abort_or_the_timeout_aborts_before_any_vote() {
    let mut c = coordinator();
    began(&mut c);
    let steps = c.aborted(T, AbortReason::Deadlock);
    assert_eq!(
        steps.last(),
        Some(&Step::Reply(T, Err(Abort::Shard(AbortReason::Deadlock))))
    );
    assert_eq!(steps.len(), 3, "both shards told: {steps:?}");
    began(&mut c);
    let steps = c.timed_out(T);
    assert_eq!(steps.last(), Some(&Step::Reply(T, Err(Abort::Timeout))));
    assert_eq!(c.timed_out(T), [], "once");
}

#[test]
fn a_one_shard_transaction_asks_only_its_shard() {
    let mut c = coordinator();
    let steps = c.begin(T, &[mop(false, 1, 4), mop(true, 0, 0)], true, 0);
    assert_eq!(
        steps,
        [Step::Send(
            0,
            Request::Execute {
                txn: T,
                start_ts: 0,
                mops: vec![Mop::Append("k1".into(), "4".into()), Mop::Read("k0".into())]
            }
        )]
    );
    assert_eq!(
        c.executed(0, T, vec![Some("2".into())]),
        [Step::Send(0, Request::Prepare { txn: T })]
    );
    assert_eq!(c.voted(0, T, true, 3), [Step::PersistCommit(T, 3)]);
}
