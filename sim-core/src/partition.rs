//! Network partitions and the rule that decides whether a message may pass.
//!
//! Delivery rule: a message is checked against the partition state at the
//! moment it would be delivered, not when it was sent. A partition therefore
//! also cuts messages already in flight, as a real cut cable does. (A message
//! delivered before the partition began is not affected.)
//!
//! Each active partition is a rule that gives every node a group number.
//! Rules add up: a message passes only if no active rule blocks it. `Heal`
//! removes every rule.

use crate::ids::NodeId;
use serde::{Deserialize, Serialize};

/// At most this many partitions are active at once.
pub const ACTIVE_PARTITIONS_MAX: usize = 64;

/// A partition as a user declares it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Partition {
    /// Symmetric: nodes in different groups cannot talk. Nodes listed in no
    /// group form one more group of their own.
    Groups(Vec<Vec<NodeId>>),
    /// One-way: messages from `from` to `to` are dropped; the reverse direction works.
    OneWay { from: Vec<NodeId>, to: Vec<NodeId> },
    /// The node can neither send to nor receive from anyone else.
    Isolate(NodeId),
    /// `left` and `right` cannot talk to each other; `bridge` talks to both.
    /// Unlisted nodes form one more group.
    Bridge {
        left: Vec<NodeId>,
        right: Vec<NodeId>,
        bridge: NodeId,
    },
    /// `partition`, except that the `spared` nodes it does not name talk to
    /// every node (a scenario's clients: a client keeps reaching the
    /// servers unless a partition places it on a side).
    Sparing {
        partition: Box<Partition>,
        spared: Vec<NodeId>,
    },
}

/// Group 0 talks to every group (used for a bridge node).
const WILDCARD: u16 = 0;

#[derive(Clone, Debug, PartialEq, Eq)]
enum RuleKind {
    /// Blocked when both groups are non-wildcard and differ.
    Symmetric,
    /// Blocked when the sender is in group 1 and the receiver in group 2.
    OneWay,
}

/// A compiled partition: one group number per node.
#[derive(Clone, Debug)]
struct Rule {
    group_of: Vec<u16>,
    kind: RuleKind,
}

impl Rule {
    #[inline]
    fn blocks(&self, from: NodeId, to: NodeId) -> bool {
        let g_from = self.group_of[from.index()];
        let g_to = self.group_of[to.index()];
        match self.kind {
            RuleKind::Symmetric => g_from != g_to && g_from != WILDCARD && g_to != WILDCARD,
            RuleKind::OneWay => g_from == 1 && g_to == 2,
        }
    }
}

impl Partition {
    /// Checks the partition against a cluster of `node_count` nodes.
    pub fn validate(&self, node_count: usize) -> Result<(), String> {
        self.assign_groups(node_count).map(|_| ())
    }

    fn assign_groups(&self, node_count: usize) -> Result<Rule, String> {
        if let Partition::Sparing { partition, spared } = self {
            let mut rule = partition.assign_groups(node_count)?;
            let named = partition.named();
            for node in spared {
                let slot = rule.group_of.get_mut(node.index()).ok_or_else(|| {
                    format!("the spared node {node} is outside the cluster of {node_count} nodes")
                })?;
                if !named.contains(node) {
                    *slot = WILDCARD;
                }
            }
            return Ok(rule);
        }
        let mut group_of = vec![u16::MAX; node_count];
        let mut assign = |nodes: &[NodeId], group: u16, what: &str| -> Result<(), String> {
            if nodes.is_empty() {
                return Err(format!("{what} is empty; list at least one node"));
            }
            for node in nodes {
                let slot = group_of.get_mut(node.index()).ok_or_else(|| {
                    format!("{what} names node {node}, but the cluster has {node_count} nodes")
                })?;
                if *slot != u16::MAX {
                    return Err(format!(
                        "node {node} appears in more than one group; groups must not overlap"
                    ));
                }
                *slot = group;
            }
            Ok(())
        };
        let kind = match self {
            Partition::Groups(groups) => {
                if groups.len() > (u16::MAX - 2) as usize {
                    return Err("too many partition groups".into());
                }
                for (index, group) in groups.iter().enumerate() {
                    assign(group, index as u16 + 1, &format!("group {index}"))?;
                }
                RuleKind::Symmetric
            }
            Partition::OneWay { from, to } => {
                assign(from, 1, "the `from` side")?;
                assign(to, 2, "the `to` side")?;
                RuleKind::OneWay
            }
            Partition::Isolate(node) => {
                assign(&[*node], 1, "the isolated node")?;
                RuleKind::Symmetric
            }
            Partition::Sparing { .. } => unreachable!("handled above"),
            Partition::Bridge {
                left,
                right,
                bridge,
            } => {
                assign(left, 1, "the left side")?;
                assign(right, 2, "the right side")?;
                assign(&[*bridge], WILDCARD, "the bridge")?;
                RuleKind::Symmetric
            }
        };
        // Unlisted nodes: one extra group for symmetric rules; "untouched" (3) for one-way.
        let rest = match self {
            Partition::Groups(groups) => groups.len() as u16 + 1,
            _ => 3,
        };
        for slot in &mut group_of {
            if *slot == u16::MAX {
                *slot = rest;
            }
        }
        Ok(Rule { group_of, kind })
    }
}

