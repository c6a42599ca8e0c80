//! `Chatter`: a small protocol that keeps traffic, timers and storage busy.
//!
//! Every node ticks on a timer of random local length; on a tick it sends a
//! message to a random peer, and writes its receive count to durable storage,
//! syncing every other tick. A message may be answered, up to a few hops.
//! It records what it saw so tests can check the engine's promises.

use crate::ids::{NodeId, TimerId};
use crate::protocol::{Context, Protocol};
use crate::time::{LocalTime, SimDuration};
use rand::Rng;

/// At most this many observations are kept per node.
const OBSERVATIONS_MAX: usize = 10_000;
/// Replies stop after this many hops.
const HOPS_MAX: u32 = 3;

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct ChatMessage {
    pub hop: u32,
    pub payload: u64,
}

#[derive(Clone, Debug, Hash)]
pub enum ChatTimer {
    Tick,
}

#[derive(Debug, Default)]
pub struct Chatter {
    /// Volatile: messages received since this incarnation began.
    pub received: u64,
    /// The durable count recovered at the last restart (None at first start).
    pub recovered_count: Option<u64>,
    /// Local clock readings at each timer firing.
    pub timer_readings: Vec<LocalTime>,
    pub ticks: u64,
    pub tick_ms_max: u64,
}

impl Chatter {
    pub fn new(tick_ms_max: u64) -> Self {
        Chatter {
            tick_ms_max: tick_ms_max.max(1),
            ..Default::default()
        }
    }

    fn arm(&mut self, ctx: &mut Context<'_, Self>) -> TimerId {
        let after = SimDuration::from_millis(ctx.rng().random_range(1..=self.tick_ms_max));
        ctx.set_timer(after, ChatTimer::Tick)
    }

    fn durable_count(ctx: &mut Context<'_, Self>) -> u64 {
        ctx.storage().get("count").map_or(0, |bytes| {
            let mut word = [0u8; 8];
            word.copy_from_slice(bytes);
            u64::from_le_bytes(word)
        })
    }
}

impl Protocol for Chatter {
    type Message = ChatMessage;
    type Timer = ChatTimer;
    type Request = u64;
    type Output = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        self.arm(ctx);
    }

    fn on_recover(&mut self, ctx: &mut Context<'_, Self>) {
        self.recovered_count = Some(Self::durable_count(ctx));
        self.arm(ctx);
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, message: ChatMessage) {
        self.received += 1;
        if message.hop < HOPS_MAX && ctx.rng().random_bool(0.5) {
            ctx.send(
                from,
                ChatMessage {
                    hop: message.hop + 1,
                    payload: message.payload.wrapping_mul(31),
                },
            );
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _id: TimerId, _timer: ChatTimer) {
        self.ticks += 1;
        if self.timer_readings.len() < OBSERVATIONS_MAX {
            self.timer_readings.push(ctx.now());
        }
        if ctx.node_count() > 1 {
            let others = ctx.node_count() - 1;
            let mut peer = NodeId(ctx.rng().random_range(0..others));
            if peer >= ctx.id() {
                peer = NodeId(peer.0 + 1);
            }
            let payload = ctx.rng().random();
            ctx.send(peer, ChatMessage { hop: 0, payload });
        }
        let count = Self::durable_count(ctx) + self.received;
        ctx.storage().put("count", count.to_le_bytes().to_vec());
        if self.ticks.is_multiple_of(2) {
            ctx.storage().sync();
        }
        self.received = 0;
        self.arm(ctx);
    }

    fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: u64) {
        ctx.broadcast(ChatMessage {
            hop: HOPS_MAX,
            payload: request,
        });
    }
}
