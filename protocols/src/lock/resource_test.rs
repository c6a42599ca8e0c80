//! The protected resource: without fencing it takes every access; with
//! fencing it refuses a token lower than the highest it has seen, reads
//! included, and an equal one is let in.

use super::messages::{LockEvent, LockMessage};
use super::resource::Resource;
use super::Lock;
use crate::cluster::Service;
use crate::testkit::ServerHarness;
use sim_core::NodeId;

fn access(token: u64, write: Option<u64>) -> LockMessage {
    LockMessage::Access {
        attempt: 1,
        token,
        write,
    }
}

fn answers(fencing: bool, accesses: &[(u32, u64, Option<u64>)]) -> Vec<(bool, u64)> {
    let mut harness = ServerHarness::new(NodeId(1), 5, 1);
    let mut lock = Lock::Resource(Resource::new(fencing, true));
    accesses
        .iter()
        .map(|&(from, token, write)| {
            let handled =
                harness.call(|ctx| lock.on_message(ctx, NodeId(from), access(token, write)));
            let [(
                to,
                LockMessage::AccessDone {
                    accepted, value, ..
                },
            )] = handled.sends()[..]
            else {
                panic!("one answer: {:?}", handled.effects)
            };
            assert_eq!(to, NodeId(from));
            let [LockEvent::Access { accepted: seen, .. }] = handled.events()[..] else {
                panic!("one event")
            };
            assert_eq!(seen, accepted);
            (*accepted, *value)
        })
        .collect()
}

#[test]
fn without_fencing_a_lower_token_writes_over_a_higher_one() {
    let got = answers(false, &[(2, 5, None), (3, 6, Some(1)), (2, 5, Some(1))]);
    assert_eq!(got, [(true, 0), (true, 1), (true, 1)]);
}

#[test]
fn with_fencing_a_read_raises_the_token_and_an_older_holder_is_refused() {
    let got = answers(
        true,
        &[
            (2, 5, None),
            (3, 6, None),
            (2, 5, Some(1)),
            (3, 6, Some(1)),
            (3, 6, Some(2)),
            (4, 6, Some(9)),
        ],
    );
    assert_eq!(
        got,
        [
            (true, 0),
            (true, 0),
            (false, 0),
            (true, 1),
            (true, 2),
            (true, 9)
        ],
        "token 5 is refused after 6 was seen; equal tokens are let in"
    );
}

#[test]
fn an_accepted_access_is_synced_before_it_is_answered_and_a_refused_one_writes_nothing() {
    let mut harness = ServerHarness::new(NodeId(1), 5, 1);
    let mut lock = Lock::Resource(Resource::new(true, true));
    let accepted = harness.call(|ctx| lock.on_message(ctx, NodeId(2), access(3, Some(4))));
    assert_eq!(accepted.stored, ["resource/state"]);
    assert!(accepted.synced);
    let refused = harness.call(|ctx| lock.on_message(ctx, NodeId(3), access(2, Some(7))));
    assert!(refused.stored.is_empty());
    let mut restarted = Lock::Resource(Resource::new(true, true));
    harness.call(|ctx| restarted.on_recover(ctx));
    let Lock::Resource(resource) = &restarted else {
        unreachable!()
    };
    assert_eq!(
        (resource.state().value, resource.state().highest_token),
        (4, 3)
    );
}
