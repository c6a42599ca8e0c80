//! Ping-pong: every node keeps exactly one ping outstanding to a random peer.
//!
//! This is the engine's benchmark workload and the simplest example protocol.
//! A node pings a peer chosen uniformly at random among the others; the peer
//! answers with a pong; on the pong the node sends its next ping. With no
//! faults, the number of messages in flight equals the number of nodes.

use crate::plugin::{Capabilities, Clients, Invalid, Plugin, Setup};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sim_core::{Context, NodeId, Protocol, TimerId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PingPongMessage {
    Ping,
    Pong,
}

#[derive(Debug, Default)]
pub struct PingPong {
    /// Pongs received by this incarnation.
    pub pongs: u64,
}

impl PingPong {
    fn ping_random_peer(ctx: &mut Context<'_, Self>) {
        let (me, count) = (ctx.id(), ctx.node_count());
        if let Some(peer) = random_peer(me, count, ctx.rng()) {
            ctx.send(peer, PingPongMessage::Ping);
        }
    }
}

/// A node other than `me` among `0..count`, uniformly; `None` when alone.
#[inline]
fn random_peer(me: NodeId, count: u32, rng: &mut impl Rng) -> Option<NodeId> {
    let others = count.checked_sub(1).filter(|n| *n > 0)?;
    let draw = rng.random_range(0..others);
    // Skip over ourselves so the choice is uniform among the others.
    Some(NodeId(if draw >= me.0 { draw + 1 } else { draw }))
}

impl Protocol for PingPong {
    type Message = PingPongMessage;
    type Timer = ();
    type Request = ();
    type Output = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        Self::ping_random_peer(ctx);
    }

    #[inline]
    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, message: PingPongMessage) {
        match message {
            PingPongMessage::Ping => ctx.send(from, PingPongMessage::Pong),
            PingPongMessage::Pong => {
                self.pongs += 1;
                Self::ping_random_peer(ctx);
            }
        }
    }

    fn on_timer(&mut self, _ctx: &mut Context<'_, Self>, _id: TimerId, _timer: ()) {
        unreachable!("pingpong sets no timers")
    }
}

/// Ping-pong as a cluster service, for scenario files: the same behaviour
/// among the servers. It serves no clients.
#[derive(Debug, Default)]
pub struct PingPongService {
    pub pongs: u64,
    /// Bug switch: each pong panics the handler with this probability.
    pub panic_probability: f64,
    /// Bug switch: pick the peer from state shared by the whole process
    /// instead of the node's stream, breaking invariant 2 (determinism) on
    /// purpose, so `run --check-determinism` has something to catch.
    pub peer_from_process_state: bool,
}

/// Process-wide state: what a protocol must never read. A second run of
/// the same seed in the same process finds it changed.
static PROCESS_PINGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl PingPongService {
    fn ping_random_peer(&self, ctx: &mut crate::cluster::ServerCtx<'_, '_, Self>) {
        let (me, count) = (ctx.id(), ctx.server_count());
        let peer = if self.peer_from_process_state && count > 1 {
            let n = PROCESS_PINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // Hashed, not `n % (count - 1)`: a plain remainder repeats, so
            // two runs whose ping counts happened to line up modulo the
            // peer count made the same choices and looked deterministic
            // (a second run in the process, after a report's replay, did).
            let offset = 1 + (sim_core::hash::finalize(n) % u64::from(count - 1)) as u32;
            Some(NodeId((me.0 + offset) % count))
        } else {
            random_peer(me, count, ctx.rng())
        };
        if let Some(peer) = peer {
            ctx.send(peer, PingPongMessage::Ping);
        }
    }
}

impl crate::cluster::Service for PingPongService {
    type Message = PingPongMessage;
    type Timer = ();
    type Event = ();
    type Monitor = crate::invariant::NoInvariants;

    fn on_start(&mut self, ctx: &mut crate::cluster::ServerCtx<'_, '_, Self>) {
        self.ping_random_peer(ctx);
    }

    fn on_message(
        &mut self,
        ctx: &mut crate::cluster::ServerCtx<'_, '_, Self>,
        from: NodeId,
        message: PingPongMessage,
    ) {
        match message {
            PingPongMessage::Ping => ctx.send(from, PingPongMessage::Pong),
            PingPongMessage::Pong => {
                self.pongs += 1;
                if self.panic_probability > 0.0 && ctx.rng().random_bool(self.panic_probability) {
                    panic!(
                        "pingpong bug switch: panic on pong {} at node {}",
                        self.pongs,
                        ctx.id()
                    );
                }
                self.ping_random_peer(ctx);
            }
        }
    }

    fn on_timer(
        &mut self,
        _ctx: &mut crate::cluster::ServerCtx<'_, '_, Self>,
        _id: TimerId,
        _timer: (),
    ) {
        unreachable!("pingpong sets no timers")
    }
}

/// PingPong's params, as a scenario writes them: `protocol: PingPong()`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PingPongParams {
    /// BUG SWITCH: each pong panics the handler with this probability, to
    /// show how a sweep reports a crashing protocol.
    pub panic_probability: f64,
    /// BUG SWITCH: pick peers from process-wide state, so two runs of one
    /// seed differ (caught by --check-determinism).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub peer_from_process_state: bool,
}

/// PingPong on the plug-in boundary.
pub struct PingPongPlugin;

impl Plugin for PingPongPlugin {
    const NAME: &'static str = "PingPong";
    const SUMMARY: &'static str = "servers keep one ping outstanding to a random peer; no clients";
    const CAPABILITIES: Capabilities = Capabilities::serving(Clients::None);
    type Params = PingPongParams;
    type Service = PingPongService;

    fn validate(params: &PingPongParams, _: &Setup) -> Result<(), Invalid> {
        let p = params.panic_probability;
        if (0.0..=1.0).contains(&p) {
            Ok(())
        } else {
            Err(Invalid::from_text(&format!(
                "panic_probability: must be a probability in [0, 1], got {p}"
            )))
        }
    }

    fn servers(params: &PingPongParams, _: &Setup) -> Box<dyn FnMut(NodeId) -> PingPongService> {
        let params = params.clone();
        Box::new(move |_| PingPongService {
            pongs: 0,
            panic_probability: params.panic_probability,
            peer_from_process_state: params.peer_from_process_state,
        })
    }
}

#[cfg(test)]
#[path = "pingpong_test.rs"]
mod tests;
