//! One server of the multi-leader store: its region's leader, which takes
//! the region's clients' writes and replicates them, or a follower, which
//! receives everything its leader applies.
//!
//! A leader commits a client's write locally (its disk, then the reply),
//! then ships it, as the key's state just after the write (`Shipped`), to
//! the regions the topology names and to its followers. A receiver hands
//! each arrival to causal delivery (`causal.rs`), merges what it may apply
//! (`resolution.rs`), passes the write on as the topology says
//! (`topology.rs`), and acknowledges, once durable, the prefix of each
//! origin's writes it has applied. A sender keeps each write until the
//! receiver's acknowledgement covers it and resends it every
//! `resend_interval`, so a write lost to a partition or a crash arrives
//! after the heal; a resent write that arrives twice merges to the same
//! state (the merge is idempotent).
//!
//! Why forwarding looks only at the write (stateless, like a router): a
//! region passes on whatever arrives, duplicates included, and the
//! visited set alone ends the ring and the star. That is what the
//! `ring_forward_loops` bug switch breaks.
//!
//! Durable state, one storage key each: every key's state, the delivery
//! state (what is applied), each write still to ship (per receiver), and
//! each client's last reply (a retried write is answered, not applied
//! again: a counter must not count a retry).

use super::causal::{Arrival, CausalDelivery, Dependent};
use super::messages::{MultiLeaderEvent, MultiLeaderMessage, MultiLeaderTimer, Shipped};
use super::monitor::MultiLeaderMonitor;
use super::params::MultiLeaderParams;
use super::resolution::{CrdtKind, KeyState, Resolution, Write};
use super::topology::{next_hops, Regions, Topology};
use crate::client::{ClientReply, ClientRequest};
use crate::cluster::{ServerCtx, Service};
use crate::crdt::{Dot, VersionVector};
use crate::kv::{KvOp, KvResult};
use sim_core::{LocalTime, NodeId, SimDuration, TimerId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Writes a server keeps to ship at most (over all receivers): past it a
/// leader refuses new writes, so a region cut off for long cannot grow
/// its backlog without bound.
pub const OUTBOX_MAX: usize = 100_000;

/// Clients whose last reply a leader keeps at most.
pub const REPLIES_MAX: usize = 100_000;

const KEY_PREFIX: &str = "ml/k/";
const OUTBOX_PREFIX: &str = "ml/out/";
const REPLY_PREFIX: &str = "ml/reply/";
const DELIVERY_KEY: &str = "ml/delivery";

type Ctx<'c, 'a, 'b> = ServerCtx<'a, 'b, MultiLeader>;

/// One server of the multi-leader store.
#[derive(Debug)]
pub struct MultiLeader {
    params: Arc<MultiLeaderParams>,
    region: u32,
    leader: bool,
    keys: BTreeMap<String, KeyState>,
    /// What a read of each key returns, for reads and the `eventual` check.
    data: BTreeMap<String, String>,
    /// The latest write of each key applied here, to tell conflicts.
    last_dot: BTreeMap<String, Dot>,
    delivery: CausalDelivery<Shipped>,
    /// Per key, per region, the last of that region's writes to the key
    /// which the key's state here includes (applied, or carried by a
    /// later state merged): what a write of the key here saw.
    key_seen: BTreeMap<String, VersionVector>,
    /// Writes to ship, by (receiver, write), until the receiver covers
    /// them, with when each was last sent (volatile: after a restart,
    /// at once).
    outbox: BTreeMap<(u32, Dot), (Shipped, LocalTime)>,
    /// Per receiver, the writes it said it applied.
    acked: BTreeMap<u32, VersionVector>,
    /// Per client, its last write's sequence number and result.
    replies: BTreeMap<u32, (u64, KvResult)>,
    resend_timer: Option<TimerId>,
    /// Keys, outbox entries and replies changed by the handler running.
    dirty: Dirty,
}

#[derive(Debug, Default)]
struct Dirty {
    keys: BTreeSet<String>,
    outbox_added: Vec<(u32, Dot)>,
    replies: Vec<u32>,
    delivery: bool,
}

impl MultiLeader {
    pub fn new(params: Arc<MultiLeaderParams>, node: NodeId) -> MultiLeader {
        let region = params.region_of(node.0);
        let leader = params.leads(node.0);
        let on_arrival = !params.waits_for_dependencies();
        MultiLeader {
            params,
            region,
            leader,
            keys: BTreeMap::new(),
            data: BTreeMap::new(),
            last_dot: BTreeMap::new(),
            delivery: CausalDelivery::new(on_arrival),
            key_seen: BTreeMap::new(),
            outbox: BTreeMap::new(),
            acked: BTreeMap::new(),
            replies: BTreeMap::new(),
            resend_timer: None,
            dirty: Dirty::default(),
        }
    }

    pub fn region(&self) -> u32 {
        self.region
    }

    pub fn is_leader(&self) -> bool {
        self.leader
    }

    /// The state of `key` here, if written.
    pub fn key_state(&self, key: &str) -> Option<&KeyState> {
        self.keys.get(key)
    }

    /// Writes waiting to be shipped (all receivers).
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// Writes applied here per origin (the prefix of each origin's order).
    pub fn applied(&self) -> &VersionVector {
        self.delivery.applied()
    }

    fn resolution(&self) -> Resolution {
        self.params.conflict_resolution
    }

    /// What a workload's write of `value` (the client's `seq`-th
    /// operation) does to a key kept this way (see the param's doc).
    pub fn write_for(resolution: Resolution, value: &str, seq: u64) -> Write {
        match resolution.kind() {
            CrdtKind::LwwRegister | CrdtKind::MvRegister => Write::Put(value.to_string()),
            CrdtKind::GCounter => Write::Add(1),
            CrdtKind::PnCounter if seq.is_multiple_of(3) => Write::Add(-1),
            CrdtKind::PnCounter => Write::Add(1),
            CrdtKind::OrSet => Write::Insert(value.to_string()),
        }
    }

    /// The followers of this server's region (a leader's receivers of
    /// everything it applies).
    fn followers(&self) -> impl Iterator<Item = u32> + '_ {
        let first = self.params.leader_of(self.region);
        (first + 1..first + self.params.per_region()).filter(|_| self.leader)
    }

    // ---- recovery -------------------------------------------------------

    fn load(&mut self, ctx: &mut Ctx<'_, '_, '_>) {
        let storage = ctx.storage();
        for (name, bytes) in storage.range(KEY_PREFIX, "ml/k0") {
            let key = name[KEY_PREFIX.len()..].to_string();
            let (state, last, seen): (KeyState, Option<Dot>, VersionVector) =
                serde_json::from_slice(bytes).expect("a key state this server wrote");
            self.data.insert(key.clone(), state.read().join("|"));
            if let Some(dot) = last {
                self.last_dot.insert(key.clone(), dot);
            }
            self.key_seen.insert(key.clone(), seen);
            self.keys.insert(key, state);
        }
        for (_, bytes) in storage.range(OUTBOX_PREFIX, "ml/out0") {
            let (to, shipped): (u32, Shipped) =
                serde_json::from_slice(bytes).expect("an outbox entry this server wrote");
            self.outbox
                .insert((to, shipped.dot), (shipped, LocalTime::default()));
        }
        for (_, bytes) in storage.range(REPLY_PREFIX, "ml/reply0") {
            let (client, seq, result): (u32, u64, KvResult) =
                serde_json::from_slice(bytes).expect("a reply this server wrote");
            self.replies.insert(client, (seq, result));
        }
        if let Some(bytes) = storage.get(DELIVERY_KEY) {
            let (applied, beyond): (VersionVector, Vec<Dot>) =
                serde_json::from_slice(bytes).expect("a delivery state this server wrote");
            let on_arrival = !self.params.waits_for_dependencies();
            self.delivery = CausalDelivery::restore(applied, beyond, on_arrival);
        }
    }

    /// Writes what this handler changed and asks for a sync: what is sent,
    /// replied or emitted "when durable" after this waits for it.
    fn persist(&mut self, ctx: &mut Ctx<'_, '_, '_>) {
        let dirty = std::mem::take(&mut self.dirty);
        let mut wrote = false;
        for key in dirty.keys {
            let state = &self.keys[&key];
            let seen = self.key_seen.get(&key);
            let bytes = serde_json::to_vec(&(state, self.last_dot.get(&key), seen))
                .expect("a key state serialises");
            ctx.storage().put(&format!("{KEY_PREFIX}{key}"), bytes);
            wrote = true;
        }
        for (to, dot) in dirty.outbox_added {
            if let Some((shipped, _)) = self.outbox.get(&(to, dot)) {
                let bytes = serde_json::to_vec(&(to, shipped)).expect("a write serialises");
                ctx.storage().put(&outbox_key(to, dot), bytes);
                wrote = true;
            }
        }
        for client in dirty.replies {
            let (seq, result) = &self.replies[&client];
            let bytes = serde_json::to_vec(&(client, seq, result)).expect("a reply serialises");
            ctx.storage()
                .put(&format!("{REPLY_PREFIX}{client:010}"), bytes);
            wrote = true;
        }
        if dirty.delivery {
            let bytes = serde_json::to_vec(&self.delivery.durable()).expect("delivery serialises");
            ctx.storage().put(DELIVERY_KEY, bytes);
            wrote = true;
        }
        if wrote {
            // Grouped: one sync at a time, covering every handler's writes
            // since the last, so that a receiver catching up on many small
            // shipments is not held behind a queue of syncs (what waits
            // for durability waits for the group's sync).
            ctx.storage().sync_grouped();
        }
    }

    fn arm(&mut self, ctx: &mut Ctx<'_, '_, '_>) {
        if self.resend_timer.is_none() && self.leader {
            let every = self.params.resend_interval.0;
            self.resend_timer = Some(ctx.set_timer(every, MultiLeaderTimer::Resend));
        }
    }

    // ---- client writes --------------------------------------------------

    fn on_request(&mut self, ctx: &mut Ctx<'_, '_, '_>, client: NodeId, request: ClientRequest) {
        if !self.leader {
            ctx.reply(client, request.answer(ClientReply::Unavailable));
            return;
        }
        let (key, value) = match &request.op {
            KvOp::Get { key } => {
                let value = self.data.get(key).cloned().unwrap_or_default();
                let reply = ClientReply::Result(KvResult::Value(value));
                ctx.reply_when_durable(client, request.answer(reply));
                return;
            }
            KvOp::Put { key, value, .. } => (key.clone(), value.clone()),
            other => panic!("validation admits reads and writes only, got {other:?}"),
        };
        if let Some((seq, result)) = self.replies.get(&request.client) {
            if *seq == request.seq {
                let reply = ClientReply::Result(result.clone());
                ctx.reply_when_durable(client, request.answer(reply));
            }
            if *seq >= request.seq {
                return; // Answered already, or an older operation's attempt.
            }
        }
        let full = self.outbox.len() >= OUTBOX_MAX
            || (self.replies.len() >= REPLIES_MAX && !self.replies.contains_key(&request.client));
        if full {
            ctx.reply(client, request.answer(ClientReply::Unavailable));
            return;
        }
        let write = MultiLeader::write_for(self.resolution(), &value, request.seq);
        let shipped = self.take_write(ctx, &key, &write);
        self.replies
            .insert(request.client, (request.seq, KvResult::Done));
        self.dirty.replies.push(request.client);
        let mut targets = self.ship_targets(&shipped);
        targets.extend(self.follower_copies(&shipped));
        for (to, copy) in &targets {
            self.queue(ctx.now(), *to, copy);
        }
        ctx.emit(MultiLeaderEvent::Taking {
            region: self.region,
            dot: shipped.dot,
            deps: shipped.key_deps.clone(),
            key: key.clone(),
            write: write.clone(),
        });
        self.persist(ctx);
        let reply = ClientReply::Result(KvResult::Done);
        ctx.reply_when_durable(client, request.answer(reply));
        ctx.emit_when_durable(MultiLeaderEvent::Took {
            region: self.region,
            dot: shipped.dot,
            deps: shipped.key_deps.clone(),
            key: key.clone(),
            write,
            resolution: self.resolution(),
            value: self.keys[&key].read(),
        });
        self.send_copies(ctx, targets);
        debug_assert!(self.delivery.has(shipped.dot));
    }

    /// Applies this region's own write to `key`: the next dot of this
    /// region, depending on everything applied here.
    fn take_write(&mut self, ctx: &mut Ctx<'_, '_, '_>, key: &str, write: &Write) -> Shipped {
        let resolution = self.resolution();
        assert!(resolution.takes(write), "{write:?} under {resolution:?}");
        let state = self
            .keys
            .entry(key.to_string())
            .or_insert_with(|| resolution.empty());
        let clock_ns = ctx.now().as_nanos();
        let stamp = state.stamp_for(clock_ns, self.params.lww_ignore_clock_skew);
        state.write(self.region, stamp, write);
        let state = state.clone();
        self.data.insert(key.to_string(), state.read().join("|"));
        let deps = self.delivery.applied().clone();
        let dot = Dot {
            node: self.region,
            counter: deps.get(self.region) + 1,
        };
        let seen = self.key_seen.entry(key.to_string()).or_default();
        let key_deps = seen.clone();
        seen.raise(self.region, dot.counter);
        let shipped = Shipped {
            dot,
            deps,
            key_deps,
            key: key.to_string(),
            state,
            visited: Regions::of(self.region),
            hops: 0,
        };
        let local = self.delivery.local(self.region, shipped.clone());
        assert_eq!(local.dot, dot, "a region's writes are numbered in order");
        self.last_dot.insert(key.to_string(), dot);
        self.dirty.keys.insert(key.to_string());
        self.dirty.delivery = true;
        shipped
    }

    // ---- replication ----------------------------------------------------

    /// Where this leader passes `shipped` on, as the copies each receiver
    /// gets: the next regions' leaders (one more hop, this region
    /// visited), and, for a write applied here, the followers.
    fn ship_targets(&self, shipped: &Shipped) -> Vec<(u32, Shipped)> {
        if !self.leader {
            return Vec::new();
        }
        let params = &self.params;
        let (hops, visited) = next_hops(
            params.topology,
            params.regions,
            self.region,
            shipped.dot.node,
            shipped.visited,
            params.ring_forward_loops,
        );
        let onward = Shipped {
            visited,
            hops: shipped.hops + 1,
            ..shipped.clone()
        };
        hops.into_iter()
            .map(|region| (params.leader_of(region), onward.clone()))
            .collect()
    }

    fn follower_copies(&self, shipped: &Shipped) -> Vec<(u32, Shipped)> {
        self.followers().map(|f| (f, shipped.clone())).collect()
    }

    fn send_copies(&mut self, ctx: &mut Ctx<'_, '_, '_>, copies: Vec<(u32, Shipped)>) {
        for (to, copy) in copies {
            if !self.params.leads(to) {
                ctx.send_when_durable(NodeId(to), ship(vec![copy]));
                continue;
            }
            ctx.emit_when_durable(MultiLeaderEvent::Forwarded {
                region: self.region,
                dot: copy.dot,
                hops: copy.hops,
            });
            ctx.send_when_durable(NodeId(to), ship(vec![copy]));
        }
    }

    fn on_ship(&mut self, ctx: &mut Ctx<'_, '_, '_>, from: NodeId, writes: Vec<Shipped>) {
        let mut now_send = Vec::new();
        for shipped in writes {
            if shipped.dot.node >= self.params.regions {
                continue; // Not a region of this store: a corrupt message.
            }
            let deps_met = self.delivery.has_all(&shipped.deps, shipped.dot.node);
            let onward = self.ship_targets(&shipped);
            let arrival = self.delivery.arrive(Dependent {
                dot: shipped.dot,
                deps: shipped.deps.clone(),
                payload: shipped.clone(),
            });
            let fresh = matches!(arrival, Arrival::Apply(_) | Arrival::Waiting);
            let refused = matches!(arrival, Arrival::Refused);
            match arrival {
                Arrival::Apply(applied) => {
                    self.dirty.delivery = true;
                    for (index, write) in applied.into_iter().enumerate() {
                        let met = index > 0 || deps_met;
                        let payload = write.payload;
                        for (to, copy) in self.follower_copies(&payload) {
                            self.queue(ctx.now(), to, &copy);
                            now_send.push((to, copy));
                        }
                        self.apply_remote(ctx, &payload, met, false);
                    }
                }
                Arrival::Duplicate => self.apply_remote(ctx, &shipped, true, true),
                Arrival::Waiting | Arrival::Refused => {}
            }
            if fresh {
                // New here: it waits in the outbox for the next regions too.
                for (to, copy) in &onward {
                    self.queue(ctx.now(), *to, copy);
                }
            }
            // Stateless forwarding: whatever arrived goes on as the
            // topology says, duplicates too (not a refusal, which the
            // sender resends).
            if !refused {
                now_send.extend(onward);
            }
        }
        self.persist(ctx);
        let applied = self.delivery.applied().clone();
        ctx.send_when_durable(from, MultiLeaderMessage::Ack { applied });
        self.send_copies(ctx, now_send);
    }

    /// Keeps `copy` for `to` until acknowledged; it goes out now (sent at
    /// `now`).
    fn queue(&mut self, now: LocalTime, to: u32, copy: &Shipped) {
        if self.outbox.len() < OUTBOX_MAX {
            self.outbox.insert((to, copy.dot), (copy.clone(), now));
            self.dirty.outbox_added.push((to, copy.dot));
        }
    }

    /// Merges a remote write's state into its key. `duplicate`: it was
    /// applied here before, and merges again only because a state-based
    /// store merges whatever it receives (a no-op, unless the merge is
    /// broken).
    fn apply_remote(
        &mut self,
        ctx: &mut Ctx<'_, '_, '_>,
        shipped: &Shipped,
        deps_met: bool,
        duplicate: bool,
    ) {
        let resolution = self.resolution();
        let state = self
            .keys
            .entry(shipped.key.clone())
            .or_insert_with(|| resolution.empty());
        let before = state.clone();
        if self.params.crdt_merge_not_idempotent {
            state.merge_adding_counts(&shipped.state);
        } else {
            state.merge(&shipped.state);
        }
        let changed = *state != before;
        // The state merged carries every write of the key its origin's
        // state had, and the write itself.
        let seen = self.key_seen.entry(shipped.key.clone()).or_default();
        seen.join(&shipped.key_deps);
        seen.raise(shipped.dot.node, shipped.dot.counter);
        let value = state.read();
        if changed {
            self.data.insert(shipped.key.clone(), value.join("|"));
            self.dirty.keys.insert(shipped.key.clone());
        }
        if duplicate {
            if changed && self.leader {
                ctx.emit_when_durable(MultiLeaderEvent::Merged {
                    region: self.region,
                    key: shipped.key.clone(),
                    value,
                });
            }
            return;
        }
        let conflict = self
            .last_dot
            .get(&shipped.key)
            .is_some_and(|last| !shipped.key_deps.covers(*last) && last.node != shipped.dot.node);
        self.last_dot.insert(shipped.key.clone(), shipped.dot);
        self.dirty.keys.insert(shipped.key.clone());
        if self.leader {
            ctx.emit_when_durable(MultiLeaderEvent::Applied {
                region: self.region,
                dot: shipped.dot,
                key: shipped.key.clone(),
                deps_met,
                causal: self.params.causal_delivery,
                conflict,
                value,
            });
        }
    }

    fn on_ack(&mut self, ctx: &mut Ctx<'_, '_, '_>, from: NodeId, applied: VersionVector) {
        let acked = self.acked.entry(from.0).or_default();
        acked.join(&applied);
        let covered: Vec<(u32, Dot)> = self
            .outbox
            .range(
                (
                    from.0,
                    Dot {
                        node: 0,
                        counter: 0,
                    },
                )..,
            )
            .take_while(|((to, _), _)| *to == from.0)
            .filter(|((_, dot), _)| acked.covers(*dot))
            .map(|(at, _)| *at)
            .collect();
        for at in covered {
            self.outbox.remove(&at);
            // Deleting needs no sync: a deletion lost to a crash only
            // resends a write the receiver has.
            ctx.storage().delete(&outbox_key(at.0, at.1));
        }
    }

    /// Resends, per receiver, every write it has not acknowledged a whole
    /// interval after it was last sent (a write sent just now is still on
    /// its way), in messages of at most `batch_max` writes, in causal
    /// order: so that a receiver back from a partition catches up within
    /// one interval, and each message's writes can apply as they arrive.
    fn on_resend(&mut self, ctx: &mut Ctx<'_, '_, '_>) {
        let batch_max = self.params.batch_max as usize;
        let now = ctx.now();
        let due = self.params.resend_interval.0;
        // (sum of dependencies, dot) orders a write after every write it
        // depends on: it depends on their dependencies too, and on them.
        let mut order: BTreeMap<u32, Vec<(u64, Dot)>> = BTreeMap::new();
        for ((to, dot), (shipped, sent)) in &self.outbox {
            if now.saturating_since(*sent) >= due {
                let rank = shipped.deps.entries().map(|(_, c)| c).sum::<u64>();
                order.entry(*to).or_default().push((rank, *dot));
            }
        }
        for (to, mut dots) in order {
            dots.sort_unstable();
            for chunk in dots.chunks(batch_max) {
                let writes = chunk
                    .iter()
                    .map(|(_, dot)| {
                        let (shipped, sent) =
                            self.outbox.get_mut(&(to, *dot)).expect("listed above");
                        *sent = now;
                        shipped.clone()
                    })
                    .collect();
                // Once durable: a write taken in a handler whose sync is
                // still in flight must not leave before it (a power loss
                // would take it back and its dot would name another write).
                ctx.send_when_durable(NodeId(to), ship(writes));
            }
        }
    }
}

