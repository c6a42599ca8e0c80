//! PBS (Bailis et al., VLDB 2012) reproduced by `pbs-wars.ron`, against
//! the paper's values and an independent Monte Carlo of the WARS equations
//! written here from the paper's definitions.

mod common;

use scenarios::Scenario;
use sim_core::checker::visibility::Counting;
use sim_core::latency::Latency;
use sim_core::SimDuration;

fn ms(x: f64) -> SimDuration {
    SimDuration::from_nanos((x * 1e6).round() as u64)
}

/// LNKD-SSD's fit, and every leg but W of LNKD-DISK (the paper's Table 3).
fn lnkd_ssd() -> Latency {
    Latency::Mixture(vec![
        (
            0.9122,
            Latency::Pareto {
                scale: ms(0.235),
                alpha: 10.0,
            },
        ),
        (
            0.0878,
            Latency::Exponential {
                mean: ms(1.0 / 1.66),
            },
        ),
    ])
}

/// LNKD-DISK's W leg.
fn lnkd_disk_write() -> Latency {
    Latency::Mixture(vec![
        (
            0.38,
            Latency::Pareto {
                scale: ms(1.05),
                alpha: 1.51,
            },
        ),
        (
            0.62,
            Latency::Exponential {
                mean: ms(1.0 / 0.183),
            },
        ),
    ])
}

/// The WARS model with N = 3, computed directly: per trial, the write
/// commits at its W-th fastest write-and-ack, and the read's threshold is
/// the least t after that at which one of its R fastest request-and-reply
/// replicas had the write when the request arrived: min over them of
/// W_j - commit - R_j. Thresholds in ms, one per trial.
fn wars_thresholds_ms(
    write: &Latency,
    other: &Latency,
    r: usize,
    w: usize,
    trials: usize,
) -> Vec<f64> {
    let mut rng = sim_core::rng::stream(7, "test/wars");
    let draw = |l: &Latency, rng: &mut _| l.sample(rng).as_nanos() as f64 / 1e6;
    (0..trials)
        .map(|_| {
            let writes: Vec<f64> = (0..3).map(|_| draw(write, &mut rng)).collect();
            let mut acks: Vec<f64> = writes.iter().map(|wi| wi + draw(other, &mut rng)).collect();
            acks.sort_by(f64::total_cmp);
            let commit = acks[w - 1];
            let mut reads: Vec<(f64, f64)> = (0..3)
                .map(|j| {
                    let request = draw(other, &mut rng);
                    (
                        request + draw(other, &mut rng),
                        writes[j] - commit - request,
                    )
                })
                .collect();
            reads.sort_by(|a, b| a.0.total_cmp(&b.0));
            reads[..r]
                .iter()
                .map(|(_, t)| *t)
                .fold(f64::INFINITY, f64::min)
        })
        .collect()
}

fn share_at_most(thresholds: &[f64], t_ms: f64) -> f64 {
    thresholds.iter().filter(|t| **t <= t_ms).count() as f64 / thresholds.len() as f64
}

/// One environment of the sweep (0 LNKD-SSD, 1 LNKD-DISK, 2 YMMR, 3 WAN),
/// at R = W = 1 (the file's own).
fn environment(index: usize) -> Scenario {
    let scenario = common::load("pbs-wars.ron");
    let networks = scenario.sweep[0].clone();
    assert_eq!(networks.path, "network");
    let mut env =
        scenarios::set::apply(&scenario, "network", networks.values[index].clone()).unwrap();
    env.sweep.clear();
    env
}

/// The runs' thresholds, summed over `seeds`.
fn thresholds(scenario: &Scenario, seeds: std::ops::Range<u64>) -> Counting {
    let mut sum = Counting::default();
    for seed in seeds {
        let outcome = common::run(scenario, seed);
        assert!(outcome.passed(), "{:?}", outcome.failed());
        sum.merge(
            outcome
                .metrics
                .visibility
                .as_ref()
                .expect("the store reports thresholds"),
        );
    }
    sum
}

