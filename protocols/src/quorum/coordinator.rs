//! Coordinating a client's operation: choosing the replicas, naming and
//! sending a write and counting its acks, gathering a read's replies,
//! resolving them, and repairing the stale replicas.

use super::messages::{QEvent, QMessage, QTimer};
use super::params::{ReadFanout, ReadRepair, Versioning, WriteFanout};
use super::versions::{joined_context, read_value, Dot, Version};
use super::{Quorum, PENDING_MAX};
use crate::client::{ClientReply, ClientRequest};
use crate::cluster::ServerCtx;
use crate::kv::{CausalContext, KvOp, KvResult};
use rand::Rng;
use sim_core::{LocalTime, NodeId};
use std::sync::Arc;

/// An operation a coordinator has in flight.
#[derive(Debug)]
pub(super) enum Pending {
    Write(PendingWrite),
    Read(PendingRead),
}

#[derive(Debug)]
pub(super) struct PendingWrite {
    client: NodeId,
    request: ClientRequest,
    key: String,
    version: Version,
    /// Per server: whether it acked.
    acked: Vec<bool>,
    acks: u32,
}

#[derive(Debug)]
pub(super) struct PendingRead {
    client: NodeId,
    request: ClientRequest,
    key: String,
    /// (replier, its versions), in arrival order, one per replier.
    replies: Vec<(u32, Vec<Version>)>,
    /// Once R replied: the newest versions among them.
    resolved: Option<Vec<Version>>,
    /// Blocking repair: the stale replicas whose acks the answer waits for.
    repairing: Vec<u32>,
    answered: bool,
}

/// One replica an operation goes to, and the home replica it stands in
/// for when it is not one itself.
type Target = (u32, Option<u32>);

impl Quorum {
    /// The replicas for `key`, if at least `needed` of them are believed
    /// alive. Strict: the N home replicas. Sloppy: the first N live
    /// servers on the ring walk, stand-ins taking the down home replicas'
    /// places in order.
    fn targets(&self, now: LocalTime, key: &str, needed: u32) -> Option<Vec<Target>> {
        let n = self.params().replicas as usize;
        let walk = self.setup.ring.walk(key);
        let (home, beyond) = walk.split_at(n);
        let targets: Vec<Target> = if self.params().sloppy_quorum {
            let mut down = home.iter().filter(|s| !self.live(now, **s));
            home.iter()
                .chain(beyond)
                .filter(|s| self.live(now, **s))
                .take(n)
                .map(|s| {
                    if home.contains(s) {
                        (*s, None)
                    } else {
                        (*s, down.next().copied())
                    }
                })
                .collect()
        } else {
            let live = home.iter().filter(|s| self.live(now, **s)).count();
            if live < needed as usize {
                return None;
            }
            home.iter().map(|s| (*s, None)).collect()
        };
        (targets.len() >= needed as usize).then_some(targets)
    }

    /// `count` of `targets` drawn at random among those believed alive
    /// (all of them when fewer are), in server order.
    fn draw(
        &self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        targets: Vec<Target>,
        count: u32,
    ) -> Vec<Target> {
        let now = ctx.now();
        let mut live: Vec<Target> = targets
            .into_iter()
            .filter(|(s, _)| self.live(now, *s))
            .collect();
        // A partial Fisher-Yates shuffle of the live ones, then ring order.
        let count = (count as usize).min(live.len());
        for i in 0..count {
            let j = ctx.rng().random_range(i..live.len());
            live.swap(i, j);
        }
        let mut drawn: Vec<Target> = live.into_iter().take(count).collect();
        drawn.sort_by_key(|(s, _)| *s);
        drawn
    }

    /// Starts a client's operation here.
    pub(super) fn coordinate(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        let this = (request.seq, request.attempt);
        match self.coordinated.get(&request.client) {
            Some(latest) if this <= *latest => return, // A copy, or stale.
            _ => {}
        }
        if self.pending.len() >= PENDING_MAX {
            ctx.reply(client, request.answer(ClientReply::Unavailable));
            return;
        }
        self.coordinated.insert(request.client, this);
        match &request.op {
            KvOp::Get { key } => {
                let key = key.clone();
                self.start_read(ctx, client, request, key)
            }
            KvOp::Put {
                key,
                value,
                context,
            } => {
                let (key, value, context) = (key.clone(), value.clone(), context.clone());
                self.start_write(ctx, client, request, key, value, &context)
            }
            other => {
                panic!("the quorum store got {other:?}; validation allows reads and writes only")
            }
        }
    }

