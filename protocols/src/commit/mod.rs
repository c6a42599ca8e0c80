//! Atomic commit: two-phase commit and Skeen's three-phase commit, moving
//! money between accounts that live on different shards.
//!
//! Server 0 is the coordinator; servers 1.. are participants, each the
//! shard for the accounts `i` with `i mod shards == shard`. A client sends
//! a transfer to the coordinator (participants point it there), which
//! runs it as a transaction across the one or two shards it touches and
//! answers committed (`Done`) or aborted (`Aborted`). Retries of one
//! operation map to one transaction (the client's (client, seq) tag).
//!
//! Message counts per transaction, with no failures, per participant:
//! 2PC sends prepare, vote, decision and ack (4); 3PC adds pre-commit and
//! its ack (6). A transfer between two shards therefore costs 8 or 12.

pub mod coordinator;
#[cfg(test)]
mod coordinator_test;
pub mod messages;
pub mod monitor;
#[cfg(test)]
mod monitor_test;
pub mod params;
pub mod participant;
#[cfg(test)]
mod participant_termination_test;
#[cfg(test)]
mod participant_test;
pub mod plugin;

use crate::client::{ClientReply, ClientRequest};
use crate::cluster::{ServerCtx, Service};
use coordinator::Coordinator;
use messages::{CommitEvent, CommitMessage, CommitTimer};
use params::CommitParams;
use participant::{Participant, COORDINATOR};
use sim_core::{NodeId, TimerId};
use std::sync::Arc;

#[derive(Debug)]
enum Role {
    /// Before `on_start`: the role depends on the server's id.
    Unborn,
    Coordinator(Coordinator),
    Participant(Participant),
}

/// One server of an atomic-commit cluster.
#[derive(Debug)]
pub struct AtomicCommit {
    params: Arc<CommitParams>,
    role: Role,
}

impl AtomicCommit {
    pub fn new(params: Arc<CommitParams>) -> Self {
        AtomicCommit {
            params,
            role: Role::Unborn,
        }
    }

    /// A participant's balances; `None` on the coordinator.
    pub fn balances(&self) -> Option<&std::collections::BTreeMap<u32, i64>> {
        match &self.role {
            Role::Participant(p) => Some(p.balances()),
            _ => None,
        }
    }
}

/// Sends `message` once every write so far is durable, counting it for
/// the monitor's per-transaction counts. Every message of these protocols
/// follows the records it depends on (a vote its prepared record, an ack
/// its outcome, a decision the decision record), so all of them wait: a
/// server never tells anyone what a power loss could take back.
fn send(ctx: &mut ServerCtx<'_, '_, AtomicCommit>, to: NodeId, message: CommitMessage) {
    ctx.emit(CommitEvent::Sent {
        txn: message.txn(),
        kind: message.kind(),
    });
    ctx.send_when_durable(to, message);
}

/// Asks for the records written so far to be made durable: grouped with
/// the sync in flight under `group_commit`, else a sync of their own.
fn sync(ctx: &mut ServerCtx<'_, '_, AtomicCommit>, grouped: bool) {
    if grouped {
        ctx.storage().sync_grouped();
    } else {
        ctx.storage().sync();
    }
}

/// Sends `message` at once, durable or not: only the `decide_before_sync`
/// bug does this.
fn send_now(ctx: &mut ServerCtx<'_, '_, AtomicCommit>, to: NodeId, message: CommitMessage) {
    ctx.emit(CommitEvent::Sent {
        txn: message.txn(),
        kind: message.kind(),
    });
    ctx.send(to, message);
}

impl Service for AtomicCommit {
    fn state_heap_bytes(&self) -> usize {
        match &self.role {
            Role::Unborn => 0,
            Role::Coordinator(c) => c.heap_bytes(),
            Role::Participant(p) => p.heap_bytes(),
        }
    }

    type Message = CommitMessage;
    type Timer = CommitTimer;
    type Event = CommitEvent;
    type Monitor = monitor::CommitMonitor;

    fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.role = if ctx.id() == COORDINATOR {
            Role::Coordinator(Coordinator::new(self.params.clone()))
        } else {
            Role::Participant(Participant::new(self.params.clone(), ctx))
        };
    }

    fn on_recover(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.role = if ctx.id() == COORDINATOR {
            Role::Coordinator(Coordinator::recover(self.params.clone(), ctx))
        } else {
            Role::Participant(Participant::recover(self.params.clone(), ctx))
        };
    }

    fn on_message(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        message: CommitMessage,
    ) {
        match &mut self.role {
            Role::Coordinator(c) => c.on_message(ctx, from, message),
            Role::Participant(p) => p.on_message(ctx, from, message),
            Role::Unborn => unreachable!("a server is started before its first message"),
        }
    }

    fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, _id: TimerId, timer: CommitTimer) {
        match &mut self.role {
            Role::Coordinator(c) => c.on_timer(ctx, timer),
            Role::Participant(p) => p.on_timer(ctx, timer),
            Role::Unborn => unreachable!("a server is started before its first timer"),
        }
    }

    fn on_client_request(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        match &mut self.role {
            Role::Coordinator(c) => c.on_client_request(ctx, client, request),
            Role::Participant(_) => {
                let hint = Some(COORDINATOR);
                ctx.reply(client, request.answer(ClientReply::NotLeader { hint }));
            }
            Role::Unborn => unreachable!("a server is started before its first request"),
        }
    }

    /// The coordinator is the "leader", so a fault can name `@leader`.
    fn leader_term(&self) -> Option<u64> {
        matches!(self.role, Role::Coordinator(_)).then_some(1)
    }
}
