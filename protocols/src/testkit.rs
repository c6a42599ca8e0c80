//! Handler tests for services: one server outside the engine, fed one
//! input at a time, with what it did as a list of `Effect`s to assert on
//! exactly (sends, replies, timers, events), plus its storage writes.
//!
//! Built on `sim_core::testkit::NodeHarness`; this adds the server's view
//! (`ServerCtx`), so a test calls a handler as the cluster would:
//!
//! ```ignore
//! let mut server = ServerHarness::new(NodeId(1), 3, 7);
//! let handled = server.call(|ctx| raft.on_message(ctx, NodeId(0), request));
//! assert_eq!(handled.effects, [Effect::Send { to: NodeId(0), message: vote }]);
//! ```

use crate::client::ClientResponse;
use crate::cluster::{Cluster, ClusterMessage, ClusterOutput, ClusterTimer, ServerCtx, Service};
use crate::durable_outbox::{DurableOutbox, Held};
use sim_core::protocol::Command;
use sim_core::testkit::NodeHarness;
use sim_core::{LocalTime, NodeId, SimDuration, SyncId, TimerId};

/// What a server's handler did, in the order it did it.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect<M, T, E> {
    /// A message to a peer.
    Send { to: NodeId, message: M },
    /// A response to a client.
    Reply {
        to: NodeId,
        response: ClientResponse,
    },
    /// A timer set to fire after `after` of local time.
    SetTimer {
        id: TimerId,
        after: SimDuration,
        timer: T,
    },
    /// An event for the protocol's monitor.
    Emit(E),
}

/// A service's effects.
pub type EffectOf<S> =
    Effect<<S as Service>::Message, <S as Service>::Timer, <S as Service>::Event>;

/// What one handler call did.
#[derive(Debug)]
pub struct Handled<S: Service, R> {
    pub result: R,
    pub effects: Vec<EffectOf<S>>,
    /// Storage keys written or deleted, in key order.
    pub stored: Vec<String>,
    /// Whether the handler synced its storage.
    pub synced: bool,
    /// The syncs it asked for: completed when the call returns (an instant
    /// disk), or still in flight after `ServerHarness::hold_syncs`, until
    /// `complete_sync` completes them and tells the service.
    pub syncs: Vec<SyncId>,
}

impl<S: Service, R> Handled<S, R> {
    /// The messages sent to peers, in order.
    pub fn sends(&self) -> Vec<(NodeId, &S::Message)> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send { to, message } => Some((*to, message)),
                _ => None,
            })
            .collect()
    }

    /// The replies to clients, in order.
    pub fn replies(&self) -> Vec<&crate::client::ClientReply> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Reply { response, .. } => Some(&response.reply),
                _ => None,
            })
            .collect()
    }

    /// The events emitted, in order.
    pub fn events(&self) -> Vec<&S::Event> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Emit(event) => Some(event),
                _ => None,
            })
            .collect()
    }
}

/// One server of a cluster, outside the engine.
pub struct ServerHarness {
    node: NodeHarness,
    servers: u32,
    /// With `hold_syncs`: the messages held for syncs still in flight, kept
    /// between calls (a `DurableOutbox` of the service's types).
    held: Option<Box<dyn std::any::Any>>,
}

impl ServerHarness {
    /// Server `id` of `servers`, at local time zero, its stream from `seed`.
    pub fn new(id: NodeId, servers: u32, seed: u64) -> Self {
        Self::with_clients(id, servers, 0, seed)
    }

    /// As `new`, in a cluster that also has `clients` clients (node ids
    /// `servers..servers + clients`), for handlers that reply to them.
    pub fn with_clients(id: NodeId, servers: u32, clients: u32, seed: u64) -> Self {
        ServerHarness {
            node: NodeHarness::new(id, servers + clients, seed),
            servers,
            held: None,
        }
    }

    /// From now on the disk is slow: syncs stay in flight after each call,
    /// and what waits for them stays held, until `complete_sync`.
    pub fn hold_syncs(&mut self) {
        self.node.hold_syncs();
    }