fn ship(writes: Vec<Shipped>) -> MultiLeaderMessage {
    MultiLeaderMessage::Ship { writes }
}

fn outbox_key(to: u32, dot: Dot) -> String {
    format!("{OUTBOX_PREFIX}{to:05}/{:05}/{:020}", dot.node, dot.counter)
}

impl Service for MultiLeader {
    type Message = MultiLeaderMessage;
    type Timer = MultiLeaderTimer;
    type Event = MultiLeaderEvent;
    type Monitor = MultiLeaderMonitor;

    fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.load(ctx);
        if self.leader {
            ctx.emit(MultiLeaderEvent::Began {
                region: self.region,
                regions: self.params.regions,
            });
        }
        self.arm(ctx);
    }

    fn on_message(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        message: MultiLeaderMessage,
    ) {
        match message {
            MultiLeaderMessage::Ship { writes } => self.on_ship(ctx, from, writes),
            MultiLeaderMessage::Ack { applied } => self.on_ack(ctx, from, applied),
        }
    }

    fn on_timer(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        id: TimerId,
        timer: MultiLeaderTimer,
    ) {
        match timer {
            MultiLeaderTimer::Resend if self.resend_timer == Some(id) => {
                self.resend_timer = None;
                self.on_resend(ctx);
                self.arm(ctx);
            }
            MultiLeaderTimer::Resend => {}
        }
    }

    fn on_client_request(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        self.on_request(ctx, client, request);
    }

    fn replica_data(&self) -> Option<&BTreeMap<String, String>> {
        Some(&self.data)
    }

    fn repair_progress(&self) -> u64 {
        self.delivery.applied().entries().map(|(_, c)| c).sum()
    }

    /// Two resend intervals per hop: a write lost in flight is due one
    /// interval after it was sent and goes with the tick after that. The
    /// longest path is one hop all-to-all, two through a star's hub, R - 1
    /// round a ring, and one more to a follower.
    fn convergence_quiet(&self) -> SimDuration {
        let params = &self.params;
        let hops = match params.topology {
            Topology::AllToAll => 1,
            Topology::Star => 2,
            Topology::Ring => params.regions - 1,
        } + u32::from(params.followers > 0);
        params
            .resend_interval
            .0
            .checked_mul(2 * u64::from(hops))
            .unwrap_or(SimDuration::from_secs(3_600))
    }

    fn state_heap_bytes(&self) -> usize {
        self.keys.len() * 256 + self.outbox.len() * 256 + self.replies.len() * 64
    }

    fn message_heap_bytes(message: &MultiLeaderMessage) -> usize {
        match message {
            MultiLeaderMessage::Ship { writes } => writes
                .iter()
                .map(|w| std::mem::size_of::<Shipped>() + w.heap_bytes())
                .sum(),
            MultiLeaderMessage::Ack { applied } => 16 * applied.entries().count(),
        }
    }

    const MESSAGE_KINDS: &'static [&'static str] = MultiLeaderMessage::KINDS;

    fn message_kind(message: &MultiLeaderMessage) -> usize {
        message.kind()
    }
}
