//! A cluster of servers running one `Service`, plus the client processes that
//! drive it, as one engine `Protocol`.
//!
//! Node ids `0..servers` are servers; the rest are clients. A service sees
//! only its servers (its peers) through `ServerCtx`, which wraps the engine's
//! context, tags its messages and timers, and routes replies to clients. This
//! is how every key-value protocol shares the client machinery instead of
//! copying it.
//!
//! A service may also run at each client node, as its *agent* (a smart
//! client: TxnStore's client-side coordinator). The client process then
//! hands each attempt to its agent locally, and the agent answers locally;
//! to the servers the agent speaks the service's peer messages, as a
//! server would, and the servers answer it so. Without agents (every other
//! protocol) nothing of this runs.

use crate::client::{
    ClientEvent, ClientProcess, ClientRequest, ClientResponse, ClientRouting, ClientTimer,
    ClientWire,
};
use crate::durable_outbox::{DurableOutbox, Held};
use crate::workload::WorkloadConfig;
use sim_core::node_stream::NodeStream;
use sim_core::storage::DurableStorage;
use sim_core::{Context, LocalTime, NodeId, Protocol, SimDuration, SyncId, TimerId};
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

/// A server-side protocol. Like `Protocol`, but its world is the servers.
pub trait Service: Sized + 'static {
    type Message: Clone + Debug + Hash;
    type Timer: Clone + Debug + Hash;
    /// Protocol events reported for invariant monitors and metrics.
    type Event: Debug;
    /// Checks this protocol's invariants from its events as the run goes.
    type Monitor: crate::invariant::Monitor<Self::Event>;

    fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>);
    /// After a restart; volatile state is fresh, durable state survived.
    fn on_recover(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.on_start(ctx);
    }
    fn on_message(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        message: Self::Message,
    );
    fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, id: TimerId, timer: Self::Timer);
    /// A sync this server asked for has completed (after the messages it
    /// held for that sync went out). The default ignores it.
    fn on_synced(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, id: SyncId) {
        let _ = (ctx, id);
    }
    /// A client's request. Answer with `ctx.reply` (now or later), or not
    /// at all. By default it is refused as unavailable: a protocol without
    /// clients (an election, the lock, whose clients are its own nodes)
    /// gets none from the loader, and a library user who adds some sees a
    /// refusal rather than silence.
    fn on_client_request(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        ctx.reply(
            client,
            request.answer(crate::client::ClientReply::Unavailable),
        );
    }
    /// The term this server leads, if it believes it is the leader; the
    /// runner binds a fault's "@leader" to the one with the highest term.
    fn leader_term(&self) -> Option<u64> {
        None
    }
    /// The key-value data this server holds as a replica, for the
    /// convergence check at the end of a run; `None` if it holds none.
    fn replica_data(&self) -> Option<&std::collections::BTreeMap<String, String>> {
        None
    }
    /// A count that grows while this server's replica is being brought up
    /// to date (a log's end and applied index): the `eventual` check
    /// judges only replicas whose data and progress both stood still
    /// before the end, since a follower catching up on reads and no-ops
    /// changes no data for a while. 0: only the data tells.
    fn repair_progress(&self) -> u64 {
        0
    }
    /// How long the network must have been whole and quiet before the
    /// end for this protocol's repair to have made the replicas agree (the
    /// `eventual` check asks for at least 200 ms whatever this says).
    fn convergence_quiet(&self) -> sim_core::SimDuration {
        sim_core::SimDuration::ZERO
    }
    /// Whether this server is meant to hold `key`, so that the convergence
    /// check compares it on that key; every server by default. A store that
    /// places keys on some servers only says which.
    fn holds_key(&self, key: &str) -> bool {
        let _ = key;
        true
    }
    /// Heap memory this server's state holds (logs, maps, per-peer tables),
    /// for the run's memory budget: an estimate that reads no allocator.
    /// Keep it O(1) or O(peers): the engine asks at every memory audit.
    fn state_heap_bytes(&self) -> usize {
        0
    }
    /// Heap memory a peer message holds beyond its inline size.
    fn message_heap_bytes(message: &Self::Message) -> usize {
        let _ = message;
        0
    }

    /// The names of its peer messages' kinds, so that a scenario's link
    /// may give one its own latency (`network.default.kinds`).
    const MESSAGE_KINDS: &'static [&'static str] = &[];

    /// The kind of a peer message: an index into `MESSAGE_KINDS`.
    fn message_kind(message: &Self::Message) -> usize {
        let _ = message;
        usize::MAX
    }
}

