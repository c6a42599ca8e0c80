//! Ring election on the plug-in boundary: its name, its params' checks,
//! the ids the seed draws, and its servers.

use super::params::RingParams;
use super::params::RingVariant;
use super::RingElection;
use crate::election::Ids;
use crate::plugin::{Capabilities, Clients, Invalid, Plugin, Setup, Theory};
use sim_core::NodeId;
use std::sync::Arc;

pub struct RingPlugin;

impl Plugin for RingPlugin {
    const NAME: &'static str = "RingElection";
    const SUMMARY: &'static str = "leader election on a unidirectional ring (Chang-Roberts, or LeLann), re-electing when the leader dies; no clients";
    const CAPABILITIES: Capabilities = Capabilities::serving(Clients::None).with_leader();
    type Params = RingParams;
    type Service = RingElection;

    fn validate(params: &RingParams, setup: &Setup) -> Result<(), Invalid> {
        params
            .validate(setup.servers)
            .map_err(|e| Invalid::from_text(&e))
    }

    /// Random ids from the stream "ring.ids" (its name since ids were first
    /// drawn, so resolved runs stay as they were).
    fn resolve(params: &mut RingParams, setup: &Setup, seed: u64) {
        params.ids.resolve(setup.servers, seed, "ring.ids");
    }

    /// An explicit id goes with its server.
    fn without_server(params: &mut RingParams, index: usize) {
        params.ids.without_server(index);
    }

    /// The election messages of the first election when every server
    /// starts it at once and nothing fails: LeLann sends n² (every id goes
    /// round); Chang–Roberts sends n·H_n on average over random ids, and
    /// for known ids the exact count, each id travelling until it meets a
    /// larger one (2n−1 for increasing ids, n(n+1)/2 for decreasing).
    fn theory(params: &RingParams, setup: &Setup) -> Vec<Theory> {
        let n = setup.servers;
        let (label, value) = match (&params.variant, &params.ids) {
            (RingVariant::LeLann, _) => ("theory: n² (LeLann)".to_string(), (n * n) as f64),
            (RingVariant::ChangRoberts, Ids::Random) => (
                "theory: n·H_n (Chang–Roberts, random ids)".to_string(),
                n as f64 * harmonic(n),
            ),
            (RingVariant::ChangRoberts, ids) => (
                "theory: Chang–Roberts for these ids".to_string(),
                chang_roberts_messages(&ids.uids(n)) as f64,
            ),
        };
        vec![Theory {
            metric: "election_messages".to_string(),
            label,
            value,
        }]
    }

    fn servers(params: &RingParams, setup: &Setup) -> Box<dyn FnMut(NodeId) -> RingElection> {
        let params = Arc::new(RingParams {
            uids: params.ids.uids(setup.servers),
            ..params.clone()
        });
        Box::new(move |_| RingElection::new(params.clone()))
    }
}

/// H_n = 1 + 1/2 + ... + 1/n.
pub fn harmonic(n: usize) -> f64 {
    (1..=n).map(|k| 1.0 / k as f64).sum()
}

/// Chang–Roberts' election messages when every server starts at once on a
/// ring in index order: each id travels forward until it reaches a larger
/// id (which swallows it), and the largest travels all n hops home.
/// Quadratic in the worst case, so bounded by the ring's size limit.
pub fn chang_roberts_messages(uids: &[u64]) -> u64 {
    let n = uids.len();
    let mut total = 0u64;
    for (start, &id) in uids.iter().enumerate() {
        let mut hops = 1u64;
        while hops < n as u64 && uids[(start + hops as usize) % n] < id {
            hops += 1;
        }
        total += hops;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chang_roberts_counts_match_the_textbook_cases() {
        let n = 10u64;
        let increasing: Vec<u64> = (1..=n).collect();
        let decreasing: Vec<u64> = (1..=n).rev().collect();
        assert_eq!(chang_roberts_messages(&increasing), 2 * n - 1);
        assert_eq!(chang_roberts_messages(&decreasing), n * (n + 1) / 2);
        // 3 1 2: 3 goes round (3 hops), 1 is swallowed by 2 (1), 2 by 3 (1).
        assert_eq!(chang_roberts_messages(&[3, 1, 2]), 5);
    }

    #[test]
    fn the_mean_over_every_permutation_is_n_h_n() {
        // All 4! rings of 4: the exact mean is 4·H_4 = 25/3.
        let mut perms: Vec<Vec<u64>> = vec![vec![]];
        for id in 1..=4u64 {
            perms = perms
                .into_iter()
                .flat_map(|p| {
                    (0..=p.len()).map(move |at| {
                        let mut q = p.clone();
                        q.insert(at, id);
                        q
                    })
                })
                .collect();
        }
        assert_eq!(perms.len(), 24);
        let mean = perms.iter().map(|p| chang_roberts_messages(p)).sum::<u64>() as f64 / 24.0;
        assert!((mean - 4.0 * harmonic(4)).abs() < 1e-9, "{mean}");
    }
}
