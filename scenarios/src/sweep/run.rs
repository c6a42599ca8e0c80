//! Running a sweep from Rust: every (group, seed) of a planned sweep, in
//! parallel on rayon's pool, each run resolved and judged as `faultline
//! run` would, into records in canonical order (group, then seed). What a
//! CI property test calls, then `summarise` to judge the sweep against the
//! scenario's `expect` (per group where an axis sets one).
//!
//! The library reads no wall clock (ARCHITECTURE.md, invariant 2), so
//! `UnitResult::wall_ms` is 0 here; `faultline sweep` times its runs
//! itself, writes each record to its results file as it comes, and shows
//! progress.

use super::groups::Group;
use super::results::{Ended, GroupHeader, Header, UnitResult};
use crate::outcome::{panic_message, PanicProgress};
use rayon::prelude::*;

/// Runs `groups[group]` at `seed`. A protocol panic is a finding, never a
/// crash of the caller.
pub fn run_unit(groups: &[Group], group: usize, seed: u64) -> UnitResult {
    assert!(group < groups.len(), "group {group} of {}", groups.len());
    let resolved = crate::resolve(&groups[group].scenario, seed);
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::run_watched(&resolved, &mut ())
    }));
    match ran {
        Ok(Ok(outcome)) => UnitResult::of(group, seed, &resolved, Ended::Ran(&outcome), 0.0),
        Ok(Err(error)) => UnitResult::of(
            group,
            seed,
            &resolved,
            Ended::InputError(&error.to_string()),
            0.0,
        ),
        Err(payload) => {
            let progress = payload.downcast_ref::<PanicProgress>();
            let message = panic_message(payload.as_ref());
            let ended = Ended::Panicked {
                message: &message,
                progress,
            };
            UnitResult::of(group, seed, &resolved, ended, 0.0)
        }
    }
}

/// Every group over `seeds` (start inclusive, end exclusive), in parallel,
/// in canonical order. The records do not depend on the thread count.
pub fn run_all(groups: &[Group], seeds: (u64, u64)) -> Vec<UnitResult> {
    assert!(seeds.0 <= seeds.1, "seeds {}..{}", seeds.0, seeds.1);
    let units: Vec<(usize, u64)> = (0..groups.len())
        .flat_map(|g| (seeds.0..seeds.1).map(move |s| (g, s)))
        .collect();
    let results: Vec<UnitResult> = units
        .par_iter()
        .map(|&(group, seed)| run_unit(groups, group, seed))
        .collect();
    debug_assert!(results
        .windows(2)
        .all(|w| (w[0].group, w[0].seed) < (w[1].group, w[1].seed)));
    results
}

impl Header {
    /// The header of a sweep of `groups` over `seeds` (shard `shard` of
    /// it, if any) of the scenario at `scenario_path`: its fingerprint is
    /// a hash of everything that decides the runs, so a resume or a merge
    /// can refuse the results of another sweep.
    pub fn new(
        scenario_path: &str,
        groups: &[Group],
        seeds: (u64, u64),
        shard: Option<(u64, u64)>,
    ) -> Header {
        assert!(!groups.is_empty(), "a sweep has at least one group");
        let mut fingerprint_text = format!("{}..{}\n", seeds.0, seeds.1);
        for group in groups {
            fingerprint_text.push_str(&crate::to_ron(&group.scenario));
        }
        let base = &groups[0].scenario;
        Header {
            kind: "header".into(),
            scenario_path: scenario_path.to_string(),
            scenario: base.name.clone(),
            fingerprint: sim_core::trace::format_hash(sim_core::hash::stable_hash(
                &fingerprint_text,
            )),
            seeds: format!("{}..{}", seeds.0, seeds.1),
            groups: groups
                .iter()
                .map(|g| GroupHeader {
                    label: g.label.clone(),
                    name: g.name.clone(),
                    sets: g.sets.clone(),
                    lockstep: g.lockstep.clone(),
                    theory: g.scenario.theory(),
                    expect: (g.scenario.expect != base.expect).then(|| g.scenario.expect.clone()),
                })
                .collect(),
            expect: base.expect.clone(),
            description: base.description.clone(),
            lesson: base.lesson.clone(),
            charts: base.outputs.charts.clone(),
            shard: shard.map(|(k, n)| format!("{k}/{n}")),
            tradeoff: base
                .protocol
                .entry()
                .capabilities()
                .tradeoff
                .map(|(x, y)| (x.to_string(), y.to_string())),
        }
    }
}