    fn start_write(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
        key: String,
        value: String,
        context: &CausalContext,
    ) {
        let now = ctx.now();
        let Some(targets) = self.targets(now, &key, self.params().write_quorum) else {
            ctx.reply(client, request.answer(ClientReply::Unavailable));
            return;
        };
        let targets = if self.params().write_fanout == WriteFanout::Quorum {
            self.draw(ctx, targets, self.params().write_quorum)
        } else {
            targets
        };
        let op = self.take_counter(ctx);
        let resolution = self.params().lww_resolution.0.as_nanos().max(1);
        let context: Arc<[u64]> = match self.params().versioning {
            Versioning::LastWriterWins => Arc::from([]),
            Versioning::VersionVectors => {
                let mut counters = context.counters().to_vec();
                counters.resize(self.servers as usize, 0);
                counters.into()
            }
        };
        let version = Version {
            dot: Dot {
                node: self.me,
                counter: op,
            },
            stamp: now.saturating_since(LocalTime::ZERO).as_nanos() / resolution,
            context,
            value,
        };
        ctx.emit(QEvent::Accepted {
            key: key.clone(),
            dot: version.dot,
        });
        for (to, hint) in targets {
            let message = QMessage::Write {
                op,
                key: key.clone(),
                versions: vec![version.clone()],
                hint,
            };
            self.send_named(ctx, to, message);
        }
        self.pending.insert(
            op,
            Pending::Write(PendingWrite {
                client,
                request,
                key,
                version,
                acked: vec![false; self.servers as usize],
                acks: 0,
            }),
        );
        ctx.set_timer(self.params().request_timeout.0, QTimer::Expire { op });
    }

    fn start_read(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
        key: String,
    ) {
        let now = ctx.now();
        let r = self.params().read_quorum;
        let Some(mut targets) = self.targets(now, &key, r) else {
            ctx.reply(client, request.answer(ClientReply::Unavailable));
            return;
        };
        if self.params().read_fanout == ReadFanout::Quorum {
            targets = self.draw(ctx, targets, r);
        }
        let op = self.take_counter(ctx);
        ctx.emit(QEvent::ReadStarted {
            op,
            key: key.clone(),
        });
        for (to, _) in targets {
            ctx.send(
                NodeId(to),
                QMessage::Read {
                    op,
                    key: key.clone(),
                },
            );
        }
        self.pending.insert(
            op,
            Pending::Read(PendingRead {
                client,
                request,
                key,
                replies: Vec::new(),
                resolved: None,
                repairing: Vec::new(),
                answered: false,
            }),
        );
        ctx.set_timer(self.params().request_timeout.0, QTimer::Expire { op });
    }

    pub(super) fn on_write_ack(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        op: u64,
    ) {
        let w = self.params().write_quorum;
        let count_duplicates = self.params().count_duplicate_acks;
        match self.pending.get_mut(&op) {
            Some(Pending::Write(write)) => {
                let first = !std::mem::replace(&mut write.acked[from.0 as usize], true);
                if first || count_duplicates {
                    write.acks += 1;
                }
                if write.acks >= w {
                    let Some(Pending::Write(write)) = self.pending.remove(&op) else {
                        unreachable!("just matched")
                    };
                    self.answer_write(ctx, write);
                }
            }
            Some(Pending::Read(read)) => {
                read.repairing.retain(|s| *s != from.0);
                if read.repairing.is_empty() && !read.answered && read.resolved.is_some() {
                    self.answer_read(ctx, op);
                }
            }
            None => {} // Late: answered or expired.
        }
    }

    fn answer_write(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, write: PendingWrite) {
        ctx.emit(QEvent::Acked {
            key: write.key,
            dot: write.version.dot,
        });
        let mut response = write.request.answer(ClientReply::Result(KvResult::Done));
        if self.params().versioning == Versioning::VersionVectors {
            response.context = joined_context(std::slice::from_ref(&write.version), self.servers);
        }
        ctx.reply(write.client, response);
    }

