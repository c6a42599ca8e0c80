//! Placement: a consistent-hashing ring with virtual nodes. Each server
//! owns `vnodes` points on a 64-bit ring; a key lives on the first N
//! distinct servers met walking clockwise from the key's hash (its
//! preference list), and a sloppy quorum walks on past them for stand-ins.
//!
//! Why virtual nodes: with one point per server the arcs, and so the keys
//! per server, differ by a factor of several; with many points per server
//! each owns many small arcs and the load evens out (`home_keys`).

use sim_core::hash::stable_hash;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ring {
    /// (point, server), sorted by point.
    points: Vec<(u64, u32)>,
    servers: u32,
}

impl Ring {
    /// The ring of `servers` servers with `vnodes` points each. The points
    /// depend on nothing else, so every server computes the same ring.
    pub fn new(servers: u32, vnodes: u32) -> Ring {
        assert!(servers > 0 && vnodes > 0, "a ring needs servers and points");
        let mut points: Vec<(u64, u32)> = (0..servers)
            .flat_map(|s| (0..vnodes).map(move |v| (stable_hash(&("vnode", s, v)), s)))
            .collect();
        points.sort_unstable();
        Ring { points, servers }
    }

    pub fn servers(&self) -> u32 {
        self.servers
    }

    /// Every server, in the order a walk from `key`'s point meets them:
    /// the first N are its home replicas, the rest its stand-ins in order.
    pub fn walk(&self, key: &str) -> Vec<u32> {
        let at = stable_hash(&("key", key));
        let start = self.points.partition_point(|(p, _)| *p < at);
        let mut order = Vec::with_capacity(self.servers as usize);
        for i in 0..self.points.len() {
            let server = self.points[(start + i) % self.points.len()].1;
            if !order.contains(&server) {
                order.push(server);
                if order.len() == self.servers as usize {
                    break;
                }
            }
        }
        debug_assert_eq!(order.len(), self.servers as usize);
        order
    }

    /// The key's first `n` servers: its home replicas.
    pub fn home(&self, key: &str, n: u32) -> Vec<u32> {
        let mut walk = self.walk(key);
        walk.truncate(n as usize);
        walk
    }

    /// Per server, how many of `keys` it is a home replica of (N each).
    pub fn home_keys(&self, keys: &[String], n: u32) -> Vec<u32> {
        let mut counts = vec![0; self.servers as usize];
        for key in keys {
            for s in self.home(key, n) {
                counts[s as usize] += 1;
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_meets_every_server_once_and_the_home_is_its_start() {
        let ring = Ring::new(5, 16);
        let walk = ring.walk("k7");
        let mut sorted = walk.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 1, 2, 3, 4]);
        assert_eq!(ring.home("k7", 3), walk[..3].to_vec());
        assert_eq!(
            Ring::new(5, 16),
            ring,
            "every server computes the same ring"
        );
    }

    #[test]
    fn virtual_nodes_even_out_the_load() {
        let keys: Vec<String> = (0..10_000).map(|i| format!("k{i}")).collect();
        let spread = |vnodes| {
            let counts = Ring::new(8, vnodes).home_keys(&keys, 1);
            let max = *counts.iter().max().unwrap() as f64;
            max / (keys.len() as f64 / 8.0)
        };
        let (one, many) = (spread(1), spread(256));
        assert!(many < 1.15, "256 points per server: max/mean {many}");
        assert!(
            one > many,
            "one point per server is less even: {one} vs {many}"
        );
    }
}
