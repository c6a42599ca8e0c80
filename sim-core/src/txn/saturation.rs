//! Read committed, read atomic and causal consistency by saturation
//! (Biswas & Enea, "On the Complexity of Checking Transactional
//! Consistency", OOPSLA 2019; the definitions Plume, PolySI and AWDIT
//! check).
//!
//! Each model is an axiom of the form "if transaction t reads key x from
//! t1, and t2 also writes x and is related to t in a certain way, then t2's
//! write comes before t1's in the commit order (co)":
//! - read committed: t2 wrote what an earlier read of t saw;
//! - read atomic: t2 is a direct predecessor of t (an earlier transaction
//!   of t's session, or one t reads from);
//! - causal: t2 is in t's causal past (session order and reads-from,
//!   transitively).
//! Adding those edges to session order, reads-from and the version order
//! already known, the history satisfies the model exactly when the union
//! has no cycle (their theorem 4.2 for these three models). A cycle is the
//! counterexample.
//!
//! Causal pasts are kept as vector clocks over sessions (a transaction's
//! latest causal predecessor in each session), so the cost is
//! transactions × sessions; that memory is checked against the budget
//! first, and a history too wide for it is unknown.

use super::graph::{DepGraph, Edge, Search, PROCESS, WR, WW};
use super::observations::Observations;
use super::TxnHistory;
use crate::checker::Budget;

pub use super::graph::INFERRED;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    ReadCommitted,
    ReadAtomic,
    Causal,
}

impl Level {
    pub fn anomaly(self) -> &'static str {
        match self {
            Level::ReadCommitted => "read-committed-violation",
            Level::ReadAtomic => "read-atomic-violation",
            Level::Causal => "causal-violation",
        }
    }
}

pub enum Outcome {
    Holds,
    /// A cycle of session, reads-from, known and inferred order; the
    /// initial state is node `history.len()`.
    Violated(Vec<Edge>),
    Unknown(String),
}

