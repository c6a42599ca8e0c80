//! Faults the engine can inject, as scheduled events.

use crate::ids::NodeId;
use crate::link::check_probability;
use crate::partition::Partition;
use crate::time::{format_signed_nanos, SimDuration};
use serde::{Deserialize, Serialize};

/// One fault action. Every variant does something observable in the trace;
/// one that finds nothing to act on (restarting a live node) is traced as a no-op.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Fault {
    /// The node stops: volatile state, pending timers and queued inputs are lost;
    /// messages to it are dropped at delivery. With `lose_unsynced`, durable
    /// writes that were not synced are lost too (the storage fault).
    Crash {
        node: NodeId,
        lose_unsynced: bool,
    },
    /// A crashed node starts again and recovers from durable storage.
    Restart(NodeId),
    /// A stop-the-world pause (a GC pause): nothing is processed, inputs wait and
    /// timers fire late. With a duration it resumes by itself.
    Pause {
        node: NodeId,
        duration: Option<SimDuration>,
    },
    Resume(NodeId),
    Partition(Partition),
    /// Removes every partition.
    Heal,
    /// Holds messages on matching links until released (`None` matches any node).
    Clog {
        from: Option<NodeId>,
        to: Option<NodeId>,
    },
    /// Removes a clog with exactly these endpoints and delivers what it held.
    Release {
        from: Option<NodeId>,
        to: Option<NodeId>,
    },
    /// Steps a node's clock by `delta_ns` (negative: backwards).
    ClockJump {
        node: NodeId,
        delta_ns: i64,
    },
    /// Overrides the loss probability of every link; `None` restores the links' own.
    SetLoss(Option<f64>),
    /// The node's syncs asked for in the next `duration` take `factor`
    /// times their drawn latency (a degraded disk).
    DiskSlow {
        node: NodeId,
        factor: f64,
        duration: SimDuration,
    },
    /// No sync of the node completes for `duration` (a hung fsync); those
    /// due meanwhile complete when it ends, in order.
    DiskStall {
        node: NodeId,
        duration: SimDuration,
    },
}

impl Fault {
    /// Checks node ids and parameters against a cluster of `node_count` nodes.
    pub fn validate(&self, node_count: usize) -> Result<(), String> {
        let check_node = |node: &NodeId| {
            if node.index() < node_count {
                Ok(())
            } else {
                Err(format!(
                    "node {node} does not exist; the cluster has {node_count} nodes"
                ))
            }
        };
        match self {
            Fault::Crash { node, .. }
            | Fault::Restart(node)
            | Fault::Pause { node, .. }
            | Fault::Resume(node)
            | Fault::ClockJump { node, .. }
            | Fault::DiskStall { node, .. } => check_node(node),
            Fault::DiskSlow { node, factor, .. } => {
                check_node(node)?;
                if factor.is_finite() && *factor > 0.0 && *factor <= crate::disk::SLOW_FACTOR_MAX {
                    Ok(())
                } else {
                    Err(format!(
                        "a disk slow-down factor must be above 0 and at most {}, got {factor}",
                        crate::disk::SLOW_FACTOR_MAX
                    ))
                }
            }
            Fault::Partition(p) => p.validate(node_count),
            Fault::Heal => Ok(()),
            Fault::Clog { from, to } | Fault::Release { from, to } => {
                from.iter().chain(to.iter()).try_for_each(check_node)
            }
            Fault::SetLoss(loss) => loss.map_or(Ok(()), |p| check_probability("loss", p)),
        }
    }

    /// A short label for traces and reports.
    pub fn describe(&self) -> String {
        let side = |n: &Option<NodeId>| n.map_or("*".to_string(), |n| n.to_string());
        match self {
            Fault::Crash {
                node,
                lose_unsynced,
            } => {
                format!(
                    "crash {node}{}",
                    if *lose_unsynced {
                        " (losing unsynced writes)"
                    } else {
                        ""
                    }
                )
            }
            Fault::Restart(node) => format!("restart {node}"),
            Fault::Pause { node, duration } => match duration {
                Some(d) => format!("pause {node} for {d}"),
                None => format!("pause {node}"),
            },
            Fault::Resume(node) => format!("resume {node}"),
            Fault::Partition(p) => format!("partition {p:?}"),
            Fault::Heal => "heal".into(),
            Fault::Clog { from, to } => format!("clog {}->{}", side(from), side(to)),
            Fault::Release { from, to } => format!("release {}->{}", side(from), side(to)),
            Fault::ClockJump { node, delta_ns } => {
                format!("clock jump {node} by {}", format_signed_nanos(*delta_ns))
            }
            Fault::SetLoss(loss) => match loss {
                Some(p) => format!("set loss {p}"),
                None => "restore loss".into(),
            },
            Fault::DiskSlow {
                node,
                factor,
                duration,
            } => format!("disk slow {node} x{factor} for {duration}"),
            Fault::DiskStall { node, duration } => format!("disk stall {node} for {duration}"),
        }
    }
}
