//! The transaction dependency graph and the search for its cycles.
//!
//! Nodes are transactions; an edge says one must come before another, for
//! a reason: ww (a version and the next one), wr (a write and a read of
//! it), rw (a read and the write of the version after the one it saw: an
//! anti-dependency), process (one client's transactions in order) and
//! realtime (one completed before the other began). Adya's phenomena are
//! cycles by the kinds of edge they need:
//!
//! | cycle of | name |
//! |---|---|
//! | ww only | G0 |
//! | ww and wr | G1c |
//! | exactly one rw, the rest ww/wr | G-single |
//! | two or more rw, none adjacent | G-nonadjacent |
//! | any with rw | G2-item |
//!
//! A cycle that also needs process edges is the `-process` variant, and
//! one that needs realtime edges the `-realtime` variant.
//!
//! Whether a cycle of a kind exists is exact where it is a question of
//! strongly connected components (every row but G-single and
//! G-nonadjacent, which need a path search). Those searches run under the
//! budget; when it runs out, the answer for them is unknown.

use super::TxnHistory;
use crate::checker::Budget;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::Serialize;

pub const WW: u8 = 1;
pub const WR: u8 = 2;
pub const RW: u8 = 4;
pub const PROCESS: u8 = 8;
pub const REALTIME: u8 = 16;
pub const ALL: u8 = WW | WR | RW | PROCESS | REALTIME;
/// Not a dependency the history shows but one an axiom requires: co
/// inferred by read committed's, read atomic's or causal consistency's
/// saturation (`saturation.rs`).
pub const INFERRED: u8 = 32;

/// The name of one edge kind.
pub fn kind_name(kind: u8) -> &'static str {
    match kind {
        WW => "ww",
        WR => "wr",
        RW => "rw",
        PROCESS => "process",
        REALTIME => "rt",
        INFERRED => "co",
        _ => "?",
    }
}

/// One dependency, with what it was inferred from: for ww, `value` is the
/// earlier version and `other` the later; for wr, `value` is the version
/// read (`other` the last element's predecessor, unused); for rw,
/// `value` is the version the reader missed and `other` the one it saw
/// (`i64::MIN` for none: the initial state).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edge {
    pub from: u32,
    pub to: u32,
    pub kind: u8,
    pub key: u32,
    pub value: i64,
    pub other: i64,
}

/// "No version": the initial state.
pub const INITIAL: i64 = i64::MIN;

/// The graph: every edge kept for explanations, and a petgraph graph with
/// one edge per ordered pair, weighted by the union of its kinds.
pub struct DepGraph {
    pub edges: Vec<Edge>,
    graph: DiGraph<(), u8, u32>,
}

