//! A sweep's summary: per group, runs, passes, failures, inconclusive runs
//! and errors, each failure with its reproduce command; the sweep judged
//! against the scenario's `expect`, and each group against its own where a
//! sweep axis sets one. Everything but `timing` depends only on the
//! results, so a merged sweep's summary equals a single machine's.

use super::results::{Header, UnitResult};
use crate::reproduce::reproduce_command;
use crate::schema::Expect;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct GroupSummary {
    pub label: String,
    pub runs: u64,
    pub passed: u64,
    pub failed: u64,
    /// Of the `failed`, those that failed only checks the group expects to
    /// fail: drawn and listed as "expected", not as failures.
    #[serde(default)]
    pub failed_as_expected: u64,
    /// Runs cut short by a limit, or whose checks ran out of budget, with
    /// nothing failed: neither a pass nor a fail.
    pub inconclusive: u64,
    pub panicked: u64,
    /// Runs that stopped on bad input found only at run time.
    pub errors: u64,
    pub failures_by_check: BTreeMap<String, u64>,
    /// Per protocol metric some run of the sweep measured: how many of this
    /// group's runs measured none (for `leaderless_ms`, the trials that
    /// elected no leader). Zero counts are left out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub runs_without_samples: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Failure {
    pub seed: u64,
    pub group: String,
    pub failed: Vec<String>,
    pub panic: Option<String>,
    pub reproduce: String,
    /// Whether every check it failed is one its group expects to fail
    /// (and it did not panic): the lesson working, not a bug to chase.
    #[serde(default)]
    pub expected: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Slow {
    pub seed: u64,
    pub group: String,
    pub wall_ms: f64,
    pub events: u64,
}

/// A run that neither passed nor failed, or stopped on an input error.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Undecided {
    pub seed: u64,
    pub group: String,
    /// Why: the limit and how far the run got, the checks out of budget,
    /// or the input error.
    pub why: String,
    pub reproduce: String,
}

/// Failures (and inconclusive runs, and errors) listed in a summary at most
/// (all are in the results file).
pub const FAILURES_LISTED_MAX: usize = 50;

/// The end-of-sweep summary. Everything but `timing` depends only on the
/// results, so a merged sweep's summary equals a single machine's.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SweepSummary {
    pub scenario: String,
    pub scenario_path: String,
    pub seeds: String,
    pub units_expected: u64,
    pub units_run: u64,
    /// What a merge lacked: shards ("shard 2/4"), or a count of runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    pub groups: Vec<GroupSummary>,
    pub expect: Expect,
    /// Whether a sweep axis set `expect`, so each group was judged by its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expectations_per_group: bool,
    pub expectation_held: bool,
    /// Whether the results at hand decide a verdict that did not hold.
    /// False when nothing they hold contradicts the expectation and what
    /// is lacking could still make it hold: runs missing (an incomplete
    /// merge), only inconclusive runs, or a shard that saw no expected
    /// violation (`Violation` asks for one among all the sweep's seeds,
    /// which only the merged shards can answer). Undecided exits 3.
    #[serde(default = "decided_default")]
    pub decided: bool,
    pub expectation_note: String,
    /// Seeds that showed an expected violation.
    pub violation_seeds: Vec<u64>,
    pub failures_total: u64,
    pub failures: Vec<Failure>,
    pub inconclusive_total: u64,
    pub inconclusive: Vec<Undecided>,
    pub errors_total: u64,
    pub errors: Vec<Undecided>,
    pub timing: Timing,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Timing {
    /// Sum of the runs' wall times.
    pub run_seconds_total: f64,
    pub slowest: Vec<Slow>,
}

fn decided_default() -> bool {
    true
}

/// Whether a run failed only checks its group expects to fail (and did not
/// panic): the lesson working, drawn and listed as "expected".
pub fn failed_as_expected(header: &Header, unit: &UnitResult) -> bool {
    let expect = header
        .groups
        .get(unit.group)
        .and_then(|g| g.expect.as_ref())
        .unwrap_or(&header.expect);
    let names: &[String] = match expect {
        Expect::Pass => &[],
        Expect::Violation(names) | Expect::Allow(names) => names,
    };
    !unit.passed
        && unit.panic.is_none()
        && !unit.failed.is_empty()
        && unit.failed.iter().all(|name| names.contains(name))
}

