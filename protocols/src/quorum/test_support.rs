//! What the handler tests share: a five-server ring, the key they use,
//! its home replicas, and last-writer-wins versions.

use super::params::QuorumParams;
use super::ring::Ring;
use super::versions::{Dot, Version};
use super::QuorumSetup;
use std::sync::Arc;

pub const SERVERS: u32 = 5;
pub const KEY: &str = "k1";

pub fn setup(params: QuorumParams) -> Arc<QuorumSetup> {
    Arc::new(QuorumSetup {
        ring: Ring::new(SERVERS, params.vnodes),
        params,
        keys: (0..8).map(|i| format!("k{i}")).collect(),
    })
}

/// The key's home replicas, in ring order.
pub fn home() -> Vec<u32> {
    Ring::new(SERVERS, QuorumParams::default().vnodes).home(KEY, 3)
}

/// A last-writer-wins version of the key: written by `node` as its
/// `counter`-th write, stamped `stamp`.
pub fn lww(node: u32, counter: u64, stamp: u64, value: &str) -> Version {
    Version {
        dot: Dot { node, counter },
        stamp,
        context: Arc::from([]),
        value: value.into(),
    }
}
