//! What every leader election by ids shares: the check of its ids, and the
//! end-of-run invariant `max-id-leader` (once faults stop, each live server
//! follows the live server with the largest id, and that server follows
//! itself).
//!
//! Shared by ring election and Bully, which promise the same outcome by
//! different message patterns.

use crate::invariant::Violation;
use serde::{Deserialize, Serialize};
use sim_core::{NodeId, SimDuration, SimTime};
use std::collections::BTreeMap;

/// Which id each server gets, as a scenario writes it. For a ring, the
/// ring runs n1 -> n2 -> ... -> n1.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Ids {
    /// n1 gets 1, n2 gets 2, ...: ids grow along the ring (Chang–Roberts'
    /// best case, 2n−1 election messages).
    Increasing,
    /// n1 gets n, n2 gets n−1, ...: the ring's worst case, n(n+1)/2.
    Decreasing,
    /// A permutation of 1..=n drawn from the seed (resolution writes it
    /// out as `Explicit`).
    #[default]
    Random,
    /// One id per server, in server order; unique.
    Explicit(Vec<u64>),
}

impl Ids {
    /// The ids of `servers` servers. `Random` must have been resolved (to
    /// `Explicit`); if not (validation), it stands for 1..=n.
    pub fn uids(&self, servers: usize) -> Vec<u64> {
        let n = servers as u64;
        match self {
            Ids::Increasing | Ids::Random => (1..=n).collect(),
            Ids::Decreasing => (1..=n).rev().collect(),
            Ids::Explicit(ids) => ids.clone(),
        }
    }

    /// The ids without server `index`'s (explicit ids only: the others
    /// follow the server count).
    pub fn without_server(&mut self, index: usize) {
        if let Ids::Explicit(ids) = self {
            if index < ids.len() {
                ids.remove(index);
            }
        }
    }

    /// Writes `Random` out as the permutation the seed draws from the
    /// protocol's own `stream`, so one protocol's ids never shift another's.
    pub fn resolve(&mut self, servers: usize, seed: u64, stream: &str) {
        use rand::seq::SliceRandom;
        if *self == Ids::Random {
            let mut drawn: Vec<u64> = (1..=servers as u64).collect();
            drawn.shuffle(&mut sim_core::rng::stream(seed, stream));
            *self = Ids::Explicit(drawn);
        }
    }
}

pub const MAX_ID_LEADER: &str = "max-id-leader";

/// Violations reported at most: one per confused server is noise beyond it.
const REPORTED_MAX: usize = 8;

/// What an election monitor knows of each server (by index): its id once
/// started, whether it is up, which id it follows (its own when it leads),
/// and whether it leads; and the monitor's counts. Ring election's and
/// Bully's monitors keep this same shape and differ only in what they judge.
#[derive(Debug, Default)]
pub struct Electorate {
    pub uids: Vec<Option<u64>>,
    pub up: Vec<bool>,
    pub believes: Vec<Option<u64>>,
    pub leading: Vec<bool>,
    counts: BTreeMap<&'static str, u64>,
}

impl Electorate {
    /// `servers` servers, up or not until they start.
    pub fn new(servers: u32, up: bool) -> Self {
        let n = servers as usize;
        Electorate {
            uids: vec![None; n],
            up: vec![up; n],
            believes: vec![None; n],
            leading: vec![false; n],
            counts: BTreeMap::new(),
        }
    }

    /// Server `i` (re)started with id `uid`, following no one.
    pub fn started(&mut self, i: usize, uid: u64) {
        self.uids[i] = Some(uid);
        self.up[i] = true;
        self.believes[i] = None;
        self.leading[i] = false;
    }

    /// Server `i` crashed: it follows and leads no one.
    pub fn crashed(&mut self, i: usize) {
        self.up[i] = false;
        self.believes[i] = None;
        self.leading[i] = false;
    }

    /// Server `i` leads, with id `uid`.
    pub fn lead(&mut self, i: usize, uid: u64) {
        self.believes[i] = Some(uid);
        self.leading[i] = true;
    }