pub fn summarise(header: &Header, units_expected: u64, results: &[UnitResult]) -> SweepSummary {
    let mut groups: Vec<GroupSummary> = header
        .groups
        .iter()
        .map(|g| GroupSummary {
            label: g.label.clone(),
            runs: 0,
            passed: 0,
            failed: 0,
            failed_as_expected: 0,
            inconclusive: 0,
            panicked: 0,
            errors: 0,
            failures_by_check: BTreeMap::new(),
            runs_without_samples: BTreeMap::new(),
        })
        .collect();
    let measured: BTreeSet<&str> = results
        .iter()
        .flat_map(|u| u.samples.iter())
        .filter(|(_, samples)| !samples.is_empty())
        .map(|(name, _)| name.as_str())
        .collect();
    for unit in results {
        let Some(group) = groups.get_mut(unit.group) else {
            continue;
        };
        for name in &measured {
            if unit.samples.get(*name).is_none_or(Vec::is_empty) {
                *group
                    .runs_without_samples
                    .entry((*name).to_string())
                    .or_default() += 1;
            }
        }
    }
    let group_expect = |g: usize| -> &Expect {
        header
            .groups
            .get(g)
            .and_then(|g| g.expect.as_ref())
            .unwrap_or(&header.expect)
    };
    // Per group: seeds with an expected violation, and failures of checks
    // it does not expect to fail (for groups with their own expectation).
    let mut per_group: Vec<(BTreeSet<u64>, u64)> = vec![(BTreeSet::new(), 0); header.groups.len()];
    let mut violation_seeds = BTreeSet::new();
    let mut unexpected = 0u64;
    let mut failures = Vec::new();
    let mut undecided = Vec::new();
    let mut errors = Vec::new();
    for unit in results {
        let Some(group) = groups.get_mut(unit.group) else {
            continue;
        };
        group.runs += 1;
        let reproduce = || {
            reproduce_command(
                &header.scenario_path,
                unit.seed,
                &header.groups[unit.group].sets,
            )
        };
        if let Some(error) = &unit.error {
            group.errors += 1;
            errors.push(Undecided {
                seed: unit.seed,
                group: group.label.clone(),
                why: error.clone(),
                reproduce: reproduce(),
            });
            continue;
        }
        if unit.passed {
            group.passed += 1;
        } else if unit.panic.is_some() {
            group.panicked += 1;
        } else if unit.failed.is_empty() {
            group.inconclusive += 1;
            let why = match &unit.inconclusive {
                Some(cut) => cut.clone(),
                None => format!("out of budget: {}", unit.unknown.join(", ")),
            };
            undecided.push(Undecided {
                seed: unit.seed,
                group: group.label.clone(),
                why,
                reproduce: reproduce(),
            });
        } else {
            group.failed += 1;
        }
        let expected_names: &[String] = match group_expect(unit.group) {
            Expect::Pass => &[],
            Expect::Violation(names) | Expect::Allow(names) => names,
        };
        for name in &unit.failed {
            *group.failures_by_check.entry(name.clone()).or_default() += 1;
            if expected_names.contains(name) {
                violation_seeds.insert(unit.seed);
                per_group[unit.group].0.insert(unit.seed);
            } else {
                unexpected += 1;
                per_group[unit.group].1 += 1;
            }
        }
        if !unit.failed.is_empty() {
            let expected = failed_as_expected(header, unit);
            group.failed_as_expected += u64::from(expected);
            failures.push(Failure {
                seed: unit.seed,
                group: group.label.clone(),
                failed: unit.failed.clone(),
                panic: unit.panic.clone(),
                reproduce: reproduce(),
                expected,
            });
        }
    }
    let complete = results.len() as u64 == units_expected;
    let inconclusive = undecided.len() as u64;
    // Nothing at hand contradicts the expectation: no unexpected failure,
    // no input error. What is lacking may still be found elsewhere: runs
    // not here, a violation a shard's seeds did not show, or a verdict an
    // inconclusive run withheld.
    let uncontradicted = unexpected == 0 && errors.is_empty();
    let lacking_violation = (0..header.groups.len())
        .any(|g| matches!(group_expect(g), Expect::Violation(_)) && per_group[g].0.is_empty());
    let decided = !(uncontradicted
        && (!complete || inconclusive > 0 || (header.shard.is_some() && lacking_violation)));
    let own_expectations = header.groups.iter().any(|g| g.expect.is_some());
    let (held, note) = match &header.expect {
        _ if own_expectations && complete && errors.is_empty() => {
            judge_groups(header, &groups, &per_group)
        }
        _ if !complete => (
            false,
            format!(
                "only {} of {} runs have results",
                results.len(),
                units_expected
            ),
        ),
        _ if !errors.is_empty() => (
            false,
            format!(
                "{} runs stopped on an input error found at run time",
                errors.len()
            ),
        ),
        Expect::Pass if unexpected == 0 && inconclusive == 0 => {
            (true, "every run went to its end and passed every check".into())
        }
        Expect::Allow(_) if unexpected == 0 && inconclusive == 0 => (
            true,
            format!(
                "nothing failed but what may ({} seeds showed it)",
                violation_seeds.len()
            ),
        ),
        Expect::Pass | Expect::Allow(_) => (
            false,
            format!(
                "{} runs failed a check and {inconclusive} were inconclusive (cut short by a limit, or a check out of budget)",
                failures.len()
            ),
        ),
        Expect::Violation(_) if violation_seeds.is_empty() => {
            (false, "no run showed the expected violation".into())
        }
        Expect::Violation(_) if unexpected > 0 => (
            false,
            format!("{unexpected} failures of checks the scenario does not expect to fail"),
        ),
        Expect::Violation(_) => (
            true,
            format!(
                "{} seeds showed the expected violation and nothing else failed",
                violation_seeds.len()
            ),
        ),
    };
    let mut slowest: Vec<Slow> = results
        .iter()
        .map(|u| Slow {
            seed: u.seed,
            group: header
                .groups
                .get(u.group)
                .map(|g| g.label.clone())
                .unwrap_or_default(),
            wall_ms: u.wall_ms,
            events: u.events,
        })
        .collect();
    slowest.sort_by(|a, b| b.wall_ms.total_cmp(&a.wall_ms).then(a.seed.cmp(&b.seed)));
    slowest.truncate(5);
    let failures_total = failures.len() as u64;
    // The unexpected first, so that expected ones never crowd them out of
    // the list (the order within each stays the results' order).
    failures.sort_by_key(|f| f.expected);
    failures.truncate(FAILURES_LISTED_MAX);
    let errors_total = errors.len() as u64;
    errors.truncate(FAILURES_LISTED_MAX);
    undecided.truncate(FAILURES_LISTED_MAX);
    SweepSummary {
        scenario: header.scenario.clone(),
        scenario_path: header.scenario_path.clone(),
        seeds: header.seeds.clone(),
        units_expected,
        missing: Vec::new(),
        units_run: results.len() as u64,
        groups,
        expect: header.expect.clone(),
        expectations_per_group: own_expectations,
        expectation_held: held,
        decided: held || decided,
        expectation_note: if !held && !decided && header.shard.is_some() && complete {
            format!("{note} (this shard alone cannot tell: an expected violation may show on another shard's seeds; merge the shards to judge)")
        } else {
            note
        },
        violation_seeds: violation_seeds.into_iter().collect(),
        failures_total,
        failures,
        inconclusive_total: inconclusive,
        inconclusive: undecided,
        errors_total,
        errors,
        timing: Timing {
            run_seconds_total: results.iter().map(|u| u.wall_ms).sum::<f64>() / 1e3,
            slowest,
        },
    }
}