/// Checks `level` over the transactions `obs.member` says may have
/// committed, using the external reads and writes in `obs`.
pub fn check(
    history: &TxnHistory,
    obs: &Observations,
    level: Level,
    budget: &Budget,
    memory_bytes_max: u64,
) -> Outcome {
    let n = history.txns.len();
    let init = n as u32;
    let committed = committed(history, obs);
    // Sessions: each process's committed transactions in order.
    let mut session_ids: Vec<u64> = history
        .txns
        .iter()
        .enumerate()
        .filter(|(i, _)| committed[*i])
        .map(|(_, t)| t.process)
        .collect();
    session_ids.sort_unstable();
    session_ids.dedup();
    let k = session_ids.len();
    let mut session = vec![u32::MAX; n];
    let mut pos = vec![0u32; n];
    let mut next_pos = vec![0u32; k];
    let mut last_in_session: Vec<u32> = vec![u32::MAX; k];
    let mut edges: Vec<Edge> = Vec::new();
    let edge = |from: u32, to: u32, kind: u8, key: u32, other: i64| Edge {
        from,
        to,
        kind,
        key,
        value: 0,
        other,
    };
    for (t, txn) in history.txns.iter().enumerate() {
        if !committed[t] {
            continue;
        }
        let s = session_ids
            .binary_search(&txn.process)
            .expect("collected above");
        session[t] = s as u32;
        pos[t] = next_pos[s];
        next_pos[s] += 1;
        if last_in_session[s] != u32::MAX {
            edges.push(edge(last_in_session[s], t as u32, PROCESS, u32::MAX, 0));
        }
        last_in_session[s] = t as u32;
    }
    // The initial state comes before every write.
    let writes = &obs.writes;
    let mut writers: Vec<u32> = writes
        .iter()
        .map(|w| w.0)
        .filter(|&t| committed[t as usize])
        .collect();
    writers.dedup();
    for &w in &writers {
        edges.push(edge(init, w, WW, u32::MAX, 0));
    }
    for r in &obs.reads {
        if committed[r.reader as usize] && r.writer != u32::MAX && committed[r.writer as usize] {
            edges.push(edge(r.writer, r.reader, WR, r.key, 0));
        }
    }
    for &(key, a, b) in &obs.co {
        if committed[a as usize] && committed[b as usize] {
            edges.push(edge(a, b, WW, key, 0));
        }
    }
    // Inferred co edges, compactly: (from, to, key, reader).
    let mut inferred: Vec<[u32; 4]> = Vec::new();
    let writes_key = |t: u32, key: u32| writes.binary_search(&(t, key)).is_ok();
    let writer_of = |w: u32| if w == u32::MAX { init } else { w };
    // Reads grouped by reader, in program order.
    let reads = &obs.reads;
    let mut steps: u64 = 0;
    let cancelled = |steps: u64| {
        steps > budget.steps_max || (steps % 65536 == 0 && budget.cancel.is_some_and(|c| c()))
    };
    match level {
        Level::ReadCommitted => {
            let mut i = 0;
            while i < reads.len() {
                let reader = reads[i].reader;
                let mut seen: Vec<u32> = Vec::new();
                while i < reads.len() && reads[i].reader == reader {
                    let r = reads[i];
                    i += 1;
                    if !committed[reader as usize]
                        || (r.writer != u32::MAX && !committed[r.writer as usize])
                    {
                        continue;
                    }
                    for &w in &seen {
                        steps += 1;
                        if w != r.writer && writes_key(w, r.key) {
                            inferred.push([w, writer_of(r.writer), r.key, reader]);
                        }
                    }
                    if r.writer != u32::MAX && !seen.contains(&r.writer) {
                        seen.push(r.writer);
                    }
                }
                if cancelled(steps) {
                    return Outcome::Unknown(
                        "the step budget or deadline ran out while saturating read committed"
                            .into(),
                    );
                }
            }
        }
        Level::ReadAtomic | Level::Causal => {
            // (session, key, position) of every committed write, sorted.
            let mut by_session: Vec<(u32, u32, u32, u32)> = writes
                .iter()
                .filter(|w| committed[w.0 as usize])
                .map(|&(t, key)| (session[t as usize], key, pos[t as usize], t))
                .collect();
            by_session.sort_unstable();
            // Where each (session, key) run of writes starts, when the table
            // is small enough; else a search of the whole list.
            let keys = history.keys.len();
            let table: Option<Vec<u32>> = ((k as u64) * (keys as u64) <= 50_000_000).then(|| {
                let mut starts = vec![0u32; k * keys + 1];
                for w in &by_session {
                    starts[w.0 as usize * keys + w.1 as usize + 1] += 1;
                }
                for i in 0..k * keys {
                    starts[i + 1] += starts[i];
                }
                starts
            });
            // The latest write of `key` in session `s` at a position below `below`.
            let latest = |s: u32, key: u32, below: u32| -> Option<u32> {
                let run = match &table {
                    Some(starts) => {
                        let i = s as usize * keys + key as usize;
                        &by_session[starts[i] as usize..starts[i + 1] as usize]
                    }
                    None => {
                        let lo = by_session.partition_point(|w| (w.0, w.1) < (s, key));
                        let hi = by_session.partition_point(|w| (w.0, w.1) <= (s, key));
                        &by_session[lo..hi]
                    }
                };
                let at = run.partition_point(|w| w.2 < below);
                (at > 0).then(|| run[at - 1].3)
            };
            let clocks = if level == Level::Causal {
                let bytes = (n as u64 + 1) * k as u64 * 4;
                if bytes > memory_bytes_max {
                    return Outcome::Unknown(format!(
                        "memory: causal pasts over {k} sessions for {n} transactions need {bytes} bytes, over the budget of {memory_bytes_max}"
                    ));
                }
                match causal_clocks(n, k, &session, &pos, &edges, &committed) {
                    Some(c) => Some(c),
                    // Session order and reads-from alone have a cycle.
                    None => return violated(n, edges, budget),
                }
            } else {
                None
            };
            let mut i = 0;
            while i < reads.len() {
                let reader = reads[i].reader;
                let j0 = i;
                while i < reads.len() && reads[i].reader == reader {
                    i += 1;
                }
                if !committed[reader as usize] {
                    continue;
                }
                let group = &reads[j0..i];
                let s = session[reader as usize];
                let p = pos[reader as usize];
                for r in group {
                    if r.writer != u32::MAX && !committed[r.writer as usize] {
                        continue;
                    }
                    let target = writer_of(r.writer);
                    let require = |t2: u32, inferred: &mut Vec<[u32; 4]>| {
                        if t2 != r.writer && t2 != reader {
                            inferred.push([t2, target, r.key, reader]);
                        }
                    };
                    match &clocks {
                        None => {
                            // Read atomic: direct predecessors.
                            if let Some(t2) = latest(s, r.key, p) {
                                require(t2, &mut inferred);
                            }
                            for other in group {
                                steps += 1;
                                let t2 = other.writer;
                                if t2 != u32::MAX && committed[t2 as usize] && writes_key(t2, r.key)
                                {
                                    require(t2, &mut inferred);
                                }
                            }
                        }
                        Some(clocks) => {
                            let row = &clocks[reader as usize * k..(reader as usize + 1) * k];
                            for (s2, &upto) in row.iter().enumerate() {
                                steps += 1;
                                if upto > 0 {
                                    if let Some(t2) = latest(s2 as u32, r.key, upto) {
                                        require(t2, &mut inferred);
                                    }
                                }
                            }
                        }
                    }
                }
                if cancelled(steps) {
                    return Outcome::Unknown(format!(
                        "the step budget or deadline ran out while saturating {}",
                        if level == Level::Causal {
                            "causal consistency"
                        } else {
                            "read atomic"
                        }
                    ));
                }
            }
        }
    }
    // One inferred edge per ordered pair is enough: the first reason is
    // the one explained.
    inferred.sort_by_key(|e| (e[0], e[1]));
    inferred.dedup_by_key(|e| (e[0], e[1]));
    edges.extend(inferred.into_iter().map(|[from, to, key, reader]| Edge {
        from,
        to,
        kind: INFERRED,
        key,
        value: 0,
        other: reader as i64,
    }));
    violated(n, edges, budget)
}

