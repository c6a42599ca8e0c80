//! The lock as a replicated state machine: the `Consensus` design's Raft
//! application. Every lock server applies the same commands in log order
//! and holds the same lock; the leader answers the clients.
//!
//! Why the token is the log index of the acquire: Raft gives every
//! committed entry a unique, increasing index, so a later grant always
//! carries a larger token, across leader changes and restarts, with no
//! counter to keep (etcd's revision, ZooKeeper's zxid). Why expiry is a
//! command: the state machine reads no clock (every replica must reach the
//! same state), so the leader judges the lease on its own timer and
//! proposes `Expire`, which frees the lock only if that grant still holds
//! it.

use super::messages::{Holder, LockCommand, LockState};
use super::table::{self, Rules};
use crate::raft::app::RaftApp;
use sim_core::NodeId;

/// The replicated lock: one lock's state and the rules it applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicatedLock {
    pub lock: LockState,
    pub rules: Rules,
}

impl Default for ReplicatedLock {
    fn default() -> Self {
        ReplicatedLock {
            lock: LockState::default(),
            rules: Rules {
                owner_check: true,
                counter_in_key: false,
            },
        }
    }
}

/// What applying a command did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The lock is (client, attempt)'s under `token`; `new` is false when
    /// the same owner asked again.
    Granted {
        client: u32,
        attempt: u64,
        token: u64,
        new: bool,
    },
    /// Another grant holds the lock.
    Refused { attempt: u64 },
    /// The grant with `token` no longer holds the lock.
    Freed { token: u64 },
    /// Nothing changed (a release or an expiry of a grant already gone).
    Unchanged,
}

/// The `Consensus` design's application.
#[derive(Debug)]
pub struct LockApp;

impl RaftApp for LockApp {
    type Command = LockCommand;
    type State = ReplicatedLock;
    type Output = Applied;
    /// The client waiting for its acquire's answer, and the attempt.
    type Waiter = Option<(NodeId, u64)>;
    /// The lock reads nothing outside the log.
    type Read = std::convert::Infallible;

    fn apply(state: &mut ReplicatedLock, index: u64, command: &LockCommand) -> Option<Applied> {
        Some(apply(state, index, command))
    }

    fn state_heap_bytes(_: &ReplicatedLock) -> usize {
        0
    }

    fn command_heap_bytes(_: &LockCommand) -> usize {
        0
    }
}

/// The rules, pure: `index` is the command's log index.
pub fn apply(state: &mut ReplicatedLock, index: u64, command: &LockCommand) -> Applied {
    let applied = match *command {
        LockCommand::Acquire {
            client,
            attempt,
            expires_at,
        } => match state.lock.holder {
            Some(h) if h.client == client && h.attempt == attempt => Applied::Granted {
                client,
                attempt,
                token: h.token,
                new: false,
            },
            Some(_) => Applied::Refused { attempt },
            None => {
                // Under the bug switch the counter lives in the key, which
                // a release deleted: it starts again from 1.
                let token = if state.rules.counter_in_key {
                    state.lock.last_token + 1
                } else {
                    index
                };
                state.lock.last_token = token;
                state.lock.holder = Some(Holder {
                    client,
                    attempt,
                    token,
                    expires_at,
                });
                Applied::Granted {
                    client,
                    attempt,
                    token,
                    new: true,
                }
            }
        },
        LockCommand::Release { client, attempt } => {
            let token = state.lock.holder.map(|h| h.token);
            match token {
                Some(token) if table::release(&mut state.lock, client, attempt, state.rules) => {
                    Applied::Freed { token }
                }
                _ => Applied::Unchanged,
            }
        }
        LockCommand::Expire { token } => match state.lock.holder {
            Some(h) if h.token == token => {
                state.lock.holder = None;
                if state.rules.counter_in_key {
                    state.lock.last_token = 0;
                }
                Applied::Freed { token }
            }
            _ => Applied::Unchanged,
        },
    };
    debug_assert!(
        !matches!(applied, Applied::Freed { .. }) || state.lock.holder.is_none(),
        "a freed lock has no holder"
    );
    applied
}