/// The paper's check value: LNKD-SSD with R = W = 1 is 97.4% consistent
/// at t = 0.
#[test]
fn lnkd_ssd_with_one_replica_each_way_is_consistent_at_t_zero_as_pbs_predicts() {
    let c = thresholds(&environment(0), 0..1);
    let p = c.p_at_zero().unwrap();
    assert!(c.reads() > 5_000, "{} reads", c.reads());
    assert!(
        (p - 0.974).abs() < 0.01,
        "P(consistent at t = 0) = {p:.4} over {} reads",
        c.reads()
    );
}

/// The simulated store's thresholds follow the WARS equations' at every t
/// (here LNKD-DISK, R = W = 1, whose W leg has the heavy tail): the
/// monitor computes each read's threshold from the messages the run
/// actually sent, the Monte Carlo from the paper's definitions alone.
#[test]
fn the_stores_thresholds_match_a_direct_monte_carlo_of_the_wars_equations() {
    let c = thresholds(&environment(1), 0..1);
    let n = c.reads() as f64;
    assert!(n > 5_000.0, "{n} reads");
    let wars = wars_thresholds_ms(&lnkd_disk_write(), &lnkd_ssd(), 1, 1, 200_000);
    for t_ms in [0.0, 2.0, 10.0, 30.0] {
        let measured = c.consistent_at(t_ms) as f64 / n;
        let model = share_at_most(&wars, t_ms);
        let sigma = (model * (1.0 - model) / n).sqrt();
        assert!(
            (measured - model).abs() < 4.0 * sigma + 0.01,
            "t = {t_ms} ms: the store {measured:.4}, WARS {model:.4} (sigma {sigma:.4})"
        );
    }
    // The paper: 43.9% at t = 0.
    let p0 = c.p_at_zero().unwrap();
    assert!((p0 - 0.439).abs() < 0.02, "{p0:.4}");
}

// Postmortem. pbs-wars.ron sent a client's reads and writes through the
// same coordinator, whose local replica answered first: its WAN rows read
// 99.97% consistent at t = 0 for R = W = 1, where the paper, whose every
// operation is coordinated from a datacentre chosen at random, reads 33%.
// Each operation now draws its coordinator (`RandomEachOperation`).
#[test]
fn regression_wan_reads_and_writes_choose_their_coordinators_independently() {
    let c = thresholds(&environment(3), 0..1);
    let p0 = c.p_at_zero().unwrap();
    assert!(c.reads() > 5_000, "{} reads", c.reads());
    assert!((p0 - 0.33).abs() < 0.02, "WAN, R = W = 1: {p0:.4} at t = 0");
}

// Postmortem. The t for 99.9% came from reads binned by the t they began
// at, 5 ms wide to 100 ms and 50 ms to 1 s; tail bins held 200 to 600
// reads, and two stale reads in one pulled a whole block of the fit below
// 99.9%: LNKD-DISK at R = W = 1 read 90 ms, where the WARS equations give
// about 53. Each read now has a threshold, every read counts at every t,
// and the point is the thresholds' 0.999 quantile with its interval.
#[test]
#[ignore = "heavy: 60 seeds of one PBS environment (about 500,000 reads)"]
fn regression_the_999_point_is_resolved_within_ten_percent_and_matches_wars() {
    let c = thresholds(&environment(1), 0..60);
    let q = c.t_at(0.999).unwrap();
    let high = q.high_ms.expect("bounded");
    assert!(
        high <= q.ms * 1.1 && q.low_ms >= q.ms * 0.9,
        "LNKD-DISK R = W = 1: {:.2} ms [{:.2}, {high:.2}] over {} reads",
        q.ms,
        q.low_ms,
        c.reads()
    );
    let mut wars = wars_thresholds_ms(&lnkd_disk_write(), &lnkd_ssd(), 1, 1, 2_000_000);
    wars.sort_by(f64::total_cmp);
    let model = wars[wars.len() * 999 / 1000];
    assert!(
        (q.low_ms * 0.97..=high * 1.03).contains(&model),
        "WARS {model:.2} ms outside the store's [{:.2}, {high:.2}]",
        q.low_ms
    );
}
