//! Raft through the whole pipeline: property tests over random fault
//! schedules (safety, and liveness once the faults stop), the bug switches
//! the checkers must catch, and frozen regressions.

mod common;

use proptest::prelude::*;
use scenarios::duration::Dur;
use scenarios::schema::{FaultSpec, TimedFault};
use scenarios::strategies::fault_schedule;
use std::path::Path;

const BASE: &str = r#"Scenario(
    name: "raft-prop",
    duration: "2s",
    nodes: Count(5),
    network: (default: (latency: Uniform(min: "1ms", max: "6ms"), loss: 0.02, duplicate: 0.02)),
    clocks: (random: (offset_max: "50ms", drift_ppm_max: 500.0)),
    protocol: Raft(election_timeout: ("50ms", "100ms")),
    workload: (clients: 4, arrival: Closed(think: Exponential(mean: "5ms")), mix: (read: 0.4, write: 0.3, cas: 0.2, append: 0.1), keys: 2, attempt_timeout: "40ms", op_timeout: "300ms"),
)"#;

fn names() -> Vec<String> {
    (1..=5).map(|i| format!("n{i}")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Safety under any schedule, and liveness after heal: once every fault
    /// is undone at 1 s, and every disk stall or slowdown (which no fault
    /// undoes) has run out, a leader is elected and operations complete.
    #[test]
    fn raft_is_safe_under_any_schedule_and_live_after_heal(schedule in fault_schedule(names(), Dur::secs(1)), seed in any::<u64>()) {
        safe_and_live_after_heal(schedule, seed)?;
    }
}

/// When every fault of `schedule` is over: the heal at 1 s, or the end of
/// the last disk stall or slowdown, whichever is later (ns).
fn whole_again_ns(schedule: &[TimedFault]) -> u64 {
    schedule
        .iter()
        .filter_map(|f| match &f.fault {
            FaultSpec::DiskStall(_, d) | FaultSpec::DiskSlow(_, _, d) => {
                Some(f.at.0.as_nanos() + d.0.as_nanos())
            }
            _ => None,
        })
        .max()
        .unwrap_or(0)
        .max(1_000_000_000)
}

/// Raft under `schedule` (healed at 1 s) with `seed`: every check passes,
/// and some operation completes within 500 ms of the cluster being whole.
fn safe_and_live_after_heal(schedule: Vec<TimedFault>, seed: u64) -> Result<(), TestCaseError> {
    let mut scenario = scenarios::load_str(BASE, "base.ron").unwrap();
    let whole = whole_again_ns(&schedule);
    scenario.faults.schedule = schedule;
    scenario
        .faults
        .schedule
        .extend(common::heal_everything(&names(), Dur::secs(1)));
    scenario.duration = Dur(sim_core::SimDuration::from_nanos(
        (whole + 1_000_000_000).max(2_000_000_000),
    ));
    scenarios::validate::validate(&scenario).map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
    let outcome = scenarios::run(&scenarios::resolve(&scenario, seed)).unwrap();
    prop_assert!(
        outcome.passed(),
        "failed {:?}; checks {:?}",
        outcome.failed(),
        outcome.checks
    );
    let live = outcome.history.operations.iter().any(|op| {
        op.outcome == sim_core::history::Outcome::Ok
            && op.invoke_ns >= whole
            && op.complete_ns.is_some_and(|c| c <= whole + 500_000_000)
    });
    prop_assert!(
        live,
        "no operation completed in the 500 ms after the cluster was whole at {whole} ns"
    );
    Ok(())
}

/// Postmortem: the liveness property above once looked only at the 500 ms
/// after the heal at 1 s. Disk stalls drawn before 1 s may last past it,
/// and no fault undoes them: here n3's and n5's disks were stalled until
/// about 1.37 s and 1.40 s, so two of five servers could not persist a vote
/// or an entry for most of the window, and no operation completed in it.
/// Raft was right to wait; the test was wrong. The window now opens once
/// the last stall or slowdown has run out.
#[test]
fn regression_disk_stalls_that_outlast_the_heal_delay_liveness_not_break_it() {
    let stall = |at_ns: u64, node: &str, ns: u64| TimedFault {
        at: Dur(sim_core::SimDuration::from_nanos(at_ns)),
        jitter: None,
        fault: FaultSpec::DiskStall(node.into(), Dur(sim_core::SimDuration::from_nanos(ns))),
    };
    let at = |ns: u64, fault: FaultSpec| TimedFault {
        at: Dur(sim_core::SimDuration::from_nanos(ns)),
        jitter: None,
        fault,
    };
    let schedule = vec![
        stall(451_081_106, "n5", 952_363_393),
        stall(640_543_125, "n3", 729_466_112),
        at(
            658_718_146,
            FaultSpec::Partition(vec![
                vec!["n1".into(), "n2".into()],
                vec!["n3".into(), "n4".into(), "n5".into()],
            ]),
        ),
        at(988_123_658, FaultSpec::Heal),
    ];
    assert_eq!(whole_again_ns(&schedule), 451_081_106 + 952_363_393);
    safe_and_live_after_heal(schedule, 16_494_672_673_534_572_959).unwrap();
}

/// Seeds `0..limit` of `scenario` with `sets` applied; the first seed where
/// any of `names` fails, or `None`.
fn first_failing_seed(
    path: &str,
    sets: &[(&str, &str)],
    names: &[&str],
    limit: u64,
) -> Option<u64> {
    let mut scenario = scenarios::load_file(Path::new(path)).unwrap();
    for (field, value) in sets {
        let (path, values) = scenarios::set::parse_assignment(&format!("{field}={value}")).unwrap();
        scenario = scenarios::set::apply(&scenario, &path, values[0].clone()).unwrap();
    }
    scenario.checks = vec!["invariants".into(), "linearizability".into()];
    (0..limit).find(|seed| {
        let outcome = scenarios::run(&scenarios::resolve(&scenario, *seed)).unwrap();
        outcome.failed().iter().any(|f| names.contains(&f.as_str()))
    })
}

#[test]
fn votes_without_the_log_check_are_caught_within_20_seeds() {
    let seed = first_failing_seed(
        "../scenarios/raft-swarm.ron",
        &[("protocol.Raft.vote_without_log_check", "true")],
        &[
            "leader-completeness",
            "state-machine-safety",
            "linearizability",
        ],
        20,
    );
    assert!(seed.is_some(), "the bug went unnoticed for 20 seeds");
}

/// raft-lease-drift.ron drifts clocks 10%; with a lease bound that covers
/// it the reads stay linearizable, the bug switch (a lease that ignores
/// drift) goes stale under the same bound, and ReadIndex never does.
#[test]
fn leases_go_stale_only_without_a_sufficient_drift_bound() {
    const LEASE: &str = "../scenarios/raft-lease-drift.ron";
    const COVERING_BOUND: (&str, &str) = ("protocol.Raft.lease_drift_bound_ppm", "100000");
    let covered = first_failing_seed(LEASE, &[COVERING_BOUND], &["linearizability"], 40);
    assert_eq!(
        covered, None,
        "a bound covering the drift must keep leases safe"
    );
    let bug = first_failing_seed(
        LEASE,
        &[
            COVERING_BOUND,
            ("protocol.Raft.lease_without_drift_bound", "true"),
        ],
        &["linearizability"],
        20,
    );
    assert!(
        bug.is_some(),
        "a lease ignoring drift stayed linearizable for 20 seeds"
    );
    let read_index = first_failing_seed(
        LEASE,
        &[("protocol.Raft.read_mode", "ReadIndex")],
        &["linearizability"],
        40,
    );
    assert_eq!(read_index, None, "ReadIndex reads must stay linearizable");
}

#[test]
fn committing_earlier_terms_by_counting_is_caught_within_5_seeds() {
    let scenario = "../scenarios/raft-figure8.ron";
    assert_eq!(
        first_failing_seed(scenario, &[], &["leader-completeness"], 40),
        None
    );
    let seed = first_failing_seed(
        scenario,
        &[("protocol.Raft.commit_previous_terms", "true")],
        &["leader-completeness", "state-machine-safety"],
        5,
    );
    assert!(seed.is_some(), "Figure 8 went unnoticed for 5 seeds");
}

#[test]
fn a_vote_not_persisted_is_caught_within_5_seeds() {
    let scenario = "../scenarios/raft-forgotten-vote.ron";
    assert_eq!(
        first_failing_seed(scenario, &[], &["election-safety"], 40),
        None
    );
    let seed = first_failing_seed(
        scenario,
        &[("protocol.Raft.vote_without_persist", "true")],
        &["election-safety"],
        5,
    );
    assert!(
        seed.is_some(),
        "a forgotten vote went unnoticed for 5 seeds"
    );
}

#[test]
fn follower_reads_are_caught_as_stale() {
    let seed = first_failing_seed(
        "../scenarios/raft-majority-partition.ron",
        &[("protocol.Raft.read_mode", "Follower")],
        &["linearizability"],
        20,
    );
    assert!(
        seed.is_some(),
        "follower reads looked linearizable for 20 seeds"
    );
}

/// Regression, found by a 600-seed sweep of a 3-server clog-and-crash
/// nemesis. Postmortem: a duplicated `NotLeader` reply to an earlier attempt
/// arrived while a later attempt was in flight; the client took it as the
/// later attempt's refusal, so when the deadline came it recorded the write
/// as failed, yet the later attempt had been applied. The checker reported
/// a linearizability violation of a correct Raft. Fix: responses echo their
/// attempt, and refusals count only for the attempt they answer.
#[test]
fn regression_a_stale_refusal_does_not_hide_an_applied_write() {
    let outcome = run_seed_124();
    assert!(outcome.passed(), "failed {:?}", outcome.failed());
}

fn run_seed_124() -> scenarios::RunOutcome {
    let text = std::fs::read_to_string("../scenarios/raft-swarm.ron")
        .unwrap()
        .replace("nodes: Count(5)", "nodes: Count(3)")
        .replace(
            r#"election_timeout: ("50ms", "100ms")"#,
            r#"election_timeout: ("20ms", "40ms"), leader_noop: false"#,
        )
        .replace(
            "kinds: [Partition, Crash, PowerLoss, Pause, Clog, Loss]",
            "kinds: [Clog, Crash]",
        )
        .replace("swarm: true", "swarm: false")
        .replace(r#"interval_min: "50ms""#, r#"interval_min: "5ms""#)
        .replace(r#"interval_max: "300ms""#, r#"interval_max: "60ms""#)
        .replace(r#"fault_min: "50ms""#, r#"fault_min: "10ms""#)
        .replace(r#"fault_max: "400ms""#, r#"fault_max: "150ms""#)
        .replace(r#"duration: "5s""#, r#"duration: "10s""#)
        .replace(r#"stop: "4s""#, r#"stop: "9s""#)
        .replace(r#"stop_after: "4.5s""#, r#"stop_after: "9.5s""#);
    let scenario = scenarios::load_str(&text, "regression.ron").unwrap();
    scenarios::run(&scenarios::resolve(&scenario, 124)).unwrap()
}

/// Regression, found by `raft_is_safe_under_any_schedule_and_live_after_heal`:
/// a write recorded as failed was read later.
///
/// Postmortem: links duplicate 2% of messages. One copy of a client's
/// attempt reached the leader and was appended; the other reached the same
/// server after it had stepped down, and it answered `NotLeader`. The client
/// counts a refusal of its current attempt as "definitely not applied", so
/// when its deadline came it recorded the write as `fail`; the entry
/// committed under the next leader and a read saw its value. A server now
/// refuses only a request whose (client, seq) it holds no entry for.
#[test]
fn regression_a_duplicated_request_is_not_refused_after_its_copy_was_appended() {
    let mut scenario = scenarios::load_str(BASE, "base.ron").unwrap();
    let at = |ns: u64| Dur(sim_core::SimDuration::from_nanos(ns));
    scenario.faults.schedule = vec![
        TimedFault {
            jitter: None,
            at: at(172_826_360),
            fault: FaultSpec::OneWay {
                from: vec!["n5".into()],
                to: vec!["n1".into()],
            },
        },
        TimedFault {
            jitter: None,
            at: at(225_974_125),
            fault: FaultSpec::Heal,
        },
    ];
    scenario
        .faults
        .schedule
        .extend(common::heal_everything(&names(), Dur::secs(1)));
    let outcome = scenarios::run(&scenarios::resolve(&scenario, 207_115_994_538_502_943)).unwrap();
    assert!(outcome.passed(), "failed {:?}", outcome.failed());
}

/// The roles a fault names are recorded with the node they were bound to
/// when it happened, so that reports can say "crash n5 (@leader)": the
/// leader's crash and the old leader's restart name the same server, and
/// it is the one that led before the crash.
#[test]
fn a_fault_on_the_leader_records_which_node_the_role_named() {
    let scenario = common::load("raft-leader-crash.ron");
    let outcome = common::run(&scenario, 1);
    let bound: Vec<(usize, &str, &str)> = outcome
        .metrics
        .fault_bindings
        .iter()
        .map(|b| (b.index, b.role.as_str(), b.node.as_str()))
        .collect();
    assert_eq!(bound.len(), 2, "{bound:?}");
    assert_eq!((bound[0].0, bound[0].1), (0, "@leader"));
    assert_eq!((bound[1].0, bound[1].1), (1, "@old-leader"));
    assert_eq!(
        bound[0].2, bound[1].2,
        "the restart names the crashed leader"
    );
    let servers = scenarios::validate::server_names(&scenario.nodes);
    assert!(servers.iter().any(|s| s == bound[0].2), "{bound:?}");
}

/// A healthy cluster is available: a compare-and-set a server answered
/// "no" is a served request. Counted as a failure, contended
/// compare-and-sets made a fault-free Raft cluster look 70-90% available;
/// now every window after the first election serves all its requests,
/// and a request the client gave up on is marked as such.
#[test]
fn a_healthy_cluster_serves_every_window_though_many_cas_answer_no() {
    // A network without loss: a lost message makes a request wait out its
    // attempt timeout, which rightly reads as not being served.
    let healthy = BASE.replace("loss: 0.02, duplicate: 0.02", "loss: 0.0");
    let mut scenario = scenarios::load_str(&healthy, "base.ron").unwrap();
    scenario.duration = Dur::secs(3);
    let outcome = scenarios::run(&scenarios::resolve(&scenario, 7)).unwrap();
    assert!(outcome.passed(), "{:?}", outcome.checks);
    let ops = &outcome.history.operations;
    let declined = ops
        .iter()
        .filter(|op| op.outcome == sim_core::history::Outcome::Fail && op.served())
        .count();
    assert!(
        declined > 20,
        "contended compare-and-sets answer no: {declined}"
    );
    let windows = &outcome.metrics.availability;
    // After the first leader's election (well within 500 ms), every window
    // with requests serves them all; those after the workload stopped
    // have no demand, and no value (not 0).
    let settled: Vec<_> = windows.iter().filter(|w| w.start_ms >= 500.0).collect();
    let served = settled
        .iter()
        .filter(|w| w.served_share() == Some(1.0))
        .count();
    let idle = settled.iter().filter(|w| w.open == 0).count();
    assert!(served > 100, "{served}");
    assert_eq!(
        served + idle,
        settled.len(),
        "a healthy cluster serves every window: {:?}",
        settled
            .iter()
            .filter(|w| w.open > 0 && w.served_share() != Some(1.0))
            .collect::<Vec<_>>()
    );
    assert!(settled
        .iter()
        .filter(|w| w.open == 0)
        .all(|w| w.served_share().is_none()));
}

/// A request the client gave up on records when; one a server answered
/// does not, and the give-ups read as an outage while the leader is down.
#[test]
fn an_outage_reads_zero_and_the_requests_given_up_on_say_when() {
    let scenario = common::load("raft-leader-crash.ron");
    let outcome = common::run(&scenario, 1);
    for op in &outcome.history.operations {
        if let Some(at) = op.gave_up_ns {
            assert!(!op.served(), "{op:?}");
            assert!(op.outcome != sim_core::history::Outcome::Ok);
            assert!(at >= op.invoke_ns);
        }
    }
    // Some window between the crash at 2 s and the new leader reads 0.
    let during: Vec<Option<f64>> = outcome
        .metrics
        .availability
        .iter()
        .filter(|w| (2_000.0..2_400.0).contains(&w.start_ms))
        .map(|w| w.served_share())
        .collect();
    assert!(during.contains(&Some(0.0)), "{during:?}");
    assert!(
        during.iter().all(Option::is_some),
        "clients were waiting: {during:?}"
    );
}

/// Regression (Figure 16 at 12-24 ms, seeds 91, 239, 283, 340 and 919):
/// the leaderless-time monitor exempted the *first* leader elected after
/// the crash from hearing a leader. When that leader was deposed before
/// everyone heard it, the new one never "heard a leader" itself, so the
/// sample was never taken and the trial read "not elected", though a
/// stable leader heartbeated to the end. In seed 91, n5 won at 1302.41 ms
/// and n2, which had stood 0.05 ms earlier, led from 1317.90 ms on.
/// Postmortem: the measure ends when every live server has heard the
/// *current* leader; a newer leader restarts who has heard it.
#[test]
fn regression_a_deposed_first_leader_does_not_lose_the_election_sample() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions/raft-election-deposed-first-leader.ron");
    let scenario = scenarios::load_file(&path).unwrap();
    for seed in [91, 239, 283, 340, 919] {
        let outcome = common::run(&scenario, seed);
        let leaderless = outcome.metrics.protocol.get("leaderless_ms");
        assert!(
            leaderless.is_some_and(|s| s.count == 1),
            "seed {seed}: the election after the crash is measured: {:?}",
            outcome.metrics.protocol.keys().collect::<Vec<_>>()
        );
    }
}

/// Regression (Figure 16's setup): "the logs are prepared so that 2 of the
/// 4 followers cannot win". The scenario cut n1's links to n4 and n5 for
/// one client write and healed them for the synchronized heartbeat at
/// 1.2 s; but a heartbeat carries every entry a follower has not
/// acknowledged, so n4 and n5 took the entry at 1.2 s and every follower
/// could win.
/// Postmortem: the logs are preloaded at different lengths and the
/// followers' answers to n1 are cut, so n1 never learns to send the short
/// logs more; the heartbeats still reach everyone. Each candidate's
/// RequestVote shows its log: n2 5 entries, n3 3, n4 2, n5 1.
#[test]
fn regression_figure_16_logs_keep_their_own_lengths_through_the_synchronized_heartbeat() {
    let mut scenario = common::load("raft-election.ron");
    scenario.sweep.clear();
    scenario.outputs.trace = true;
    let lengths = [(1u32, 5u64), (2, 3), (3, 2), (4, 1)];
    let mut candidates = std::collections::BTreeSet::new();
    for seed in 0..20 {
        let outcome = common::run(&scenario, seed);
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.failed());
        // Until the first new leader replicates, which repairs the logs.
        let new_leader_at = outcome
            .trace
            .iter()
            .find(|r| {
                r.kind == sim_core::trace::TraceKind::Send
                    && r.node.is_some_and(|n| n.0 != 0)
                    && r.detail.contains("AppendEntries")
            })
            .map_or(u64::MAX, |r| r.time.as_nanos());
        for record in outcome
            .trace
            .iter()
            .filter(|r| r.time.as_nanos() < new_leader_at)
        {
            let (Some(node), true) = (record.node, record.detail.contains("RequestVote")) else {
                continue;
            };
            if record.kind != sim_core::trace::TraceKind::Send
                || record.time.as_nanos() < 1_200_000_000
            {
                continue;
            }
            let last = record
                .detail
                .split("last_log_index: ")
                .nth(1)
                .and_then(|rest| rest.split(',').next())
                .and_then(|n| n.trim().parse::<u64>().ok())
                .expect("a RequestVote names its last log index");
            let expected = lengths
                .iter()
                .find(|(id, _)| *id == node.0)
                .map(|(_, l)| *l);
            assert_eq!(
                Some(last),
                expected,
                "seed {seed}: n{} stood with {last} entries",
                node.0 + 1
            );
            candidates.insert(node.0);
        }
        assert_eq!(
            outcome
                .metrics
                .protocol
                .get("leaderless_ms")
                .map(|s| s.count),
            Some(1),
            "seed {seed}: elected"
        );
    }
    assert!(
        candidates.len() >= 3,
        "most followers stood in 20 trials: {candidates:?}"
    );
}

/// The dissertation's WAN simulation (Ongaro 2014, AvailSim): 5 servers,
/// 30-40 ms one way, timeouts 300-600 ms; mean election times of 430, 469
/// and 632 ms with 0, 1 and 2 failed servers. Each mean here is within
/// 10% over 400 trials (its standard error is 2-4%).
#[test]
fn wan_elections_take_as_long_on_average_as_the_dissertations_simulator_says() {
    let scenario = common::load("raft-election-wan.ron");
    let groups = scenarios::sweep::plan_groups(&scenario, &[]).unwrap();
    assert_eq!(groups.len(), 3);
    for (group, dissertation_ms) in groups.iter().zip([430.0, 469.0, 632.0]) {
        let mut sum = 0.0;
        let trials = 400;
        for seed in 0..trials {
            let outcome = common::run(&group.scenario, seed);
            let leaderless = outcome.metrics.protocol.get("leaderless_ms");
            let sample = leaderless.unwrap_or_else(|| panic!("seed {seed}: not elected"));
            assert_eq!(sample.count, 1);
            sum += sample.mean;
        }
        let mean = sum / trials as f64;
        assert!(
            (mean - dissertation_ms).abs() <= 0.1 * dissertation_ms,
            "{}: mean {mean:.0} ms against the dissertation's {dissertation_ms}",
            group.label
        );
    }
}
