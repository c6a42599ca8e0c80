//! The whole judgement of a transactional history: infer the dependency
//! graph, find and classify its cycles, find the anomalies that are not
//! cycles, saturate for read atomic and causal consistency, and say which
//! consistency models the history rules out and which it still satisfies.

use super::graph::{
    classify, order_edges, Components, DepGraph, Search, ALL, PROCESS, REALTIME, RW, WR, WW,
};
use super::models::{self, Model, Standing};
pub use super::observations::{Finding, Findings, Observations, ReadFrom};
use super::saturation::{self, Level};
use super::{TxnHistory, TxnKind};
use crate::checker::{Budget, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;

/// How to check.
pub struct Options<'a> {
    /// The models the verdict is about (default: strict-serializable).
    pub models: Vec<Model>,
    pub budget: Budget<'a>,
    /// Memory the saturation's vector clocks may take, in bytes.
    pub memory_bytes_max: u64,
    /// Examples kept per anomaly kind.
    pub examples_per_kind_max: usize,
    /// Also run the saturation checks of read committed (the Plume
    /// format's histories; Elle's are judged by Adya's G1 instead).
    pub saturate_read_committed: bool,
    /// Run only what decides `models`: the other models may be left
    /// unknown (not checked), for speed.
    pub named_only: bool,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            models: vec![Model::StrictSerializable],
            budget: Budget::default(),
            memory_bytes_max: 1 << 30,
            examples_per_kind_max: 8,
            saturate_read_committed: false,
            named_only: false,
        }
    }
}

/// A model's standing, for the report.
#[derive(Clone, Debug, Serialize)]
pub struct ModelStanding {
    pub model: Model,
    pub standing: Standing,
}

/// The answer.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub kind: TxnKind,
    pub transactions: usize,
    /// Pass: every model asked for holds; Fail: one is ruled out;
    /// Unknown: none ruled out, but the budget left one undecided.
    pub verdict: Verdict,
    pub models_checked: Vec<Model>,
    /// Anomaly kind → how many were found.
    pub anomaly_counts: BTreeMap<String, u64>,
    /// The first few of each kind, with their transactions and cycles.
    pub anomalies: Vec<Finding>,
    /// Models the anomalies rule out.
    pub ruled_out: Vec<Model>,
    /// The strongest models the history is still consistent with.
    pub strongest_consistent: Vec<Model>,
    pub standings: Vec<ModelStanding>,
    /// Anomaly kinds the budget left undecided.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undecided: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
    /// What could not be inferred.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub steps: u64,
}

