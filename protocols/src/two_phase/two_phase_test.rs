//! The two-phase-commit core's rules: the tally under presumed abort, the
//! acknowledgements a decision waits for, and a participant in doubt.

use super::*;

#[test]
fn every_yes_commits_and_a_no_aborts_at_once() {
    let mut votes = Votes::new(vec![1u32, 2, 3]);
    assert_eq!(votes.tally(), Tally::Pending);
    assert_eq!(votes.record(1, true), Tally::Pending);
    assert_eq!(
        votes.record(1, true),
        Tally::Pending,
        "a repeat counts once"
    );
    assert!(votes.voted_yes(1) && !votes.voted_yes(2));
    assert_eq!(votes.record(3, true), Tally::Pending);
    assert_eq!(votes.record(2, true), Tally::Commit);

    let mut votes = Votes::new(vec![1u32, 2, 3]);
    assert_eq!(
        votes.record(2, false),
        Tally::Abort,
        "before the others vote"
    );
    assert_eq!(votes.record(1, true), Tally::Abort, "and it stays aborted");
    assert_eq!(votes.record(3, true), Tally::Abort);
}

#[test]
fn one_participant_commits_on_its_own_yes() {
    let mut votes = Votes::new(vec![7u32]);
    assert_eq!(votes.record(7, true), Tally::Commit);
    assert_eq!(votes.participants(), [7]);
}

#[test]
fn acks_name_who_is_missing_until_all_have_acked() {
    let mut acks = Acks::new(vec![4u32, 1, 9]);
    assert_eq!(acks.missing().collect::<Vec<_>>(), [4, 1, 9]);
    assert!(!acks.ack(1));
    assert!(!acks.ack(1), "a repeat counts once");
    assert_eq!(
        acks.missing().collect::<Vec<_>>(),
        [4, 9],
        "in the order given"
    );
    assert!(!acks.ack(9));
    assert!(acks.ack(4));
    assert!(acks.is_complete());
    assert_eq!(acks.missing().count(), 0);
    assert_eq!(acks.participants(), [4, 1, 9]);
}

#[test]
fn in_doubt_a_correct_participant_asks_and_the_bug_commits_alone() {
    assert_eq!(InDoubt::on_timeout(false), InDoubt::Ask);
    assert_eq!(InDoubt::on_timeout(true), InDoubt::CommitAlone);
}