    /// Live leaders other than server `i`, in index order.
    pub fn live_leaders_but(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.up.len()).filter(move |&j| j != i && self.up[j] && self.leading[j])
    }

    pub fn anyone_leads(&self) -> bool {
        (0..self.up.len()).any(|j| self.up[j] && self.leading[j])
    }

    pub fn bump(&mut self, name: &'static str) {
        *self.counts.entry(name).or_default() += 1;
    }

    /// The counts, by name.
    pub fn counts(&self) -> Vec<(&'static str, u64)> {
        self.counts.iter().map(|(k, v)| (*k, *v)).collect()
    }

    pub fn heap_bytes(&self) -> usize {
        (self.uids.capacity() + self.believes.capacity()) * 16
            + (self.up.capacity() + self.leading.capacity())
    }

    /// `max-id-leader` at the end of the run.
    pub fn finish(&self, time: SimTime) -> Vec<Violation> {
        max_id_leader(time, &self.up, &self.uids, &self.believes)
    }
}

/// Judges `max-id-leader` at `time`. Per server index: whether it is up,
/// its id (None until it started) and the id it believes leads.
pub fn max_id_leader(
    time: SimTime,
    up: &[bool],
    uids: &[Option<u64>],
    believes: &[Option<u64>],
) -> Vec<Violation> {
    assert!(up.len() == uids.len() && uids.len() == believes.len());
    let live: Vec<usize> = (0..up.len())
        .filter(|&i| up[i] && uids[i].is_some())
        .collect();
    let Some(max) = live.iter().filter_map(|&i| uids[i]).max() else {
        return Vec::new();
    };
    live.iter()
        .filter(|&&i| believes[i] != Some(max))
        .take(REPORTED_MAX)
        .map(|&i| Violation {
            invariant: MAX_ID_LEADER,
            time,
            node: Some(NodeId(i as u32)),
            message: match believes[i] {
                Some(uid) => format!(
                    "it believes id {uid} leads at the end, but the largest live id is {max}"
                ),
                None => format!("it knows no leader at the end; the largest live id is {max}"),
            },
        })
        .collect()
}

/// Checks one unique id per server; errors name the `ids` field.
pub fn validate_ids(uids: &[u64], servers: usize) -> Result<(), String> {
    if uids.len() != servers {
        return Err(format!(
            "ids: give one id per server ({servers}), got {}",
            uids.len()
        ));
    }
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    if let Some(pair) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!(
            "ids: every id must be unique; {} appears twice",
            pair[0]
        ));
    }
    Ok(())
}

/// What every leader-election protocol checks of its params: a server count
/// within `servers_max` (`why_max` says why the bound), one unique id per
/// server, every named timeout above zero, and a failure timeout longer
/// than the heartbeat interval (else a live leader is suspected between two
/// heartbeats). Errors name the field.
pub fn validate_election(
    servers: usize,
    (servers_max, why_max): (usize, &str),
    uids: &[u64],
    (heartbeat_interval, failure_timeout): (SimDuration, SimDuration),
    timeouts: &[(&str, SimDuration)],
) -> Result<(), String> {
    if servers > servers_max {
        return Err(format!(
            "ids: at most {servers_max} servers {why_max}, got {servers}"
        ));
    }
    validate_ids(uids, servers)?;
    let named = [
        ("heartbeat_interval", heartbeat_interval),
        ("failure_timeout", failure_timeout),
    ];
    for (name, value) in named.iter().chain(timeouts) {
        if *value == SimDuration::ZERO {
            return Err(format!("{name}: must be above zero"));
        }
    }
    if failure_timeout <= heartbeat_interval {
        return Err(format!(
            "failure_timeout: must exceed heartbeat_interval ({heartbeat_interval}), got {failure_timeout}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_id_goes_with_its_server_and_the_others_follow_the_count() {
        let mut ids = Ids::Explicit(vec![3, 1, 4, 2]);
        ids.without_server(1);
        assert_eq!(ids, Ids::Explicit(vec![3, 4, 2]));
        assert_eq!(ids.uids(3), [3, 4, 2]);
        let mut decreasing = Ids::Decreasing;
        decreasing.without_server(0);
        assert_eq!(decreasing.uids(3), [3, 2, 1]);
    }
}