    pub(super) fn on_read_reply(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        op: u64,
        versions: Vec<Version>,
    ) {
        let r = self.params().read_quorum as usize;
        let repair = self.params().read_repair;
        let Some(Pending::Read(read)) = self.pending.get_mut(&op) else {
            return;
        };
        if read.replies.iter().any(|(s, _)| *s == from.0) {
            return; // A duplicate.
        }
        read.replies.push((from.0, versions));
        if let Some(resolved) = read.resolved.clone() {
            // Late, after R replied: repair it if it is stale (Async).
            if repair == ReadRepair::Async {
                let stale = self.stale_homes(op, resolved);
                self.send_repairs(ctx, op, &stale);
            }
            return;
        }
        if read.replies.len() < r {
            return;
        }
        let mut resolved = Vec::new();
        for (_, versions) in &read.replies {
            self.rules.merge_all(&mut resolved, versions);
        }
        let used = read.replies.iter().map(|(s, _)| *s).collect();
        ctx.emit(QEvent::ReadResolved { op, used });
        let stale = match repair {
            ReadRepair::Off => Vec::new(),
            ReadRepair::Async | ReadRepair::Blocking => self.stale_homes(op, resolved.clone()),
        };
        let Some(Pending::Read(read)) = self.pending.get_mut(&op) else {
            unreachable!("just matched")
        };
        read.resolved = Some(resolved);
        self.send_repairs(ctx, op, &stale);
        if repair == ReadRepair::Blocking && !stale.is_empty() {
            let Some(Pending::Read(read)) = self.pending.get_mut(&op) else {
                unreachable!("just matched")
            };
            read.repairing = stale;
        } else {
            self.answer_read(ctx, op);
        }
    }

    /// The home replicas among the repliers whose versions are not
    /// `resolved` (stand-ins hold hints, which handoff takes home).
    fn stale_homes(&self, op: u64, resolved: Vec<Version>) -> Vec<u32> {
        let Some(Pending::Read(read)) = self.pending.get(&op) else {
            return Vec::new();
        };
        let home = self.setup.ring.home(&read.key, self.params().replicas);
        read.replies
            .iter()
            .filter(|(s, versions)| home.contains(s) && *versions != resolved)
            .map(|(s, _)| *s)
            .collect()
    }

    fn send_repairs(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, op: u64, stale: &[u32]) {
        let Some(Pending::Read(read)) = self.pending.get_mut(&op) else {
            return;
        };
        let versions = read.resolved.clone().expect("repairs follow a resolution");
        for s in stale {
            // Mark it current, so a late duplicate is not repaired twice.
            if let Some(reply) = read.replies.iter_mut().find(|(r, _)| r == s) {
                reply.1 = versions.clone();
            }
            ctx.send(
                NodeId(*s),
                QMessage::Write {
                    op,
                    key: read.key.clone(),
                    versions: versions.clone(),
                    hint: None,
                },
            );
        }
        if !stale.is_empty() {
            ctx.emit(QEvent::Repaired {
                replicas: stale.len() as u32,
            });
        }
    }

    fn answer_read(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, op: u64) {
        let vv = self.params().versioning == Versioning::VersionVectors;
        let keep = self.params().read_repair == ReadRepair::Async;
        let servers = self.servers;
        let Some(Pending::Read(read)) = self.pending.get_mut(&op) else {
            unreachable!("answering a read in flight")
        };
        let resolved = read.resolved.as_ref().expect("answered once resolved");
        let mut response = read
            .request
            .answer(ClientReply::Result(KvResult::Value(read_value(resolved))));
        if vv {
            response.context = joined_context(resolved, servers);
        }
        read.answered = true;
        ctx.reply(read.client, response);
        // Async repair keeps the read until it expires, to repair the
        // replicas that answer late.
        if !keep {
            self.pending.remove(&op);
        }
    }

    /// `request_timeout` has passed: a read not yet answered is refused (it
    /// changed nothing); a write is dropped unanswered (it may have landed).
    pub(super) fn expire(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, op: u64) {
        match self.pending.remove(&op) {
            Some(Pending::Read(read)) if !read.answered => {
                ctx.reply(read.client, read.request.answer(ClientReply::Unavailable));
            }
            _ => {}
        }
    }
}