impl DepGraph {
    /// Builds the graph over `nodes` transactions; self-edges are dropped.
    pub fn new(nodes: usize, mut edges: Vec<Edge>) -> DepGraph {
        edges.retain(|e| e.from != e.to);
        edges.sort_unstable();
        edges.dedup_by(|a, b| a.from == b.from && a.to == b.to && a.kind == b.kind);
        let mut graph = DiGraph::<(), u8, u32>::with_capacity(nodes, edges.len());
        for _ in 0..nodes {
            graph.add_node(());
        }
        let mut i = 0;
        while i < edges.len() {
            let (from, to) = (edges[i].from, edges[i].to);
            let mut mask = 0u8;
            while i < edges.len() && edges[i].from == from && edges[i].to == to {
                mask |= edges[i].kind;
                i += 1;
            }
            graph.add_edge(
                NodeIndex::new(from as usize),
                NodeIndex::new(to as usize),
                mask,
            );
        }
        DepGraph { edges, graph }
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// The strongly connected component of each node under `mask` (edges
    /// with none of its kinds are ignored), and which components hold more
    /// than one node.
    pub fn components(&self, mask: u8) -> Components {
        let filtered =
            petgraph::visit::EdgeFiltered::from_fn(&self.graph, |e| *e.weight() & mask != 0);
        let sccs = petgraph::algo::tarjan_scc(&filtered);
        let mut of = vec![u32::MAX; self.graph.node_count()];
        let mut nontrivial = Vec::new();
        for (c, scc) in sccs.iter().enumerate() {
            for n in scc {
                of[n.index()] = c as u32;
            }
            if scc.len() > 1 {
                let mut nodes: Vec<u32> = scc.iter().map(|n| n.index() as u32).collect();
                nodes.sort_unstable();
                nontrivial.push(nodes);
            }
        }
        nontrivial.sort_unstable();
        Components { of, nontrivial }
    }

    /// The reason for `from -> to` of `kind` (the first recorded).
    pub fn edge(&self, from: u32, to: u32, kind: u8) -> Edge {
        let at = self
            .edges
            .partition_point(|e| (e.from, e.to, e.kind) < (from, to, kind));
        let e = self.edges[at];
        debug_assert!(e.from == from && e.to == to && e.kind == kind);
        e
    }

    /// The shortest path from `start` to `goal` over edges of `mask`
    /// through nodes with `allowed(node)`; `None` if there is none or the
    /// budget ran out (`exhausted` says which).
    pub fn path(
        &self,
        start: u32,
        goal: u32,
        mask: u8,
        allowed: &dyn Fn(u32) -> bool,
        search: &mut Search,
    ) -> Option<Vec<(u32, u32, u8)>> {
        search.stamp += 1;
        let stamp = search.stamp;
        if search.seen.len() < self.node_count() {
            search.seen.resize(self.node_count(), 0);
            search.parent.resize(self.node_count(), (0, 0));
        }
        let mut queue = std::collections::VecDeque::new();
        queue.push_back(start);
        search.seen[start as usize] = stamp;
        while let Some(node) = queue.pop_front() {
            if !search.spend(1) {
                return None;
            }
            for e in self.graph.edges(NodeIndex::new(node as usize)) {
                let kinds = *e.weight() & mask;
                if kinds == 0 {
                    continue;
                }
                let next = e.target().index() as u32;
                if !allowed(next) {
                    continue;
                }
                // Of several kinds on one pair, name the one that needs least.
                let kind = pick(kinds);
                if next == goal {
                    let mut path = vec![(node, next, kind)];
                    let mut at = node;
                    while at != start {
                        let (prev, k) = search.parent[at as usize];
                        path.push((prev, at, k));
                        at = prev;
                    }
                    path.reverse();
                    return Some(path);
                }
                if search.seen[next as usize] != stamp {
                    search.seen[next as usize] = stamp;
                    search.parent[next as usize] = (node, kind);
                    queue.push_back(next);
                }
            }
        }
        None
    }

    /// A cycle through `rw_from -> rw_to` (an rw edge) whose other edges
    /// are of `mask`, with two or more rw edges and no two adjacent (the
    /// first and last edges count as adjacent): G-nonadjacent.
    pub fn nonadjacent_cycle(
        &self,
        rw_from: u32,
        rw_to: u32,
        mask: u8,
        allowed: &dyn Fn(u32) -> bool,
        search: &mut Search,
    ) -> Option<Vec<(u32, u32, u8)>> {
        // States: node x (last edge was rw) x (seen two or more rw).
        let n = self.node_count();
        let state = |node: u32, last_rw: bool, two: bool| -> usize {
            node as usize * 4 + usize::from(last_rw) * 2 + usize::from(two)
        };
        search.stamp += 1;
        let stamp = search.stamp;
        if search.state_seen.len() < n * 4 {
            search.state_seen.resize(n * 4, 0);
            search.state_parent.resize(n * 4, (u32::MAX, 0));
        }
        let first = state(rw_to, true, false);
        search.state_seen[first] = stamp;
        search.state_parent[first] = (u32::MAX, RW);
        let mut queue = std::collections::VecDeque::new();
        queue.push_back(first);
        while let Some(s) = queue.pop_front() {
            if !search.spend(1) {
                return None;
            }
            let node = (s / 4) as u32;
            let last_rw = s & 2 != 0;
            let two = s & 1 != 0;
            for e in self.graph.edges(NodeIndex::new(node as usize)) {
                let next = e.target().index() as u32;
                if !allowed(next) {
                    continue;
                }
                let kinds = *e.weight() & (mask | RW);
                for kind in [WW, WR, PROCESS, REALTIME, RW] {
                    if kinds & kind == 0 {
                        continue;
                    }
                    let is_rw = kind == RW;
                    if is_rw && last_rw {
                        continue;
                    }
                    let now_two = two || is_rw;
                    if next == rw_from {
                        // Closing edge: not rw (the first edge is), and two rw in all.
                        if !is_rw && two {
                            let mut path = vec![(node, next, kind)];
                            let mut at = s;
                            while search.state_parent[at].0 != u32::MAX {
                                let (prev, k) = search.state_parent[at];
                                path.push(((prev / 4), (at / 4) as u32, k));
                                at = prev as usize;
                            }
                            path.push((rw_from, rw_to, RW));
                            path.reverse();
                            return Some(path);
                        }
                        continue;
                    }
                    let t = state(next, is_rw, now_two);
                    if search.state_seen[t] != stamp {
                        search.state_seen[t] = stamp;
                        search.state_parent[t] = (s as u32, kind);
                        queue.push_back(t);
                    }
                }
            }
        }
        None
    }

    /// The edges of a path, with their reasons.
    pub fn explain_path(&self, path: &[(u32, u32, u8)]) -> Vec<Edge> {
        path.iter()
            .map(|&(from, to, kind)| self.edge(from, to, kind))
            .collect()
    }
}

/// Of several kinds on one pair, the one a cycle's class needs least of:
/// ww, then wr, then process, realtime, and rw last.
fn pick(kinds: u8) -> u8 {
    for kind in [WW, WR, PROCESS, REALTIME, INFERRED, RW] {
        if kinds & kind != 0 {
            return kind;
        }
    }
    unreachable!("pick is called with some kind set")
}

/// Strongly connected components.
pub struct Components {
    /// Each node's component.
    pub of: Vec<u32>,
    /// The components with more than one node, each sorted.
    pub nontrivial: Vec<Vec<u32>>,
}

/// Scratch space and the step budget for path searches.
pub struct Search<'a> {
    stamp: u32,
    seen: Vec<u32>,
    parent: Vec<(u32, u8)>,
    state_seen: Vec<u32>,
    state_parent: Vec<(u32, u8)>,
    pub steps: u64,
    budget: &'a Budget<'a>,
    pub exhausted: bool,
}

