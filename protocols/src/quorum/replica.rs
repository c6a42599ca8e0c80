//! A replica's side: taking writes (its own, or hints for a down home
//! replica) onto disk and acking them, answering reads, and handing hints
//! back to their home replicas.

use super::messages::{QEvent, QMessage};
use super::versions::{Dot, Version};
use super::Quorum;
use crate::cluster::ServerCtx;
use sim_core::NodeId;

impl Quorum {
    pub(super) fn on_write(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        op: u64,
        key: String,
        versions: &[Version],
        hint: Option<u32>,
    ) {
        match hint {
            None => {
                let mut held = self.versions(&key).to_vec();
                if self.rules.merge_all(&mut held, versions) {
                    self.put_versions(ctx, &key, held);
                }
            }
            Some(home) => {
                debug_assert_ne!(home, self.me, "a home replica is no stand-in for itself");
                let mut held = self.hints_for(home, &key).to_vec();
                if self.rules.merge_all(&mut held, versions) {
                    self.put_hints(ctx, home, &key, held);
                    ctx.emit(QEvent::Hinted);
                }
            }
        }
        // Acked once on disk, whether or not it was newer than what is held:
        // a replica that holds something newer has durably superseded it.
        ctx.send_when_durable(from, QMessage::WriteAck { op });
    }

    /// Answers with the key's versions, hints held for it included.
    pub(super) fn on_read(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        op: u64,
        key: &str,
    ) {
        let mut versions = self.versions(key).to_vec();
        for ((_, hinted), held) in &self.hints {
            if hinted == key {
                self.rules.merge_all(&mut versions, held);
            }
        }
        ctx.emit(QEvent::ReadArrived {
            coordinator: from.0,
            op,
        });
        ctx.send(from, QMessage::ReadReply { op, versions });
    }

    /// Sends each hint whose home replica is back to it (or, with the bug
    /// switch, drops it unsent).
    pub(super) fn hand_off(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        let now = ctx.now();
        let ready: Vec<(u32, String)> = self
            .hints
            .keys()
            .filter(|(home, _)| self.live(now, *home))
            .cloned()
            .collect();
        for (home, key) in ready {
            if self.params().hint_never_delivered {
                self.put_hints(ctx, home, &key, Vec::new());
                continue;
            }
            let versions = self.hints_for(home, &key).to_vec();
            ctx.send(NodeId(home), QMessage::Handoff { key, versions });
        }
    }

    pub(super) fn on_handoff(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        key: String,
        versions: &[Version],
    ) {
        let mut held = self.versions(&key).to_vec();
        if self.rules.merge_all(&mut held, versions) {
            self.put_versions(ctx, &key, held);
        }
        let dots = versions.iter().map(|v| v.dot).collect();
        ctx.send_when_durable(from, QMessage::HandoffAck { key, dots });
    }

    /// The home replica has these on disk: forget them as hints.
    pub(super) fn on_handoff_ack(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        key: &str,
        dots: &[Dot],
    ) {
        let held = self.hints_for(from.0, key);
        if held.is_empty() {
            return;
        }
        let kept: Vec<Version> = held
            .iter()
            .filter(|v| !dots.contains(&v.dot))
            .cloned()
            .collect();
        let handed = (held.len() - kept.len()) as u32;
        if handed > 0 {
            self.put_hints(ctx, from.0, key, kept);
            ctx.emit(QEvent::HandedOff { versions: handed });
        }
    }
}