/// The kinds of the messages between clients and servers; a service's own
/// kinds follow them (`Service::MESSAGE_KINDS`).
pub const CLIENT_MESSAGE_KINDS: [&str; 2] = ["Request", "Response"];

/// Messages on the wire: between servers, or between a client and a server.
#[derive(Clone, Debug, Hash)]
pub enum ClusterMessage<M> {
    Peer(M),
    Request(ClientRequest),
    Response(ClientResponse),
}

#[derive(Clone, Debug, Hash)]
pub enum ClusterTimer<T> {
    Server(T),
    Client(ClientTimer),
}

#[derive(Debug)]
pub enum ClusterOutput<E> {
    Server(E),
    Client(ClientEvent),
}

/// One node: a server or a client.
///
/// Why the variants are not boxed (clippy's `large_enum_variant` judges
/// the generic `S` at its smallest): a real service's state is as large as
/// a client's or larger, the engine keeps every node in one slot vector,
/// and a box would cost an indirection on every event of the boxed kind.
#[allow(clippy::large_enum_variant)]
pub enum Cluster<S: Service> {
    /// `servers` is how many servers the cluster has: ids `0..servers`.
    Server {
        servers: u32,
        service: S,
        /// Messages waiting for a sync (`durable_outbox.rs`).
        outbox: DurableOutbox<S::Message, S::Event>,
        /// Whether clients run agents, which servers may then message.
        agents: bool,
    },
    Client {
        process: ClientProcess,
        agent: Option<Box<Agent<S>>>,
    },
}

/// A service instance at a client node, working for its client process.
pub struct Agent<S: Service> {
    servers: u32,
    service: S,
    outbox: DurableOutbox<S::Message, S::Event>,
    /// Answers to the node's own process, handed over after each handler.
    answers: Vec<ClientResponse>,
}

/// Handler calls between a client process and its agent in one event, at
/// most: each is one step of an operation, so a loop without end would be
/// a bug.
const LOCAL_HANDOFFS_MAX: usize = 1_000;

/// What makes each client node's agent, for a service that runs one.
pub type MakeAgent<S> = Box<dyn FnMut(NodeId) -> S>;

impl<S: Service> Cluster<S> {
    /// A factory for the engine: `servers` servers made by `make_server`, then
    /// `workload.clients` clients, which address servers as `routing` says.
    /// With `make_agent`, every client node runs an agent too, and its
    /// process hands its attempts to it (`ClientRouting::local_agent`).
    pub fn factory(
        servers: u32,
        mut make_server: impl FnMut(NodeId) -> S + 'static,
        mut make_agent: Option<MakeAgent<S>>,
        workload: Arc<WorkloadConfig>,
        routing: ClientRouting,
    ) -> impl FnMut(NodeId) -> Cluster<S> + 'static {
        let agents = make_agent.is_some();
        let routing = if agents {
            routing.with_local_agent()
        } else {
            routing
        };
        move |node| {
            if node.0 < servers {
                Cluster::Server {
                    servers,
                    service: make_server(node),
                    outbox: DurableOutbox::default(),
                    agents,
                }
            } else {
                let agent = make_agent.as_mut().map(|make| {
                    Box::new(Agent {
                        servers,
                        service: make(node),
                        outbox: DurableOutbox::default(),
                        answers: Vec::new(),
                    })
                });
                Cluster::Client {
                    process: ClientProcess::new(
                        (node.0 - servers) as u64,
                        servers,
                        workload.clone(),
                        routing,
                    ),
                    agent,
                }
            }
        }
    }

    fn role(&self) -> &'static str {
        match self {
            Cluster::Server { .. } => "server",
            Cluster::Client { agent: None, .. } => "client",
            Cluster::Client { agent: Some(_), .. } => "client with an agent",
        }
    }

    pub fn as_server(&self) -> Option<&S> {
        match self {
            Cluster::Server { service, .. } => Some(service),
            Cluster::Client { .. } => None,
        }
    }

    /// Calls `handler` with this node's service, a server's or an agent's,
    /// and its window on the world; at an agent, then hands work between
    /// it and its process. A client node without an agent has no service:
    /// nothing is called.
    fn with_service(
        &mut self,
        ctx: &mut Context<'_, Self>,
        handler: impl FnOnce(&mut S, &mut ServerCtx<'_, '_, S>),
    ) {
        match self {
            Cluster::Server {
                servers,
                service,
                outbox,
                agents,
            } => handler(
                service,
                &mut ServerCtx::with_agents(ctx, *servers, outbox, *agents),
            ),
            Cluster::Client {
                process,
                agent: Some(agent),
            } => {
                agent.call(ctx, handler);
                hand_over(ctx, process, agent);
            }
            Cluster::Client { agent: None, .. } => {}
        }
    }

    /// Panics unless this node runs a service: `what` reached it.
    fn expect_service(&self, what: &str) {
        assert!(
            !matches!(self, Cluster::Client { agent: None, .. }),
            "misrouted {what} to a {}",
            self.role()
        );
    }

    /// The agent's service, at a client node that runs one.
    pub fn as_agent(&self) -> Option<&S> {
        match self {
            Cluster::Client {
                agent: Some(agent), ..
            } => Some(&agent.service),
            _ => None,
        }
    }
}