impl<'a> Search<'a> {
    pub fn new(budget: &'a Budget<'a>) -> Search<'a> {
        Search {
            stamp: 0,
            seen: Vec::new(),
            parent: Vec::new(),
            state_seen: Vec::new(),
            state_parent: Vec::new(),
            steps: 0,
            budget,
            exhausted: false,
        }
    }

    /// Counts `n` steps; false once the budget is spent or cancelled.
    pub fn spend(&mut self, n: u64) -> bool {
        if self.exhausted {
            return false;
        }
        self.steps += n;
        if self.steps > self.budget.steps_max {
            self.exhausted = true;
        } else if self.steps % 4096 < n {
            if let Some(cancel) = self.budget.cancel {
                if cancel() {
                    self.exhausted = true;
                }
            }
        }
        !self.exhausted
    }
}

/// A cycle's class from its edges: the base name by its rw edges, then
/// `-realtime` if it needs a realtime edge, or `-process` a process edge.
pub fn classify(steps: &[(u32, u32, u8)]) -> String {
    let rw: Vec<bool> = steps.iter().map(|s| s.2 == RW).collect();
    let rw_count = rw.iter().filter(|&&r| r).count();
    let base = if rw_count == 0 {
        if steps.iter().all(|s| s.2 != WR) {
            "G0"
        } else {
            "G1c"
        }
    } else if rw_count == 1 {
        "G-single"
    } else {
        let n = rw.len();
        let adjacent = (0..n).any(|i| rw[i] && rw[(i + 1) % n]);
        if adjacent {
            "G2-item"
        } else {
            "G-nonadjacent"
        }
    };
    if steps.iter().any(|s| s.2 == REALTIME) {
        format!("{base}-realtime")
    } else if steps.iter().any(|s| s.2 == PROCESS) {
        format!("{base}-process")
    } else {
        base.to_string()
    }
}

/// Process and realtime edges for `history`'s transactions that may have
/// committed (`member`): each process's transactions in order, and, for
/// realtime, an edge from each transaction to those that began after it
/// completed, kept to the frontier (a transitive reduction: the edges
/// implied through another transaction are left out).
pub fn order_edges(history: &TxnHistory, member: &[bool], edges: &mut Vec<Edge>) {
    // Process order.
    let mut last: std::collections::BTreeMap<u64, u32> = std::collections::BTreeMap::new();
    for (i, t) in history.txns.iter().enumerate() {
        if !member[i] {
            continue;
        }
        if let Some(&prev) = last.get(&t.process) {
            // A process's later transaction began after its earlier one
            // completed (or the earlier one is unknown and still open).
            if history.txns[prev as usize].complete_ns.is_some() {
                edges.push(Edge {
                    from: prev,
                    to: i as u32,
                    kind: PROCESS,
                    key: u32::MAX,
                    value: 0,
                    other: 0,
                });
            }
        }
        last.insert(t.process, i as u32);
    }
    if !history.has_realtime {
        return;
    }
    // Realtime: sweep invocations and completions in time order.
    let mut events: Vec<(u64, u8, u32)> = Vec::with_capacity(history.txns.len() * 2);
    for (i, t) in history.txns.iter().enumerate() {
        if !member[i] {
            continue;
        }
        // Completions sort before invocations at the same instant? No: an
        // invocation at the same time as a completion is concurrent with it.
        events.push((t.invoke_ns, 0, i as u32));
        if let Some(c) = t.complete_ns {
            events.push((c, 1, i as u32));
        }
    }
    events.sort_unstable();
    // The frontier: completed transactions not yet followed by another
    // completed one that began after them.
    let mut frontier: Vec<u32> = Vec::new();
    // For each running transaction, the frontier it saw when it began.
    let mut seen_at_start: std::collections::BTreeMap<u32, Vec<u32>> =
        std::collections::BTreeMap::new();
    for (_, kind, i) in events {
        if kind == 0 {
            for &f in &frontier {
                edges.push(Edge {
                    from: f,
                    to: i,
                    kind: REALTIME,
                    key: u32::MAX,
                    value: 0,
                    other: 0,
                });
            }
            seen_at_start.insert(i, frontier.clone());
        } else {
            let before = seen_at_start.remove(&i).unwrap_or_default();
            frontier.retain(|f| !before.contains(f));
            frontier.push(i);
        }
    }
}
