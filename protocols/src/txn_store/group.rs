//! Where shards live: `Layout` places `replicas` servers per shard, and
//! `GroupEnv` is the Raft library's window (`crate::raft::RaftEnv`) on a
//! TxnStore server, for its shard's group.
//!
//! Shard `s` is held by servers `s·replicas .. (s+1)·replicas`; with one
//! replica, server `s` alone, as before groups existed. The Raft library
//! numbers a group's members `0..replicas`; the environment maps members
//! to servers and back, tags Raft's messages, timers and events into
//! TxnStore's, and collects what the log applied for the server to act on
//! once the Raft call returns (so that the server's own state is not
//! borrowed while Raft runs).

use super::messages::{TxnEvent, TxnMessage, TxnTimer};
use super::replicated::{ShardApp, ShardApplied, ShardCommand, ShardImage, ShardWaiter};
use crate::cluster::{ServerCtx, Service};
use crate::raft::messages::{RaftEvent, RaftMessage, RaftTimer};
use crate::raft::RaftEnv;
use rand::Rng;
use sim_core::storage::DurableStorage;
use sim_core::{LocalTime, NodeId, SimDuration, TimerId};

/// How servers hold shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Servers per shard: 1 (a shard per server), or a Raft group's size.
    pub replicas: u32,
    pub shards: u32,
}

impl Layout {
    /// `servers` in groups of `replicas` (validation makes it divide).
    pub fn new(servers: u32, replicas: u32) -> Layout {
        assert!(replicas > 0, "at least one replica");
        assert!(
            servers >= replicas && servers.is_multiple_of(replicas),
            "validated: {servers} servers make whole groups of {replicas}"
        );
        let layout = Layout {
            replicas,
            shards: servers / replicas,
        };
        debug_assert!(layout.shards * layout.replicas == servers);
        layout
    }

    /// Whether shards are Raft groups.
    pub fn replicated(&self) -> bool {
        self.replicas > 1
    }

    /// The shard `server` holds.
    pub fn shard_of(&self, server: NodeId) -> u32 {
        let shard = server.0 / self.replicas;
        debug_assert!(shard < self.shards, "{server} is a server");
        shard
    }

    /// The group whose log holds the commit decisions `coordinator`
    /// makes (with groups): a server's own; a client coordinator's home
    /// group, its client number mod the shards, so that clients spread
    /// their decisions over the groups.
    pub fn decisions_group(&self, coordinator: NodeId) -> u32 {
        let servers = self.shards * self.replicas;
        if coordinator.0 < servers {
            self.shard_of(coordinator)
        } else {
            (coordinator.0 - servers) % self.shards
        }
    }

    /// `server`'s number within its shard's group.
    pub fn member_of(&self, server: NodeId) -> NodeId {
        NodeId(server.0 % self.replicas)
    }

    /// The server that is `member` of `shard`'s group.
    pub fn server(&self, shard: u32, member: NodeId) -> NodeId {
        debug_assert!(shard < self.shards && member.0 < self.replicas);
        NodeId(shard * self.replicas + member.0)
    }
}

/// What a Raft call left for the server: the records applied with a
/// waiter (on the leader that proposed them), and the newest term among
/// the entries applied.
#[derive(Debug, Default)]
pub struct Applied {
    pub outputs: Vec<(ShardApplied, ShardWaiter)>,
    pub term: u64,
}

/// A service that speaks TxnStore's messages, timers and events: the
/// TxnStore server. (Generic so that this file need not know the server,
/// which knows it.)
pub trait TxnService: Service<Message = TxnMessage, Timer = TxnTimer, Event = TxnEvent> {}

impl<S: Service<Message = TxnMessage, Timer = TxnTimer, Event = TxnEvent>> TxnService for S {}

/// The Raft library's window on a TxnStore server, for its shard's group.
pub struct GroupEnv<'x, 'c, 'a, S: TxnService> {
    pub ctx: &'x mut ServerCtx<'c, 'a, S>,
    pub layout: Layout,
    pub shard: u32,
    pub applied: &'x mut Applied,
}

impl<S: TxnService> GroupEnv<'_, '_, '_, S> {
    fn server(&self, member: NodeId) -> NodeId {
        debug_assert!(
            member.0 < self.layout.replicas,
            "Raft speaks only to the group"
        );
        self.layout.server(self.shard, member)
    }
}

impl<S: TxnService> RaftEnv<ShardApp> for GroupEnv<'_, '_, '_, S> {
    fn id(&self) -> NodeId {
        self.layout.member_of(self.ctx.id())
    }
    fn server_count(&self) -> u32 {
        self.layout.replicas
    }
    fn now(&self) -> LocalTime {
        self.ctx.now()
    }
    fn random_in(&mut self, min: u64, max: u64) -> u64 {
        self.ctx.rng().random_range(min..=max)
    }
    fn storage(&mut self) -> &mut DurableStorage {
        self.ctx.storage()
    }
    fn send(&mut self, to: NodeId, message: RaftMessage<ShardCommand>) {
        let to = self.server(to);
        self.ctx.send(to, TxnMessage::Raft(message));
    }
    fn send_when_durable(&mut self, to: NodeId, message: RaftMessage<ShardCommand>) {
        let to = self.server(to);
        self.ctx.send_when_durable(to, TxnMessage::Raft(message));
    }
    fn set_timer(&mut self, after: SimDuration, timer: RaftTimer) -> TimerId {
        self.ctx.set_timer(after, TxnTimer::Raft(timer))
    }
    fn cancel_timer(&mut self, id: TimerId) {
        self.ctx.cancel_timer(id);
    }
    fn emit(&mut self, event: RaftEvent) {
        if let RaftEvent::Applied { term, .. } = event {
            // Entries apply in log order, whose terms never fall.
            debug_assert!(term >= self.applied.term, "applied terms fall");
            self.applied.term = term;
        }
        let (shard, replicas) = (self.shard, self.layout.replicas);
        self.ctx.emit(TxnEvent::Raft {
            shard,
            replicas,
            event,
        });
    }
    fn applied(&mut self, _index: u64, output: Option<ShardApplied>, waiter: Option<ShardWaiter>) {
        if let (Some(output), Some(waiter)) = (output, waiter) {
            self.applied.outputs.push((output, waiter));
        }
    }
    fn serve_read(&mut self, _: &ShardImage, read: std::convert::Infallible) {
        match read {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layout_places_each_shard_on_its_own_consecutive_servers() {
        let layout = Layout::new(6, 3);
        assert_eq!(layout.shards, 2);
        assert!(layout.replicated());
        let placed: Vec<(u32, u32)> = (0..6)
            .map(|n| (layout.shard_of(NodeId(n)), layout.member_of(NodeId(n)).0))
            .collect();
        assert_eq!(placed, [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]);
        for n in 0..6 {
            let node = NodeId(n);
            assert_eq!(
                layout.server(layout.shard_of(node), layout.member_of(node)),
                node
            );
        }
        // One replica: server s holds shard s, as without groups.
        let single = Layout::new(4, 1);
        assert!(!single.replicated());
        assert_eq!(single.shard_of(NodeId(3)), 3);
        assert_eq!(single.server(2, NodeId(0)), NodeId(2));
    }

    #[test]
    #[should_panic(expected = "whole groups")]
    fn servers_that_do_not_make_whole_groups_are_a_bug() {
        let _ = Layout::new(5, 3);
    }
}
