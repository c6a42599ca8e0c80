//! The protected resource: a storage server holding one value that lock
//! holders read, work on and write back. With `fencing` it refuses any
//! access whose token is lower than the highest it has seen, reads
//! included, so that once a newer holder has touched the value an older
//! one (a zombie whose grant expired) can touch it no more. Without
//! fencing it accepts everything, as most storage does.
//!
//! The value and the highest token are written and synced before the
//! answer goes out: a fencing resource that forgot its highest token in a
//! crash would let the zombie in.

use super::messages::{LockEvent, LockMessage, LockTimer};
use super::Lock;
use crate::cluster::ServerCtx;
use serde::{Deserialize, Serialize};
use sim_core::NodeId;

const STATE_KEY: &str = "resource/state";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceState {
    pub value: u64,
    pub highest_token: u64,
}

#[derive(Debug)]
pub struct Resource {
    fencing: bool,
    /// The design promises increasing tokens (for the monitor).
    ordered: bool,
    state: ResourceState,
}

impl Resource {
    pub fn new(fencing: bool, ordered: bool) -> Self {
        Resource {
            fencing,
            ordered,
            state: ResourceState::default(),
        }
    }

    pub fn state(&self) -> ResourceState {
        self.state
    }

    pub fn on_recover(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>) {
        if let Some(bytes) = ctx.storage().get(STATE_KEY) {
            self.state = serde_json::from_slice(bytes).expect("a resource state it wrote");
        }
    }

    /// Whether fencing lets an access under `token` in.
    pub fn admits(&self, token: u64) -> bool {
        !self.fencing || token >= self.state.highest_token
    }

    pub fn on_message(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Lock>,
        from: NodeId,
        message: LockMessage,
    ) {
        let LockMessage::Access {
            attempt,
            token,
            write,
        } = message
        else {
            panic!("the resource {} got {message:?}", ctx.id());
        };
        let accepted = self.admits(token);
        if accepted {
            self.state.highest_token = self.state.highest_token.max(token);
            if let Some(value) = write {
                self.state.value = value;
            }
            let bytes = serde_json::to_vec(&self.state).expect("a resource state serialises");
            ctx.storage().put(STATE_KEY, bytes);
            ctx.storage().sync();
        }
        debug_assert!(!accepted || self.state.highest_token >= token);
        // Reported once durable, as the answer is: an access a power loss
        // took back never happened, for the holders or for the monitor.
        ctx.emit_when_durable(LockEvent::Access {
            client: from,
            attempt,
            token,
            write: write.is_some(),
            accepted,
            fencing: self.fencing,
            ordered: self.ordered,
        });
        let done = LockMessage::AccessDone {
            attempt,
            write: write.is_some(),
            accepted,
            value: self.state.value,
        };
        ctx.send_when_durable(from, done);
    }

    pub fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Lock>, timer: LockTimer) {
        panic!("the resource {} set no timer, got {timer:?}", ctx.id());
    }
}