impl<S: Service> Agent<S> {
    /// Calls `handler` with the agent's service and its window on the world.
    fn call<R>(
        &mut self,
        ctx: &mut Context<'_, Cluster<S>>,
        handler: impl FnOnce(&mut S, &mut ServerCtx<'_, '_, S>) -> R,
    ) -> R {
        let Agent {
            servers,
            service,
            outbox,
            answers,
        } = self;
        let mut window = ServerCtx {
            inner: ctx,
            servers: *servers,
            outbox,
            agents: true,
            answers: Some(answers),
        };
        handler(service, &mut window)
    }
}

/// Hands attempts from a client process to its agent and answers back,
/// until neither has anything for the other.
fn hand_over<S: Service>(
    ctx: &mut Context<'_, Cluster<S>>,
    process: &mut ClientProcess,
    agent: &mut Agent<S>,
) {
    let me = ctx.id();
    for _ in 0..LOCAL_HANDOFFS_MAX {
        if let Some(request) = process.take_local_request() {
            agent.call(ctx, |service, c| service.on_client_request(c, me, request));
        } else if !agent.answers.is_empty() {
            for response in std::mem::take(&mut agent.answers) {
                process.on_response(ctx, me, response);
            }
        } else {
            return;
        }
    }
    panic!("{me}'s client process and agent hand work over without end");
}

impl<S: Service> Protocol for Cluster<S> {
    type Message = ClusterMessage<S::Message>;
    type Timer = ClusterTimer<S::Timer>;
    type Request = ();
    type Output = ClusterOutput<S::Event>;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        self.with_service(ctx, |service, c| service.on_start(c));
        if let Cluster::Client { process, .. } = self {
            process.on_start(ctx);
        }
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        self.with_service(ctx, |service, c| service.on_recover(c));
        if let Cluster::Client { process, .. } = self {
            process.on_start(ctx);
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, message: Self::Message) {
        match message {
            ClusterMessage::Peer(message) => {
                self.expect_service("a peer message");
                self.with_service(ctx, |service, c| service.on_message(c, from, message));
            }
            ClusterMessage::Request(request) => {
                assert!(
                    matches!(self, Cluster::Server { .. }),
                    "misrouted client request {request:?} to a {}",
                    self.role()
                );
                self.with_service(ctx, |service, c| {
                    service.on_client_request(c, from, request)
                });
            }
            ClusterMessage::Response(response) => match self {
                Cluster::Client { process, agent } => {
                    process.on_response(ctx, from, response);
                    debug_assert!(agent.is_none(), "an agent's process hears no server");
                }
                Cluster::Server { .. } => panic!("misrouted response {response:?} to a server"),
            },
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, id: TimerId, timer: Self::Timer) {
        match timer {
            ClusterTimer::Server(timer) => {
                self.expect_service("a service timer");
                self.with_service(ctx, |service, c| service.on_timer(c, id, timer));
            }
            ClusterTimer::Client(timer) => match self {
                Cluster::Client { process, agent } => {
                    process.on_timer(ctx, timer);
                    if let Some(agent) = agent {
                        hand_over(ctx, process, agent);
                    }
                }
                Cluster::Server { .. } => panic!("misrouted client timer {timer:?} to a server"),
            },
        }
    }

    fn on_synced(&mut self, ctx: &mut Context<'_, Self>, id: SyncId) {
        match self {
            Cluster::Server { outbox, .. } => release_held(ctx, outbox, id, None),
            Cluster::Client {
                agent: Some(agent), ..
            } => release_held(ctx, &mut agent.outbox, id, Some(&mut agent.answers)),
            Cluster::Client { agent: None, .. } => return,
        }
        self.with_service(ctx, |service, c| service.on_synced(c, id));
    }

    const COUNTS_STATE: bool = true;

    fn state_heap_bytes(&self) -> usize {
        match self {
            Cluster::Server {
                service, outbox, ..
            } => service.state_heap_bytes() + outbox.heap_bytes(),
            Cluster::Client { process, agent } => {
                process.heap_bytes()
                    + agent
                        .as_ref()
                        .map_or(0, |a| a.service.state_heap_bytes() + a.outbox.heap_bytes())
            }
        }
    }

    fn message_heap_bytes(message: &Self::Message) -> usize {
        match message {
            ClusterMessage::Peer(message) => S::message_heap_bytes(message),
            ClusterMessage::Request(request) => request.op.heap_bytes(),
            ClusterMessage::Response(response) => response.reply.heap_bytes(),
        }
    }

    fn message_kinds() -> Vec<&'static str> {
        CLIENT_MESSAGE_KINDS
            .iter()
            .chain(S::MESSAGE_KINDS)
            .copied()
            .collect()
    }