    /// Completes the oldest sync in flight: what waited for it goes out,
    /// then `service` hears of it (`Service::on_synced`), as the cluster
    /// does. The result is the sync's id (None: none was in flight).
    pub fn complete_sync<S: Service>(&mut self, service: &mut S) -> Handled<S, Option<SyncId>> {
        let id = self.node.complete_sync();
        let mut outbox = self.take_outbox::<S>();
        let released: Vec<EffectOf<S>> = match id {
            Some(id) => outbox.release(id).map(effect_of::<S>).collect(),
            None => Vec::new(),
        };
        let servers = self.servers;
        let mut handled = self.node.call::<Cluster<S>, Option<SyncId>>(|ctx| {
            if let Some(id) = id {
                service.on_synced(&mut ServerCtx::new(ctx, servers, &mut outbox), id);
            }
            id
        });
        self.held = Some(Box::new(outbox));
        let commands = std::mem::take(&mut handled.commands);
        Handled {
            result: handled.result,
            effects: released
                .into_iter()
                .chain(commands.into_iter().map(command_effect::<S>))
                .collect(),
            stored: handled.stored,
            synced: handled.synced,
            syncs: handled.syncs,
        }
    }

    fn take_outbox<S: Service>(&mut self) -> DurableOutbox<S::Message, S::Event> {
        match self.held.take() {
            Some(any) => *any
                .downcast::<DurableOutbox<S::Message, S::Event>>()
                .expect("one service per harness"),
            None => DurableOutbox::default(),
        }
    }

    pub fn id(&self) -> NodeId {
        self.node.id()
    }

    pub fn set_now(&mut self, now: LocalTime) {
        self.node.set_now(now);
    }

    pub fn advance(&mut self, by: SimDuration) {
        self.node.advance(by);
    }

    pub fn storage(&self) -> &sim_core::storage::DurableStorage {
        self.node.storage()
    }

    /// Runs `handler` as this server and returns what it did.
    pub fn call<S: Service, R>(
        &mut self,
        handler: impl FnOnce(&mut ServerCtx<'_, '_, S>) -> R,
    ) -> Handled<S, R> {
        let servers = self.servers;
        let mut outbox = self.take_outbox::<S>();
        let handled = self
            .node
            .call::<Cluster<S>, R>(|ctx| handler(&mut ServerCtx::new(ctx, servers, &mut outbox)));
        // With an instant disk what waited for a sync goes out after the
        // handler's own commands, as the engine would send it; with
        // `hold_syncs` it stays held until `complete_sync`.
        let released: Vec<EffectOf<S>> = if self.node.holds_syncs() {
            Vec::new()
        } else {
            outbox.release_all().map(effect_of::<S>).collect()
        };
        self.held = Some(Box::new(outbox));
        let effects = handled
            .commands
            .into_iter()
            .map(command_effect::<S>)
            .chain(released)
            .collect();
        Handled {
            result: handled.result,
            effects,
            stored: handled.stored,
            synced: handled.synced,
            syncs: handled.syncs,
        }
    }
}

/// A held message as the effect it becomes when it goes out.
fn effect_of<S: Service>(held: Held<S::Message, S::Event>) -> EffectOf<S> {
    match held {
        Held::Peer(to, message) => Effect::Send { to, message },
        Held::Reply(to, response) => Effect::Reply { to, response },
        Held::Emit(event) => Effect::Emit(event),
    }
}

/// A server's engine command as its effect.
fn command_effect<S: Service>(command: Command<Cluster<S>>) -> EffectOf<S> {
    match command {
        Command::Send {
            to,
            message: ClusterMessage::Peer(message),
        } => Effect::Send { to, message },
        Command::Send {
            to,
            message: ClusterMessage::Response(response),
        } => Effect::Reply { to, response },
        Command::SetTimer {
            id,
            after,
            timer: ClusterTimer::Server(timer),
        } => Effect::SetTimer { id, after, timer },
        Command::Output(ClusterOutput::Server(event)) => Effect::Emit(event),
        Command::Send {
            message: ClusterMessage::Request(_),
            ..
        }
        | Command::SetTimer {
            timer: ClusterTimer::Client(_),
            ..
        }
        | Command::Output(ClusterOutput::Client(_)) => {
            panic!("a server emitted a client's command")
        }
    }
}

/// True time `ms` milliseconds from the start, for hand-written event
/// sequences.
pub fn at_ms(ms: u64) -> sim_core::SimTime {
    sim_core::SimTime::from_nanos(ms * 1_000_000)
}

/// Feeds a monitor `(ms, server, event)` in order, as the runner does,
/// and returns every violation it reported, in order: how each monitor's
/// tests drive it with hand-written sequences.
pub fn feed<E, M: crate::invariant::Monitor<E>>(
    monitor: &mut M,
    events: &[(u64, u32, E)],
) -> Vec<crate::invariant::Violation> {
    events
        .iter()
        .filter_map(|(ms, node, event)| monitor.observe(at_ms(*ms), NodeId(*node), event))
        .collect()
}