impl Partition {
    /// Every node the partition names.
    fn named(&self) -> Vec<NodeId> {
        match self {
            Partition::Groups(groups) => groups.iter().flatten().copied().collect(),
            Partition::OneWay { from, to } => from.iter().chain(to).copied().collect(),
            Partition::Isolate(node) => vec![*node],
            Partition::Bridge {
                left,
                right,
                bridge,
            } => left.iter().chain(right).chain([bridge]).copied().collect(),
            Partition::Sparing { partition, .. } => partition.named(),
        }
    }
}

/// The set of active partitions.
#[derive(Clone, Debug, Default)]
pub struct PartitionState {
    rules: Vec<Rule>,
}

impl PartitionState {
    /// Adds a partition. Errors if it is invalid or too many are active.
    pub fn add(&mut self, partition: &Partition, node_count: usize) -> Result<(), String> {
        if self.rules.len() >= ACTIVE_PARTITIONS_MAX {
            return Err(format!(
                "at most {ACTIVE_PARTITIONS_MAX} partitions may be active at once; heal first"
            ));
        }
        let rule = partition.assign_groups(node_count)?;
        self.rules.push(rule);
        Ok(())
    }

    /// Removes every partition.
    pub fn heal(&mut self) {
        self.rules.clear();
    }

    pub fn active_count(&self) -> usize {
        self.rules.len()
    }

    /// Whether a message from `from` to `to` is cut right now.
    #[inline]
    pub fn blocks(&self, from: NodeId, to: NodeId) -> bool {
        !self.rules.is_empty() && self.rules.iter().any(|r| r.blocks(from, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(i: u32) -> NodeId {
        NodeId(i)
    }

    fn state(p: Partition, count: usize) -> PartitionState {
        let mut s = PartitionState::default();
        s.add(&p, count).unwrap();
        s
    }

    #[test]
    fn symmetric_groups_cut_both_directions_and_unlisted_nodes_form_a_group() {
        let s = state(Partition::Groups(vec![vec![n(0), n(1)], vec![n(2)]]), 5);
        assert!(!s.blocks(n(0), n(1)));
        assert!(s.blocks(n(0), n(2)) && s.blocks(n(2), n(0)));
        assert!(s.blocks(n(3), n(0)) && s.blocks(n(2), n(4)));
        assert!(!s.blocks(n(3), n(4)));
    }

    #[test]
    fn one_way_blocks_exactly_one_direction() {
        let s = state(
            Partition::OneWay {
                from: vec![n(0)],
                to: vec![n(1), n(2)],
            },
            4,
        );
        assert!(s.blocks(n(0), n(1)) && s.blocks(n(0), n(2)));
        assert!(!s.blocks(n(1), n(0)) && !s.blocks(n(2), n(0)));
        assert!(!s.blocks(n(0), n(3)) && !s.blocks(n(3), n(1)));
    }

    #[test]
    fn bridge_sees_both_sides() {
        let s = state(
            Partition::Bridge {
                left: vec![n(0)],
                right: vec![n(1)],
                bridge: n(2),
            },
            3,
        );
        assert!(s.blocks(n(0), n(1)) && s.blocks(n(1), n(0)));
        assert!(!s.blocks(n(2), n(0)) && !s.blocks(n(1), n(2)));
    }

    #[test]
    fn spared_nodes_talk_to_every_side_unless_named() {
        // Servers 0-3, clients 4 and 5; client 5 is placed with server 0.
        let s = state(
            Partition::Sparing {
                partition: Box::new(Partition::Groups(vec![
                    vec![n(0), n(1), n(5)],
                    vec![n(2), n(3)],
                ])),
                spared: vec![n(4), n(5)],
            },
            6,
        );
        assert!(s.blocks(n(0), n(2)) && s.blocks(n(3), n(1)));
        assert!(!s.blocks(n(4), n(0)) && !s.blocks(n(4), n(3)) && !s.blocks(n(2), n(4)));
        assert!(!s.blocks(n(5), n(1)) && s.blocks(n(5), n(2)) && s.blocks(n(3), n(5)));
        // Without sparing, the unlisted client is a group of its own.
        let plain = state(
            Partition::Groups(vec![vec![n(0), n(1)], vec![n(2), n(3)]]),
            5,
        );
        assert!(plain.blocks(n(4), n(0)) && plain.blocks(n(4), n(2)));
    }

    #[test]
    fn isolate_and_heal() {
        let mut s = state(Partition::Isolate(n(1)), 3);
        assert!(s.blocks(n(1), n(0)) && s.blocks(n(2), n(1)) && !s.blocks(n(0), n(2)));
        s.heal();
        assert!(!s.blocks(n(1), n(0)));
    }

    #[test]
    fn invalid_partitions_say_why() {
        let overlap = Partition::Groups(vec![vec![n(0), n(1)], vec![n(1)]]);
        assert_eq!(
            overlap.validate(3).unwrap_err(),
            "node #1 appears in more than one group; groups must not overlap"
        );
        let unknown = Partition::Isolate(n(9));
        assert_eq!(
            unknown.validate(3).unwrap_err(),
            "the isolated node names node #9, but the cluster has 3 nodes"
        );
        let empty = Partition::OneWay {
            from: vec![],
            to: vec![n(0)],
        };
        assert_eq!(
            empty.validate(3).unwrap_err(),
            "the `from` side is empty; list at least one node"
        );
    }
}
