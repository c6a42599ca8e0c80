//! The names a scenario's nodes go by: servers (`n1`.. or the names listed),
//! clients (`client1`..), and the bindings a fault may use (`@leader`,
//! `@old-leader`, `@followerK`). One place, so that validation, conversion
//! and the runner agree on them (and import nothing of each other's for it).

use crate::schema::{Nodes, Scenario};

/// Servers in a scenario at most.
pub const NODES_MAX: u32 = 100_000;
/// Client nodes are named with this prefix and a number from 1.
pub const CLIENT_PREFIX: &str = "client";

/// In a fault: the server leading the highest term when the fault happens.
pub const LEADER: &str = "@leader";
/// In a fault: the server the latest "@leader" fault acted on.
pub const OLD_LEADER: &str = "@old-leader";
/// In a fault: "@follower1", "@follower2", ...: the live servers that do not
/// lead when the fault happens, in id order.
pub const FOLLOWER_PREFIX: &str = "@follower";

/// The k-th follower (from 1) that `name` stands for, if it is "@followerK".
pub fn follower_rank(name: &str) -> Option<usize> {
    let rank: usize = name.strip_prefix(FOLLOWER_PREFIX)?.parse().ok()?;
    (1..=NODES_MAX as usize).contains(&rank).then_some(rank)
}

/// The servers' names in id order.
pub fn server_names(nodes: &Nodes) -> Vec<String> {
    match nodes {
        Nodes::Count(count) => (1..=(*count).min(NODES_MAX))
            .map(|i| format!("n{i}"))
            .collect(),
        Nodes::Names(names) => names.clone(),
    }
}

/// Every node's name in id order: servers, then clients.
pub fn all_node_names(scenario: &Scenario) -> Vec<String> {
    let mut names = server_names(&scenario.nodes);
    let clients = scenario
        .workload
        .clients
        .min(protocols::workload::CLIENTS_MAX);
    names.extend((1..=clients).map(|i| format!("{CLIENT_PREFIX}{i}")));
    names
}
