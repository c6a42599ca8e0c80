//! A protocol written in a user's own crate: a leaderless key-value store
//! whose servers take writes locally, stamp them with their own clock
//! (last writer wins), and gossip them to every peer. Reads are served
//! from the local copy.
//!
//! It is here to show the plug-in path end to end. `GossipPlugin`
//! implements `protocols::plugin::Plugin`; `scenarios::register` makes
//! `protocol: GossipRegister(...)` a name scenario files can use; then
//! `scenarios::load_str`, `resolve` and `run` work as for the built-in
//! protocols, history checks and convergence included.
//!
//! What it promises: once writes stop and the network heals, every live
//! server holds the same data (the `eventual` check). It does not promise
//! linearizability: a read at one server may miss a write another server
//! acknowledged a moment ago, and skewed clocks decide which of two
//! concurrent writes wins. The bug switch `drop_gossip` keeps every write
//! on the server that took it, which the `eventual` check catches.

use protocols::client::{ClientReply, ClientRequest};
use protocols::cluster::{ServerCtx, Service};
use protocols::invariant::NoInvariants;
use protocols::kv::{KvOp, KvResult};
use protocols::plugin::{Capabilities, Clients, Invalid, Plugin, Setup};
use serde::{Deserialize, Serialize};
use sim_core::{Dur, NodeId, SimDuration, TimerId};
use std::collections::BTreeMap;

/// The params, as a scenario writes them: `protocol: GossipRegister()`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct GossipParams {
    /// How often each server resends every write it has to every peer
    /// (anti-entropy, so that writes lost to faults still spread).
    pub resend_interval: Dur,
    /// BUG SWITCH: never gossip; each write stays on the server that took it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub drop_gossip: bool,
}

impl Default for GossipParams {
    fn default() -> Self {
        GossipParams {
            resend_interval: Dur::ms(200),
            drop_gossip: false,
        }
    }
}

/// A write's version: the writer's clock, then its id to break ties.
type Version = (u64, u32);

#[derive(Clone, Debug, Hash)]
pub enum GossipMessage {
    Write {
        key: String,
        value: String,
        version: Version,
    },
}

#[derive(Clone, Debug, Hash)]
pub enum GossipTimer {
    Resend,
}

/// The storage key of a server's data.
const DATA_KEY: &str = "gossip/data";

pub struct GossipRegister {
    params: GossipParams,
    /// Key -> (value, version); what `replica_data` shows.
    versions: BTreeMap<String, (String, Version)>,
    data: BTreeMap<String, String>,
}

impl GossipRegister {
    pub fn new(params: GossipParams) -> Self {
        GossipRegister {
            params,
            versions: BTreeMap::new(),
            data: BTreeMap::new(),
        }
    }

    /// Takes a write if it is newer than what the key holds; true if taken.
    fn merge(&mut self, key: &str, value: &str, version: Version) -> bool {
        if self
            .versions
            .get(key)
            .is_some_and(|(_, held)| *held >= version)
        {
            return false;
        }
        self.versions
            .insert(key.to_string(), (value.to_string(), version));
        self.data.insert(key.to_string(), value.to_string());
        true
    }

    /// Writes the data to storage and syncs, one line per key (the
    /// workload's keys and values hold no tabs or newlines).
    fn persist(&self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let mut text = String::new();
        for (key, (value, (time, node))) in &self.versions {
            text.push_str(&format!("{key}\t{value}\t{time}\t{node}\n"));
        }
        ctx.storage().put(DATA_KEY, text.into_bytes());
        ctx.storage().sync();
    }

    fn gossip(&self, ctx: &mut ServerCtx<'_, '_, Self>, key: &str) {
        if self.params.drop_gossip {
            return;
        }
        if let Some((value, version)) = self.versions.get(key) {
            ctx.broadcast(GossipMessage::Write {
                key: key.to_string(),
                value: value.clone(),
                version: *version,
            });
        }
    }
}

impl Service for GossipRegister {
    type Message = GossipMessage;
    type Timer = GossipTimer;
    type Event = ();
    type Monitor = NoInvariants;

    fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        if let Some(bytes) = ctx.storage().get(DATA_KEY) {
            let text = String::from_utf8_lossy(bytes).into_owned();
            for line in text.lines() {
                let parts: Vec<&str> = line.split('\t').collect();
                if let [key, value, time, node] = parts[..] {
                    let version = (time.parse().unwrap_or(0), node.parse().unwrap_or(0));
                    self.merge(key, value, version);
                }
            }
        }
        ctx.set_timer(self.params.resend_interval.0, GossipTimer::Resend);
    }

    fn on_message(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        _from: NodeId,
        message: GossipMessage,
    ) {
        let GossipMessage::Write {
            key,
            value,
            version,
        } = message;
        if self.merge(&key, &value, version) {
            self.persist(ctx);
        }
    }

    fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, _id: TimerId, _timer: GossipTimer) {
        let keys: Vec<String> = self.versions.keys().cloned().collect();
        for key in keys {
            self.gossip(ctx, &key);
        }
        ctx.set_timer(self.params.resend_interval.0, GossipTimer::Resend);
    }

    fn on_client_request(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        let reply = match &request.op {
            KvOp::Get { key } => ClientReply::Result(KvResult::Value(
                self.data.get(key).cloned().unwrap_or_default(),
            )),
            KvOp::Put { key, value, .. } => {
                // A version newer than any this server has seen for the key,
                // so that its own writes are never lost to its own clock.
                let seen = self.versions.get(key).map_or(0, |(_, (time, _))| *time);
                let version = (ctx.now().as_nanos().max(seen + 1), ctx.id().0);
                self.merge(key, value, version);
                self.persist(ctx);
                self.gossip(ctx, key);
                ClientReply::Result(KvResult::Done)
            }
            // Reads and writes only: a store without consensus has no
            // compare-and-set to offer.
            _ => ClientReply::Unavailable,
        };
        ctx.reply(client, request.answer(reply));
    }

    fn replica_data(&self) -> Option<&BTreeMap<String, String>> {
        Some(&self.data)
    }

    fn state_heap_bytes(&self) -> usize {
        self.versions
            .iter()
            .map(|(k, (v, _))| 2 * (k.capacity() + v.capacity()) + 96)
            .sum()
    }

    fn message_heap_bytes(message: &GossipMessage) -> usize {
        let GossipMessage::Write { key, value, .. } = message;
        key.capacity() + value.capacity()
    }
}

/// The plug-in: what a scenario needs to know of `GossipRegister`.
pub struct GossipPlugin;

impl Plugin for GossipPlugin {
    const NAME: &'static str = "GossipRegister";
    const SUMMARY: &'static str =
        "leaderless last-writer-wins store with gossip (an example plug-in from its own crate)";
    const CAPABILITIES: Capabilities = Capabilities::serving(Clients::Registers);
    type Params = GossipParams;
    type Service = GossipRegister;

    fn validate(params: &GossipParams, _: &Setup) -> Result<(), Invalid> {
        if params.resend_interval.0 == SimDuration::ZERO {
            return Err(Invalid::param("resend_interval", "must be above zero"));
        }
        Ok(())
    }

    fn servers(params: &GossipParams, _: &Setup) -> Box<dyn FnMut(NodeId) -> GossipRegister> {
        let params = params.clone();
        Box::new(move |_| GossipRegister::new(params.clone()))
    }
}

/// Registers the protocol once per process (later calls do nothing).
pub fn register() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        scenarios::register::<GossipPlugin>().expect("GossipRegister is not yet registered")
    });
}