    #[inline]
    fn message_kind(message: &Self::Message) -> usize {
        match message {
            ClusterMessage::Request(_) => 0,
            ClusterMessage::Response(_) => 1,
            ClusterMessage::Peer(message) => {
                S::message_kind(message).saturating_add(CLIENT_MESSAGE_KINDS.len())
            }
        }
    }
}

impl<S: Service> ClientWire for Cluster<S> {
    fn request_message(request: ClientRequest) -> Self::Message {
        ClusterMessage::Request(request)
    }
    fn client_timer(timer: ClientTimer) -> Self::Timer {
        ClusterTimer::Client(timer)
    }
    fn client_output(event: ClientEvent) -> Self::Output {
        ClusterOutput::Client(event)
    }
}

/// Sends what waited for sync `id`; at an agent, its answers to its own
/// process go to `answers`.
fn release_held<S: Service>(
    ctx: &mut Context<'_, Cluster<S>>,
    outbox: &mut DurableOutbox<S::Message, S::Event>,
    id: SyncId,
    mut answers: Option<&mut Vec<ClientResponse>>,
) {
    let me = ctx.id();
    for held in outbox.release(id) {
        match held {
            Held::Peer(to, message) => ctx.send(to, ClusterMessage::Peer(message)),
            Held::Reply(client, response) => match answers.as_deref_mut() {
                Some(answers) if client == me => answers.push(response),
                _ => ctx.send(client, ClusterMessage::Response(response)),
            },
            Held::Emit(event) => ctx.output(ClusterOutput::Server(event)),
        }
    }
}

/// A server's window on the world: the engine context, restricted to
/// servers (and to client nodes' agents, where clients run them). An
/// agent sees the world through one too.
pub struct ServerCtx<'c, 'a, S: Service> {
    inner: &'c mut Context<'a, Cluster<S>>,
    servers: u32,
    outbox: &'c mut DurableOutbox<S::Message, S::Event>,
    /// Whether client nodes run agents, which may then be sent peer messages.
    agents: bool,
    /// At an agent: answers to its own client process.
    answers: Option<&'c mut Vec<ClientResponse>>,
}

impl<'c, 'a, S: Service> ServerCtx<'c, 'a, S> {
    pub(crate) fn new(
        inner: &'c mut Context<'a, Cluster<S>>,
        servers: u32,
        outbox: &'c mut DurableOutbox<S::Message, S::Event>,
    ) -> Self {
        Self::with_agents(inner, servers, outbox, false)
    }

