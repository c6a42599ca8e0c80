//! The lock table: one lock's grant, expiry and release rules, as every
//! lock server applies them (the primary, a standby after promotion, each
//! Redlock instance). Pure: no context, so its tests state each rule.

use super::messages::{Holder, LockState};
use sim_core::{LocalTime, SimDuration};

/// The rules' switches (the bug switches that live in the server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Release only the owner's grant (compare-and-delete).
    pub owner_check: bool,
    /// BUG: a release deletes the counter with the key.
    pub counter_in_key: bool,
}

/// `SET lock (client, attempt) NX PX ttl`: grants when the lock is free or
/// its holder's grant has expired on this server's clock, with the next
/// token. The same owner asking again (a retry whose first copy was
/// granted) gets its token back and its expiry moved to `now + ttl`: the
/// client counts its validity from this try, so the server must not
/// expire the grant before then.
pub fn acquire(
    state: &mut LockState,
    client: u32,
    attempt: u64,
    ttl: SimDuration,
    now: LocalTime,
) -> Option<u64> {
    let expires_at = now.saturating_add(ttl);
    if let Some(holder) = state.holder.as_mut() {
        if holder.client == client && holder.attempt == attempt {
            holder.expires_at = holder.expires_at.max(expires_at);
            return Some(holder.token);
        }
        if now < holder.expires_at {
            return None;
        }
    }
    let token = state.last_token + 1;
    state.last_token = token;
    state.holder = Some(Holder {
        client,
        attempt,
        token,
        expires_at,
    });
    debug_assert!(state.holder.is_some_and(|h| h.token == state.last_token));
    Some(token)
}

/// Deletes the lock if (client, attempt) owns it (compare-and-delete), or
/// whoever owns it under the bug switch. Says whether it deleted.
pub fn release(state: &mut LockState, client: u32, attempt: u64, rules: Rules) -> bool {
    let owned = state
        .holder
        .is_some_and(|h| h.client == client && h.attempt == attempt);
    if state.holder.is_none() || (rules.owner_check && !owned) {
        return false;
    }
    state.holder = None;
    if rules.counter_in_key {
        state.last_token = 0;
    }
    true
}