/// Checks `history`. Errors are bad input the analysis found (a value
/// appended twice to one key).
pub fn check(history: &TxnHistory, options: &Options) -> Result<Report, String> {
    let n = history.txns.len();
    if history.bytes() > options.memory_bytes_max {
        return Ok(unknown_report(
            history,
            options,
            format!(
                "memory: the history alone takes {} bytes, over the budget of {}; give a larger one",
                history.bytes(),
                options.memory_bytes_max
            ),
        ));
    }
    let mut findings = Findings::new(options.examples_per_kind_max);
    let mut obs = match history.kind {
        TxnKind::ListAppend => super::list_append::analyse(history, &mut findings)?,
        TxnKind::RwRegister => super::rw_register::analyse(history, &mut findings)?,
    };
    debug_assert_eq!(obs.member.len(), n);
    let mut edges = std::mem::take(&mut obs.edges);
    let mut search = Search::new(&options.budget);
    let mut undecided: Vec<String> = Vec::new();
    let mut unknown_reason = None;
    // With the version order only partly known, the graph decides nothing
    // the weak models need: read committed's saturation covers G0 and G1c.
    let weak_only = options.models.iter().all(|m| {
        matches!(
            m,
            Model::ReadUncommitted | Model::ReadCommitted | Model::ReadAtomic | Model::Causal
        )
    });
    if options.named_only && obs.incomplete_order && weak_only {
        edges.clear();
        for base in ["G0", "G1c"] {
            for suffix in ["-process", "-realtime"] {
                undecided.push(format!("{base}{suffix}"));
            }
        }
    } else {
        order_edges(history, &obs.member, &mut edges);
        let graph = DepGraph::new(n, edges);
        search_cycles(&graph, &mut findings, &mut search, &mut undecided);
    }
    if search.exhausted {
        unknown_reason = Some("the cycle search's step budget or deadline ran out".to_string());
    }
    if obs.incomplete_order {
        // Cycles with rw edges, and real-time cycles, may hide behind the
        // unknown order. Cycles of ww, wr and session order cannot: read
        // committed's saturation (which covers them) decides those.
        for base in ["G-single", "G-nonadjacent", "G2-item"] {
            for suffix in ["", "-process", "-realtime"] {
                undecided.push(format!("{base}{suffix}"));
            }
        }
        undecided.push("G0-realtime".into());
        undecided.push("G1c-realtime".into());
        unknown_reason.get_or_insert_with(|| {
            "the version order is only partly known (rw-register), so cycles through unordered versions cannot be seen".to_string()
        });
    }
    // Read committed (Plume), read atomic and causal by saturation.
    let mut levels = vec![Level::ReadAtomic, Level::Causal];
    if options.saturate_read_committed || obs.incomplete_order {
        levels.insert(0, Level::ReadCommitted);
    }
    if options.named_only {
        // Only the levels a named model forbids the violation of.
        let wanted: Vec<&str> = options
            .models
            .iter()
            .flat_map(|m| m.all_proscribed())
            .collect();
        for level in [Level::ReadCommitted, Level::ReadAtomic, Level::Causal] {
            if levels.contains(&level) && !wanted.contains(&level.anomaly()) {
                levels.retain(|l| *l != level);
                undecided.push(level.anomaly().to_string());
            }
        }
    }
    for level in levels {
        match saturation::check(
            history,
            &obs,
            level,
            &options.budget,
            options.memory_bytes_max.saturating_sub(history.bytes()),
        ) {
            saturation::Outcome::Holds => {}
            saturation::Outcome::Violated(steps) => {
                findings.add_cycle(level.anomaly(), steps);
            }
            saturation::Outcome::Unknown(why) => {
                undecided.push(level.anomaly().to_string());
                unknown_reason.get_or_insert(why);
            }
        }
    }
    let found: Vec<String> = findings.counts.keys().cloned().collect();
    undecided.retain(|u| !found.contains(u));
    undecided.sort();
    undecided.dedup();
    let standings = models::standings(&found, &undecided);
    let ruled_out: Vec<Model> = standings
        .iter()
        .filter(|(_, s)| *s == Standing::RuledOut)
        .map(|(m, _)| *m)
        .collect();
    let consistent: Vec<Model> = standings
        .iter()
        .filter(|(_, s)| *s == Standing::Consistent)
        .map(|(m, _)| *m)
        .collect();
    let standing_of = |m: Model| standings.iter().find(|(x, _)| *x == m).map(|s| s.1);
    let verdict = if options
        .models
        .iter()
        .any(|&m| standing_of(m) == Some(Standing::RuledOut))
    {
        Verdict::Fail
    } else if options
        .models
        .iter()
        .any(|&m| standing_of(m) == Some(Standing::Unknown))
    {
        Verdict::Unknown
    } else {
        Verdict::Pass
    };
    if verdict != Verdict::Unknown {
        // The reason matters only where it left the answer open.
        if verdict == Verdict::Pass {
            unknown_reason = None;
        }
    }
    Ok(Report {
        kind: history.kind,
        transactions: n,
        verdict,
        models_checked: options.models.clone(),
        anomaly_counts: findings.counts,
        anomalies: findings.examples,
        strongest_consistent: models::strongest(&consistent),
        ruled_out,
        standings: standings
            .into_iter()
            .map(|(model, standing)| ModelStanding { model, standing })
            .collect(),
        undecided,
        unknown_reason,
        notes: obs.notes,
        steps: search.steps,
    })
}

/// The answer when the budget stops the check before it starts.
fn unknown_report(history: &TxnHistory, options: &Options, reason: String) -> Report {
    let all: Vec<String> = models::ALL_MODELS
        .iter()
        .flat_map(|m| m.proscribes().iter().map(|a| a.to_string()))
        .collect();
    let standings = models::standings(&[], &all);
    Report {
        kind: history.kind,
        transactions: history.txns.len(),
        verdict: Verdict::Unknown,
        models_checked: options.models.clone(),
        anomaly_counts: BTreeMap::new(),
        anomalies: Vec::new(),
        ruled_out: Vec::new(),
        strongest_consistent: Vec::new(),
        standings: standings
            .into_iter()
            .map(|(model, standing)| ModelStanding { model, standing })
            .collect(),
        undecided: all,
        unknown_reason: Some(reason),
        notes: Vec::new(),
        steps: 0,
    }
}