/// Whether `edges` over `n` nodes have no cycle (Kahn's algorithm over a
/// compact adjacency: most histories pass, and this is their whole cost).
fn acyclic(n: usize, edges: &[Edge]) -> bool {
    let mut pairs: Vec<u64> = edges
        .iter()
        .filter(|e| e.from != e.to)
        .map(|e| (u64::from(e.from) << 32) | u64::from(e.to))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut offsets = vec![0u32; n + 1];
    let mut indegree = vec![0u32; n];
    for &p in &pairs {
        offsets[(p >> 32) as usize + 1] += 1;
        indegree[(p & 0xffff_ffff) as usize] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut stack: Vec<u32> = (0..n as u32)
        .filter(|&x| indegree[x as usize] == 0)
        .collect();
    let mut done = 0usize;
    while let Some(x) = stack.pop() {
        done += 1;
        for &p in &pairs[offsets[x as usize] as usize..offsets[x as usize + 1] as usize] {
            let to = (p & 0xffff_ffff) as usize;
            indegree[to] -= 1;
            if indegree[to] == 0 {
                stack.push(to as u32);
            }
        }
    }
    done == n
}

/// Transactions that committed: the successful ones, and the unknown ones
/// someone read from.
pub fn committed(history: &TxnHistory, obs: &Observations) -> Vec<bool> {
    let mut committed: Vec<bool> = history
        .txns
        .iter()
        .map(|t| t.outcome == crate::history::Outcome::Ok)
        .collect();
    for r in &obs.reads {
        if r.writer != u32::MAX && obs.member[r.writer as usize] {
            committed[r.writer as usize] = true;
        }
    }
    committed
}

/// Each transaction's causal past as a vector clock: entry s is one more
/// than the position of its latest predecessor in session s (0: none).
/// `None` if session order and reads-from have a cycle.
fn causal_clocks(
    n: usize,
    k: usize,
    session: &[u32],
    pos: &[u32],
    edges: &[Edge],
    committed: &[bool],
) -> Option<Vec<u32>> {
    // Predecessors over session order and reads-from only.
    let mut preds: Vec<(u32, u32)> = edges
        .iter()
        .filter(|e| (e.kind == PROCESS || e.kind == WR) && (e.from as usize) < n)
        .map(|e| (e.to, e.from))
        .collect();
    preds.sort_unstable();
    preds.dedup();
    let mut indegree = vec![0u32; n];
    let mut succ_count = vec![0u32; n + 1];
    for &(to, from) in &preds {
        indegree[to as usize] += 1;
        succ_count[from as usize + 1] += 1;
    }
    for i in 0..n {
        succ_count[i + 1] += succ_count[i];
    }
    let mut succ = vec![0u32; preds.len()];
    let mut fill = succ_count.clone();
    for &(to, from) in &preds {
        succ[fill[from as usize] as usize] = to;
        fill[from as usize] += 1;
    }
    let mut clocks = vec![0u32; n * k];
    let mut queue: Vec<u32> = (0..n as u32)
        .filter(|&t| committed[t as usize] && indegree[t as usize] == 0)
        .collect();
    let mut done = 0usize;
    let total = committed.iter().filter(|&&c| c).count();
    while let Some(t) = queue.pop() {
        done += 1;
        let t = t as usize;
        for si in succ_count[t]..succ_count[t + 1] {
            let u = succ[si as usize] as usize;
            // u's clock takes the max of t's, and t itself.
            for s in 0..k {
                let v = clocks[t * k + s];
                if v > clocks[u * k + s] {
                    clocks[u * k + s] = v;
                }
            }
            let own = pos[t] + 1;
            let ts = session[t] as usize;
            if own > clocks[u * k + ts] {
                clocks[u * k + ts] = own;
            }
            indegree[u] -= 1;
            if indegree[u] == 0 {
                queue.push(u as u32);
            }
        }
    }
    (done == total).then_some(clocks)
}

/// Whether `edges` (over the transactions and the initial state) have a
/// cycle; if so, a shortest one.
fn violated(n: usize, edges: Vec<Edge>, budget: &Budget) -> Outcome {
    if acyclic(n + 1, &edges) {
        return Outcome::Holds;
    }
    let graph = DepGraph::new(n + 1, edges);
    let mask = WW | WR | PROCESS | INFERRED;
    let components = graph.components(mask);
    let Some(scc) = components.nontrivial.first() else {
        return Outcome::Holds;
    };
    let mut search = Search::new(budget);
    let c = components.of[scc[0] as usize];
    let of = &components.of;
    let allowed = |x: u32| of[x as usize] == c;
    // A shortest cycle through an inferred edge if there is one.
    let start = scc[0];
    let through = graph
        .edges
        .iter()
        .find(|e| e.kind == INFERRED && of[e.from as usize] == c && of[e.to as usize] == c)
        .map(|e| (e.from, e.to));
    let path = match through {
        Some((from, to)) => graph
            .path(to, from, mask, &allowed, &mut search)
            .map(|mut p| {
                p.insert(0, (from, to, INFERRED));
                p
            }),
        None => graph.path(start, start, mask, &allowed, &mut search),
    };
    match path {
        Some(p) => Outcome::Violated(graph.explain_path(&p)),
        None => Outcome::Unknown("the step budget ran out while finding the cycle".into()),
    }
}
