//! Anti-entropy: a periodic comparison with the next server in turn. The keys two
//! servers both hold (both are among the key's home replicas) fall into
//! `BUCKETS` buckets by hash; the initiator sends a hash of each bucket's
//! versions, the other sends back the keys of the buckets that differ, and
//! the initiator answers with its own keys of those buckets. Each merges
//! what it receives. A one-level Merkle tree: two servers in agreement
//! exchange `BUCKETS` hashes and nothing more. Every message's size is
//! reported, so a run measures what the repair costs.

use super::messages::{QEvent, QMessage};
use super::versions::Version;
use super::Quorum;
use crate::cluster::{ServerCtx, Service};
use sim_core::hash::stable_hash;
use sim_core::NodeId;

/// Buckets of a digest.
pub const BUCKETS: usize = 16;

fn bucket(key: &str) -> usize {
    (stable_hash(&("bucket", key)) % BUCKETS as u64) as usize
}

/// Bytes of an exchange on the wire, as the report counts them: each
/// key, and each version's value, stamp, dot and context.
fn exchange_bytes(keys: &[(String, Vec<Version>)]) -> u64 {
    keys.iter()
        .map(|(k, versions)| {
            k.len() as u64
                + versions
                    .iter()
                    .map(|v| v.value.len() as u64 + 24 + 8 * v.context.len() as u64)
                    .sum::<u64>()
        })
        .sum()
}

impl Quorum {
    /// The workload keys this server and `peer` both hold.
    fn shared_keys(&self, peer: u32) -> Vec<&String> {
        let n = self.params().replicas;
        self.setup
            .keys
            .iter()
            .filter(|k| {
                let home = self.setup.ring.home(k, n);
                home.contains(&self.me) && home.contains(&peer)
            })
            .collect()
    }

    fn digest(&self, peer: u32) -> Vec<u64> {
        let mut per_bucket: Vec<Vec<(&String, &[Version])>> = vec![Vec::new(); BUCKETS];
        for key in self.shared_keys(peer) {
            per_bucket[bucket(key)].push((key, self.versions(key)));
        }
        per_bucket.iter().map(stable_hash).collect()
    }

    /// This server's versions of the keys it shares with `peer` in `buckets`.
    fn keys_in(&self, peer: u32, buckets: &[usize]) -> Vec<(String, Vec<Version>)> {
        self.shared_keys(peer)
            .into_iter()
            .filter(|k| buckets.contains(&bucket(k)))
            .map(|k| (k.clone(), self.versions(k).to_vec()))
            .collect()
    }

    pub(super) fn compare_with_a_peer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        if self.servers < 2 {
            return;
        }
        // Round-robin, not random: within (servers - 1) rounds every pair
        // of servers has compared, so convergence after a fault takes a
        // bounded time instead of a lucky draw.
        let offset = 1 + self.ae_round % (self.servers - 1);
        self.ae_round = self.ae_round.wrapping_add(1);
        let peer = (self.me + offset) % self.servers;
        let buckets = self.digest(peer);
        ctx.emit(QEvent::AntiEntropySent {
            bytes: 8 * buckets.len() as u64,
        });
        ctx.send(NodeId(peer), QMessage::Digest { buckets });
    }

    pub(super) fn on_digest(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        theirs: &[u64],
    ) {
        let differ: Vec<usize> = self
            .digest(from.0)
            .iter()
            .zip(theirs)
            .enumerate()
            .filter(|(_, (mine, theirs))| mine != theirs)
            .map(|(i, _)| i)
            .collect();
        if differ.is_empty() {
            return;
        }
        let keys = self.keys_in(from.0, &differ);
        ctx.emit(QEvent::AntiEntropySent {
            bytes: exchange_bytes(&keys),
        });
        ctx.send(from, QMessage::Exchange { keys, answer: true });
    }

    pub(super) fn on_exchange(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        keys: Vec<(String, Vec<Version>)>,
        answer: bool,
    ) {
        let buckets: Vec<usize> = keys.iter().map(|(k, _)| bucket(k)).collect();
        if answer {
            // What we hold of the same buckets, before merging theirs.
            let mine = self.keys_in(from.0, &buckets);
            ctx.emit(QEvent::AntiEntropySent {
                bytes: exchange_bytes(&mine),
            });
            ctx.send(
                from,
                QMessage::Exchange {
                    keys: mine,
                    answer: false,
                },
            );
        }
        for (key, versions) in keys {
            if !Service::holds_key(self, &key) {
                continue;
            }
            let mut held = self.versions(&key).to_vec();
            if self.rules.merge_all(&mut held, &versions) {
                self.put_versions(ctx, &key, held);
            }
        }
    }
}
