//! The replicated lock's rules, one by one: a grant's token is its log
//! index, the same owner gets its grant back, a release compares the
//! owner, an expiry frees only the grant it names, and the bug switches
//! change what they say.

use super::messages::Holder;
use super::messages::LockCommand;
use super::replicated::{apply, Applied, ReplicatedLock};
use super::table::Rules;
use sim_core::LocalTime;

fn acquire(client: u32, attempt: u64) -> LockCommand {
    LockCommand::Acquire {
        client,
        attempt,
        expires_at: LocalTime::from_nanos(500),
    }
}

#[test]
fn a_free_lock_is_granted_under_the_log_index_and_refused_to_another_while_held() {
    let mut lock = ReplicatedLock::default();
    let granted = apply(&mut lock, 7, &acquire(4, 1));
    assert_eq!(
        granted,
        Applied::Granted {
            client: 4,
            attempt: 1,
            token: 7,
            new: true
        }
    );
    assert_eq!(
        lock.lock.holder,
        Some(Holder {
            client: 4,
            attempt: 1,
            token: 7,
            expires_at: LocalTime::from_nanos(500)
        })
    );
    assert_eq!(
        apply(&mut lock, 8, &acquire(5, 1)),
        Applied::Refused { attempt: 1 }
    );
    assert_eq!(
        apply(&mut lock, 9, &acquire(4, 1)),
        Applied::Granted {
            client: 4,
            attempt: 1,
            token: 7,
            new: false
        },
        "the same owner asking again keeps its token"
    );
    assert_eq!(
        apply(&mut lock, 10, &acquire(4, 2)),
        Applied::Refused { attempt: 2 },
        "another attempt of the same client is another owner"
    );
}

#[test]
fn a_release_frees_only_the_owners_grant_and_the_next_grant_has_a_larger_token() {
    let mut lock = ReplicatedLock::default();
    apply(&mut lock, 3, &acquire(4, 1));
    let other = LockCommand::Release {
        client: 5,
        attempt: 1,
    };
    assert_eq!(apply(&mut lock, 4, &other), Applied::Unchanged);
    let own = LockCommand::Release {
        client: 4,
        attempt: 1,
    };
    assert_eq!(apply(&mut lock, 5, &own), Applied::Freed { token: 3 });
    assert_eq!(lock.lock.holder, None);
    assert_eq!(
        apply(&mut lock, 6, &own),
        Applied::Unchanged,
        "already free"
    );
    assert!(matches!(
        apply(&mut lock, 7, &acquire(5, 1)),
        Applied::Granted { token: 7, .. }
    ));
}

#[test]
fn an_expiry_frees_the_grant_it_names_and_not_a_later_one() {
    let mut lock = ReplicatedLock::default();
    apply(&mut lock, 3, &acquire(4, 1));
    assert_eq!(
        apply(&mut lock, 4, &LockCommand::Expire { token: 3 }),
        Applied::Freed { token: 3 }
    );
    apply(&mut lock, 5, &acquire(5, 1));
    assert_eq!(
        apply(&mut lock, 6, &LockCommand::Expire { token: 3 }),
        Applied::Unchanged,
        "a late expiry of the old grant leaves the new holder alone"
    );
    assert_eq!(lock.lock.holder.map(|h| h.token), Some(5));
}

#[test]
fn bug_switches_release_without_owner_check_and_token_not_monotonic() {
    let mut lock = ReplicatedLock {
        rules: Rules {
            owner_check: false,
            counter_in_key: true,
        },
        ..ReplicatedLock::default()
    };
    assert!(matches!(
        apply(&mut lock, 3, &acquire(4, 1)),
        Applied::Granted { token: 1, .. }
    ));
    let stranger = LockCommand::Release {
        client: 9,
        attempt: 9,
    };
    assert_eq!(
        apply(&mut lock, 4, &stranger),
        Applied::Freed { token: 1 },
        "anyone deletes the lock"
    );
    assert!(
        matches!(
            apply(&mut lock, 5, &acquire(5, 1)),
            Applied::Granted { token: 1, .. }
        ),
        "the counter went with the key: the token repeats"
    );
}
