//! Why the engine refused a configuration or a fault, as one type a
//! library user can match on. The scenario layer validates first, so a
//! scenario's user sees these only for what validation cannot judge ahead
//! (a fault bound at run time); a direct user of the engine sees them all.

/// The engine's refusal of what it was given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A per-node list (`clocks`, `disks`) whose length is not the node count.
    #[error("{given} {what} configs given for {nodes} nodes")]
    PerNodeCount {
        what: &'static str,
        given: usize,
        nodes: usize,
    },
    /// One node's clock or disk that is not valid.
    #[error("{what} of node {node}: {message}")]
    Node {
        what: &'static str,
        node: String,
        message: String,
    },
    /// A fault that cannot be scheduled: a node that does not exist, a
    /// value out of range, or a time already past.
    #[error("{0}")]
    Fault(String),
}
