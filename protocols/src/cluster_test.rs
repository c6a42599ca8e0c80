//! The cluster's client agents, handler by handler: a client process hands
//! its attempt to its agent without a network hop, the agent speaks peer
//! messages to the servers and hears their answers, and its answer reaches
//! the process locally, which completes the operation.

use super::*;
use crate::client::{ClientReply, ClientTimer};
use crate::kv::{KvOp, KvResult};
use crate::workload::{Arrival, KeyDistribution, OpMix, TxnPattern, TxnShape};
use sim_core::history::Outcome;
use sim_core::latency::Latency;
use sim_core::protocol::Command;
use sim_core::testkit::NodeHarness;

/// A service whose agent asks server 0 to run each request, and answers
/// its process once the server says it did.
#[derive(Debug, Default)]
struct Relay {
    waiting: Option<ClientRequest>,
}

#[derive(Clone, Debug, Hash, PartialEq)]
enum RelayMessage {
    Run(u64),
    Ran(u64),
}

struct NoMonitor;

impl crate::invariant::Monitor<()> for NoMonitor {
    const INVARIANTS: &'static [&'static str] = &[];
    fn new(_servers: u32) -> Self {
        NoMonitor
    }
    fn observe(
        &mut self,
        _time: sim_core::SimTime,
        _node: NodeId,
        _event: &(),
    ) -> Option<crate::invariant::Violation> {
        None
    }
}

impl Service for Relay {
    type Message = RelayMessage;
    type Timer = ();
    type Event = ();
    type Monitor = NoMonitor;

    fn on_start(&mut self, _: &mut ServerCtx<'_, '_, Self>) {}
    fn on_message(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, from: NodeId, m: RelayMessage) {
        match m {
            RelayMessage::Run(seq) => ctx.send(from, RelayMessage::Ran(seq)),
            RelayMessage::Ran(seq) => {
                let request = self.waiting.take().expect("an answer to a question");
                assert_eq!(request.seq, seq);
                let me = ctx.id();
                ctx.reply(me, request.answer(ClientReply::Result(KvResult::Done)));
            }
        }
    }
    fn on_timer(&mut self, _: &mut ServerCtx<'_, '_, Self>, _: TimerId, _: ()) {}
    fn on_client_request(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        assert_eq!(client, ctx.id(), "an agent serves its own node's process");
        assert!(ctx.is_agent());
        ctx.send(NodeId(0), RelayMessage::Run(request.seq));
        self.waiting = Some(request);
    }
}

fn workload() -> Arc<WorkloadConfig> {
    Arc::new(WorkloadConfig {
        clients: 1,
        arrival: Arrival::Closed {
            think: Latency::Constant(SimDuration::from_millis(10)),
        },
        mix: OpMix {
            read: 0.0,
            write: 1.0,
            cas: 0.0,
            append: 0.0,
            transfer: 0.0,
            order: 0.0,
            txn: 0.0,
            audit: 0.0,
        },
        client_mixes: Default::default(),
        keys: 1,
        key_distribution: KeyDistribution::Uniform,
        attempt_timeout: SimDuration::from_millis(100),
        op_timeout: SimDuration::from_secs(1),
        backoff_base: SimDuration::from_millis(10),
        backoff_max: SimDuration::from_millis(100),
        stop_after: SimDuration::from_secs(10),
        ops_per_client_max: 10,
        transfer_amount_max: 1,
        transactions: TxnShape {
            lists: false,
            mops_max: 1,
            read_share: 0.0,
            pattern: TxnPattern::Random,
        },
    })
}

/// One server (node 0) and one client (node 1) whose agent is a `Relay`.
fn client_node() -> (Cluster<Relay>, NodeHarness) {
    let mut factory = Cluster::factory(
        1,
        |_| Relay::default(),
        Some(Box::new(|_| Relay::default())),
        workload(),
        ClientRouting::to_leader(),
    );
    (factory(NodeId(1)), NodeHarness::new(NodeId(1), 2, 7))
}

#[test]
fn an_attempt_goes_to_the_agent_and_its_answer_back_without_a_network_hop() {
    let (mut node, mut harness) = client_node();
    assert!(node.as_agent().is_some() && node.as_server().is_none());
    harness.call::<Cluster<Relay>, _>(|ctx| node.on_start(ctx));
    // The process issues: its attempt goes to the agent in the same
    // handler, and what leaves the node is the agent's question to n1.
    let issued = harness.call::<Cluster<Relay>, _>(|ctx| {
        node.on_timer(ctx, TimerId(0), ClusterTimer::Client(ClientTimer::Issue))
    });
    let sent: Vec<_> = (issued.commands.iter())
        .filter_map(|c| match c {
            Command::Send { to, message } => Some((*to, message.clone())),
            _ => None,
        })
        .collect();
    assert!(
        matches!(
            sent.as_slice(),
            [(NodeId(0), ClusterMessage::Peer(RelayMessage::Run(1)))]
        ),
        "{sent:?}"
    );
    assert!(issued.commands.iter().any(|c| matches!(
        c,
        Command::Output(ClusterOutput::Client(ClientEvent::Invoke {
            op: KvOp::Put { .. },
            ..
        }))
    )));
    // The server's answer reaches the agent, which answers its process:
    // the operation completes, and nothing goes on the wire.
    let answered = harness.call::<Cluster<Relay>, _>(|ctx| {
        node.on_message(ctx, NodeId(0), ClusterMessage::Peer(RelayMessage::Ran(1)))
    });
    assert!(!answered
        .commands
        .iter()
        .any(|c| matches!(c, Command::Send { .. })));
    assert!(answered.commands.iter().any(|c| matches!(
        c,
        Command::Output(ClusterOutput::Client(ClientEvent::Complete {
            outcome: Outcome::Ok,
            result: Some(KvResult::Done),
            ..
        }))
    )));
}

#[test]
fn a_server_may_message_agents_only_where_clients_run_them() {
    let mut with_agents = Cluster::factory(
        1,
        |_| Relay::default(),
        Some(Box::new(|_| Relay::default())),
        workload(),
        ClientRouting::to_leader(),
    );
    let mut server = with_agents(NodeId(0));
    let mut harness = NodeHarness::new(NodeId(0), 2, 7);
    let ran = harness.call::<Cluster<Relay>, _>(|ctx| {
        server.on_message(ctx, NodeId(1), ClusterMessage::Peer(RelayMessage::Run(4)))
    });
    assert!(matches!(
        ran.commands.as_slice(),
        [Command::Send {
            to: NodeId(1),
            message: ClusterMessage::Peer(RelayMessage::Ran(4))
        }]
    ));
    let mut without = Cluster::factory(
        1,
        |_| Relay::default(),
        None,
        workload(),
        ClientRouting::to_leader(),
    );
    let mut server = without(NodeId(0));
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        harness.call::<Cluster<Relay>, _>(|ctx| {
            server.on_message(ctx, NodeId(1), ClusterMessage::Peer(RelayMessage::Run(5)))
        })
    }));
    assert!(
        refused.is_err(),
        "without agents a server may send a client no peer message"
    );
}