/// Judges each group against its own expectation (a sweep whose axis sets
/// `expect`): the sweep holds when every group's does.
fn judge_groups(
    header: &Header,
    groups: &[GroupSummary],
    per_group: &[(BTreeSet<u64>, u64)],
) -> (bool, String) {
    let mut held = true;
    let mut notes = Vec::new();
    for (index, (group, (seeds, unexpected))) in groups.iter().zip(per_group).enumerate() {
        let expect = header.groups[index]
            .expect
            .as_ref()
            .unwrap_or(&header.expect);
        let (ok, note) = match expect {
            Expect::Pass if group.passed == group.runs => (true, "every run passed".to_string()),
            Expect::Allow(names) if *unexpected == 0 && group.inconclusive == 0 => (
                true,
                format!(
                    "nothing failed but what may ({} seeds showed {})",
                    seeds.len(),
                    names.join(", ")
                ),
            ),
            Expect::Pass | Expect::Allow(_) => (
                false,
                format!(
                    "{} runs failed a check and {} were inconclusive, where every run should pass",
                    group.runs - group.passed - group.inconclusive,
                    group.inconclusive
                ),
            ),
            Expect::Violation(_) if seeds.is_empty() => {
                (false, "no run showed the expected violation".to_string())
            }
            Expect::Violation(_) if *unexpected > 0 => (
                false,
                format!("{unexpected} failures of checks it does not expect to fail"),
            ),
            Expect::Violation(names) => (
                true,
                format!(
                    "{} seeds showed the expected violation of {}",
                    seeds.len(),
                    names.join(", ")
                ),
            ),
        };
        held &= ok;
        notes.push(format!("{}: {note}", group.label));
    }
    (held, notes.join("; "))
}
