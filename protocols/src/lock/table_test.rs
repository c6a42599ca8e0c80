//! The lock table's rules, one at a time.

use super::messages::LockState;
use super::table::{acquire, release, Rules};
use sim_core::{LocalTime, SimDuration};

const TTL: SimDuration = SimDuration::from_millis(500);
const RULES: Rules = Rules {
    owner_check: true,
    counter_in_key: false,
};

fn at_ms(ms: u64) -> LocalTime {
    LocalTime::from_nanos(ms * 1_000_000)
}

#[test]
fn a_free_lock_is_granted_with_the_next_token_and_a_held_one_is_refused() {
    let mut state = LockState::default();
    assert_eq!(acquire(&mut state, 7, 1, TTL, at_ms(0)), Some(1));
    assert_eq!(acquire(&mut state, 8, 1, TTL, at_ms(100)), None);
    assert_eq!(acquire(&mut state, 8, 1, TTL, at_ms(499)), None);
    let holder = state.holder.unwrap();
    assert_eq!((holder.client, holder.token), (7, 1));
    assert_eq!(holder.expires_at, at_ms(500));
}

#[test]
fn an_expired_grant_is_taken_over_with_a_larger_token() {
    let mut state = LockState::default();
    acquire(&mut state, 7, 1, TTL, at_ms(0));
    assert_eq!(acquire(&mut state, 8, 1, TTL, at_ms(500)), Some(2));
    assert_eq!(state.holder.unwrap().client, 8);
    // The old owner's release no longer deletes anything.
    assert!(!release(&mut state, 7, 1, RULES));
    assert_eq!(state.holder.unwrap().client, 8);
}

#[test]
fn the_same_owner_asking_again_keeps_its_token_and_moves_its_expiry_later() {
    let mut state = LockState::default();
    acquire(&mut state, 7, 3, TTL, at_ms(0));
    assert_eq!(acquire(&mut state, 7, 3, TTL, at_ms(200)), Some(1));
    assert_eq!(state.holder.unwrap().expires_at, at_ms(700));
    // Another attempt of the same client is another owner.
    assert_eq!(acquire(&mut state, 7, 4, TTL, at_ms(300)), None);
}

#[test]
fn release_is_a_compare_and_delete_and_the_bug_deletes_anyones_grant() {
    let mut state = LockState::default();
    acquire(&mut state, 7, 1, TTL, at_ms(0));
    assert!(!release(&mut state, 8, 1, RULES));
    assert!(!release(&mut state, 7, 2, RULES));
    assert!(state.holder.is_some());
    let bug = Rules {
        owner_check: false,
        ..RULES
    };
    assert!(release(&mut state, 8, 1, bug));
    assert!(state.holder.is_none());
    assert!(!release(&mut state, 7, 1, RULES), "nothing left to delete");
}

#[test]
fn tokens_count_on_across_releases_unless_the_counter_lives_in_the_key() {
    let mut state = LockState::default();
    acquire(&mut state, 7, 1, TTL, at_ms(0));
    release(&mut state, 7, 1, RULES);
    assert_eq!(acquire(&mut state, 8, 1, TTL, at_ms(10)), Some(2));
    let bug = Rules {
        counter_in_key: true,
        ..RULES
    };
    release(&mut state, 8, 1, bug);
    assert_eq!(
        acquire(&mut state, 9, 1, TTL, at_ms(20)),
        Some(1),
        "the deleted key took the counter with it"
    );
}