/// Finds cycles in each strongly connected component and classifies them.
/// Whether a cycle exists under each set of edge kinds is exact; the path
/// searches for G-single and G-nonadjacent spend the budget, and what they
/// could not finish is `undecided`.
fn search_cycles(
    graph: &DepGraph,
    findings: &mut Findings,
    search: &mut Search,
    undecided: &mut Vec<String>,
) {
    let full = graph.components(ALL);
    if full.nontrivial.is_empty() {
        return;
    }
    for (stage, extra) in [(0, 0u8), (1, PROCESS), (2, PROCESS | REALTIME)] {
        let suffix = ["", "-process", "-realtime"][stage];
        // G0 and G1c: cycles without rw are a question of components. A
        // component with a ww cycle is reported once, as G0.
        let ww = graph.components(WW | extra);
        let mut in_g0 = vec![false; graph.node_count()];
        for scc in &ww.nontrivial {
            for &x in scc {
                in_g0[x as usize] = true;
            }
        }
        let wwwr = graph.components(WW | WR | extra);
        for (sub, mask, skip_g0) in [(&ww, WW | extra, false), (&wwwr, WW | WR | extra, true)] {
            for scc in &sub.nontrivial {
                if skip_g0 && scc.iter().any(|&x| in_g0[x as usize]) {
                    continue;
                }
                let c = sub.of[scc[0] as usize];
                let of = &sub.of;
                let allowed = |x: u32| of[x as usize] == c;
                match graph.path(scc[0], scc[0], mask, &allowed, search) {
                    Some(path) => {
                        let class = classify(&path);
                        if stage == 0 || class.ends_with(suffix) {
                            findings.add_cycle(&class, graph.explain_path(&path));
                        }
                    }
                    None => {
                        undecided.push(format!("G0{suffix}"));
                        undecided.push(format!("G1c{suffix}"));
                        return;
                    }
                }
            }
        }
        // Cycles with rw edges, per component of everything so far.
        let with_rw = graph.components(WW | WR | RW | extra);
        // Each component's rw edges, gathered in one pass over the edges
        // (not one pass per component: a broken history has thousands).
        let mut rw_by_component: Vec<(u32, u32, u32)> = graph
            .edges
            .iter()
            .filter(|e| e.kind == RW && with_rw.of[e.from as usize] == with_rw.of[e.to as usize])
            .map(|e| (with_rw.of[e.from as usize], e.from, e.to))
            .collect();
        rw_by_component.sort_unstable();
        for scc in &with_rw.nontrivial {
            let c = with_rw.of[scc[0] as usize];
            let lo = rw_by_component.partition_point(|r| r.0 < c);
            let rw_edges: Vec<(u32, u32)> = rw_by_component[lo..]
                .iter()
                .take_while(|r| r.0 == c)
                .map(|r| (r.1, r.2))
                .collect();
            rw_cycles(
                graph, &with_rw, &wwwr, scc, &rw_edges, extra, suffix, findings, search, undecided,
            );
            if search.exhausted {
                return;
            }
        }
    }
}

/// In one component (under ww, wr, rw and `extra`), a G-single if there
/// is one, else a G-nonadjacent, else any cycle through an rw edge.
#[allow(clippy::too_many_arguments)]
fn rw_cycles(
    graph: &DepGraph,
    comps: &Components,
    plain: &Components,
    scc: &[u32],
    rw_edges: &[(u32, u32)],
    extra: u8,
    suffix: &str,
    findings: &mut Findings,
    search: &mut Search,
    undecided: &mut Vec<String>,
) {
    let c = comps.of[scc[0] as usize];
    let of = &comps.of;
    let allowed = |x: u32| of[x as usize] == c;
    if rw_edges.is_empty() {
        return; // a cycle without rw: G0 or G1c, found above
    }
    // Past the first stage, only the cycles that need this stage's edges
    // are new: the others were reported already.
    let report = |findings: &mut Findings, path: Vec<(u32, u32, u8)>| {
        let class = classify(&path);
        if suffix.is_empty() || class.ends_with(suffix) {
            findings.add_cycle(&class, graph.explain_path(&path));
        }
    };
    // G-single: an rw edge u -> v and a path v -> u without rw. Such a
    // path runs down the components of the edges without rw (`plain`,
    // numbered in reverse topological order, so an edge never leads to a
    // higher number): v can reach u only if v's number is at least u's,
    // and only through components numbered between them. Edges inside
    // one component come first: their cycle is certain.
    let mut ordered: Vec<(u32, u32, u32)> = rw_edges
        .iter()
        .filter(|&&(u, v)| plain.of[v as usize] >= plain.of[u as usize])
        .map(|&(u, v)| (plain.of[v as usize] - plain.of[u as usize], u, v))
        .collect();
    ordered.sort_unstable();
    for &(_, u, v) in &ordered {
        let (low, high) = (plain.of[u as usize], plain.of[v as usize]);
        let between = |x: u32| {
            let p = plain.of[x as usize];
            of[x as usize] == c && (low..=high).contains(&p)
        };
        if let Some(mut path) = graph.path(v, u, WW | WR | extra, &between, search) {
            path.insert(0, (u, v, RW));
            if classify(&path).ends_with(suffix) || suffix.is_empty() {
                report(findings, path);
                return;
            }
        }
        if search.exhausted {
            undecided.push(format!("G-single{suffix}"));
            undecided.push(format!("G-nonadjacent{suffix}"));
            return;
        }
    }
    for &(u, v) in rw_edges {
        if let Some(path) = graph.nonadjacent_cycle(u, v, WW | WR | extra, &allowed, search) {
            report(findings, path);
            return;
        }
        if search.exhausted {
            undecided.push(format!("G-nonadjacent{suffix}"));
            return;
        }
    }
    let (u, v) = rw_edges[0];
    match graph.path(v, u, WW | WR | RW | extra, &allowed, search) {
        Some(mut path) => {
            path.insert(0, (u, v, RW));
            report(findings, path);
        }
        None => undecided.push(format!("G2-item{suffix}")),
    }
}
