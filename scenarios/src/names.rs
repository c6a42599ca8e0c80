//! The names a scenario's nodes go by: servers (`n1`.. or the names listed),
//! clients (`client1`..), and the bindings a fault may use (`@leader`,
//! `@old-leader`, `@followerK`). One place, so that validation, conversion
//! and the runner agree on them (and import nothing of each other's for it).

use crate::schema::Nodes;
use sim_core::NodeId;

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

/// The client behind a history's process: `client{k+1}` for process
/// `k + clients * r` (a client whose operation ended unknown goes on as a
/// new process). "process N" when the run had no clients.
pub fn client_of_process(process: u64, clients: u64) -> String {
    if clients == 0 {
        return format!("process {process}");
    }
    format!("{CLIENT_PREFIX}{}", process % clients + 1)
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

/// A monitor's message with each node id (`#3`, as `NodeId` prints) replaced
/// by the node's name in the scenario (`n4`): monitors are sans-IO and know
/// ids only, and users know names only. Also used for `trace.jsonl`.
pub fn with_node_names(message: &str, names: &[String]) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find('#') {
        out.push_str(&rest[..at]);
        let digits: String = rest[at + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        match digits.parse::<usize>().ok().and_then(|id| names.get(id)) {
            Some(name) => out.push_str(name),
            None => out.push_str(&rest[at..at + 1 + digits.len()]),
        }
        rest = &rest[at + 1 + digits.len()..];
    }
    out.push_str(rest);
    out
}

/// The id of the node called `name` (servers, then clients).
pub fn node_by_name(names: &[String], name: &str) -> Result<NodeId, String> {
    names
        .iter()
        .position(|n| n == name)
        .map(|i| NodeId(i as u32))
        .ok_or(format!("unknown node {name}"))
}