    pub(crate) fn with_agents(
        inner: &'c mut Context<'a, Cluster<S>>,
        servers: u32,
        outbox: &'c mut DurableOutbox<S::Message, S::Event>,
        agents: bool,
    ) -> Self {
        debug_assert!(servers <= inner.node_count() && inner.id().0 < servers);
        ServerCtx {
            inner,
            servers,
            outbox,
            agents,
            answers: None,
        }
    }
    pub fn id(&self) -> NodeId {
        self.inner.id()
    }
    /// Whether this is a client node's agent rather than a server.
    pub fn is_agent(&self) -> bool {
        self.answers.is_some()
    }
    /// The client nodes that run agents, in id order (none where clients
    /// run none).
    pub fn agents(&self) -> impl Iterator<Item = NodeId> + 'static {
        let end = if self.agents {
            self.inner.node_count()
        } else {
            self.servers
        };
        (self.servers..end).map(NodeId)
    }
    /// Whether `to` may be sent a peer message: a server, or an agent.
    fn reaches(&self, to: NodeId) -> bool {
        to.0 < self.servers || (self.agents && to.0 < self.inner.node_count())
    }
    /// How many servers there are; their ids are `0..server_count`.
    pub fn server_count(&self) -> u32 {
        self.servers
    }
    /// Every other server, in id order.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + 'static {
        let me = self.id();
        (0..self.servers).map(NodeId).filter(move |n| *n != me)
    }
    /// Sends a copy of `message` to every other server.
    pub fn broadcast(&mut self, message: S::Message) {
        for peer in self.peers() {
            self.send(peer, message.clone());
        }
    }
    pub fn now(&self) -> LocalTime {
        self.inner.now()
    }
    pub fn rng(&mut self) -> &mut NodeStream<'a> {
        self.inner.rng()
    }
    pub fn storage(&mut self) -> &mut DurableStorage {
        self.inner.storage()
    }
    pub fn send(&mut self, to: NodeId, message: S::Message) {
        assert!(
            self.reaches(to),
            "server {} sent a peer message to non-server {to}",
            self.id()
        );
        debug_assert!(
            to != self.id() || !self.is_agent(),
            "an agent sends itself nothing"
        );
        self.inner.send(to, ClusterMessage::Peer(message));
    }
    pub fn set_timer(&mut self, after: SimDuration, timer: S::Timer) -> TimerId {
        self.inner.set_timer(after, ClusterTimer::Server(timer))
    }
    pub fn cancel_timer(&mut self, id: TimerId) {
        self.inner.cancel_timer(id);
    }
    /// Cancels the timer held in `slot`, if any, and empties the slot.
    pub fn cancel_timer_in(&mut self, slot: &mut Option<TimerId>) {
        if let Some(id) = slot.take() {
            self.inner.cancel_timer(id);
        }
    }
    /// Answers a client (at an agent, its own process, locally).
    pub fn reply(&mut self, client: NodeId, response: ClientResponse) {
        let me = self.id();
        match self.answers.as_deref_mut() {
            Some(answers) if client == me => answers.push(response),
            _ => self.inner.send(client, ClusterMessage::Response(response)),
        }
    }
    /// Sends `message` once every sync asked for so far has completed: at
    /// once when none is in flight, else when the latest one (or the
    /// grouped one waiting to be issued) completes. Write, call
    /// `storage().sync()` or `storage().sync_grouped()`, then this: a
    /// write made after the last sync is not waited for.
    pub fn send_when_durable(&mut self, to: NodeId, message: S::Message) {
        assert!(
            self.reaches(to),
            "server {} sent a peer message to non-server {to}",
            self.id()
        );
        match self.awaited_sync() {
            Some(sync) => {
                let heap = S::message_heap_bytes(&message);
                self.outbox.hold(sync, Held::Peer(to, message), heap)
            }
            None => self.send(to, message),
        }
    }

    /// Answers a client once every write so far is durable (see
    /// `send_when_durable`).
    pub fn reply_when_durable(&mut self, client: NodeId, response: ClientResponse) {
        match self.awaited_sync() {
            Some(sync) => {
                let heap = response.reply.heap_bytes();
                self.outbox.hold(sync, Held::Reply(client, response), heap)
            }
            None => self.reply(client, response),
        }
    }

    /// Reports an event that describes a durable effect once every write so
    /// far is durable (see `send_when_durable`), so that a monitor never
    /// counts an effect a power loss took back.
    pub fn emit_when_durable(&mut self, event: S::Event) {
        match self.awaited_sync() {
            Some(sync) => self.outbox.hold(sync, Held::Emit(event), 0),
            None => self.emit(event),
        }
    }

    /// The sync a message that depends on every write so far waits for.
    fn awaited_sync(&mut self) -> Option<SyncId> {
        self.inner.storage().durable_point()
    }

    /// Reports a protocol event to monitors.
    pub fn emit(&mut self, event: S::Event) {
        self.inner.output(ClusterOutput::Server(event));
    }
}

#[cfg(test)]
#[path = "cluster_test.rs"]
mod tests;
