//! The semilattice laws over random reachable states: three replicas
//! update and exchange states at random, and any three of the states they
//! pass through merge commutatively, associatively and idempotently; the
//! replicas agree once each has merged the others'. The buggy counter
//! merge (adding) is shown to break idempotence.

use super::{Crdt, GCounter, LwwRegister, MvRegister, OrSet, PnCounter};
use proptest::prelude::*;

const REPLICAS: usize = 3;

/// One step: replica `at` updates with `arg`, then merges replica
/// `from`'s state if any.
#[derive(Clone, Debug)]
struct Step {
    at: usize,
    arg: u8,
    remove: bool,
    from: Option<usize>,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (
            0..REPLICAS,
            any::<u8>(),
            any::<bool>(),
            prop::option::of(0..REPLICAS),
        )
            .prop_map(|(at, arg, remove, from)| Step {
                at,
                arg,
                remove,
                from,
            }),
        0..40,
    )
}

/// Runs `steps` with `update` on three replicas; every state they pass
/// through, in order.
fn states<T: Crdt>(steps: &[Step], update: impl Fn(&mut T, u32, &Step, u64)) -> Vec<T> {
    let mut replicas = vec![T::default(); REPLICAS];
    let mut seen = vec![T::default()];
    for (i, step) in steps.iter().enumerate() {
        update(&mut replicas[step.at], step.at as u32, step, i as u64);
        if let Some(from) = step.from {
            let other = replicas[from].clone();
            replicas[step.at].merge(&other);
        }
        seen.push(replicas[step.at].clone());
    }
    seen.extend(replicas);
    seen
}

fn merged<T: Crdt>(a: &T, b: &T) -> T {
    let mut out = a.clone();
    out.merge(b);
    out
}

fn laws<T: Crdt>(all: &[T], pick: (usize, usize, usize)) -> Result<(), TestCaseError> {
    let n = all.len();
    let (a, b, c) = (&all[pick.0 % n], &all[pick.1 % n], &all[pick.2 % n]);
    prop_assert_eq!(merged(a, b), merged(b, a), "commutative");
    prop_assert_eq!(
        merged(&merged(a, b), c),
        merged(a, &merged(b, c)),
        "associative"
    );
    prop_assert_eq!(&merged(a, a), a, "idempotent");
    // Every replica that merged all the others holds the same state.
    let last = &all[n - REPLICAS..];
    let mut everyone = last[0].clone();
    for other in last {
        everyone.merge(other);
    }
    for replica in last {
        prop_assert_eq!(&merged(replica, &everyone), &everyone, "converges");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn g_counter_is_a_semilattice(steps in steps(), pick in any::<(usize, usize, usize)>()) {
        let all = states::<GCounter>(&steps, |c, r, s, _| c.increment(r, u64::from(s.arg)));
        laws(&all, pick)?;
    }

    #[test]
    fn pn_counter_is_a_semilattice(steps in steps(), pick in any::<(usize, usize, usize)>()) {
        let all = states::<PnCounter>(&steps, |c, r, s, _| {
            let by = i64::from(s.arg);
            c.add(r, if s.remove { -by } else { by });
        });
        laws(&all, pick)?;
    }

    #[test]
    fn or_set_is_a_semilattice(steps in steps(), pick in any::<(usize, usize, usize)>()) {
        let all = states::<OrSet>(&steps, |set, r, s, _| {
            let element = format!("e{}", s.arg % 4);
            if s.remove {
                set.remove(&element);
            } else {
                set.add(r, element);
            }
        });
        laws(&all, pick)?;
    }

    #[test]
    fn lww_register_is_a_semilattice(steps in steps(), pick in any::<(usize, usize, usize)>()) {
        // Each replica's clock is skewed by its own amount; a step's
        // timestamp grows with the step, so a replica never reuses one.
        let all = states::<LwwRegister>(&steps, |reg, r, s, i| {
            reg.assign(i * 10 + u64::from(r) * 7, r, format!("v{}", s.arg));
        });
        laws(&all, pick)?;
    }

    #[test]
    fn mv_register_is_a_semilattice(steps in steps(), pick in any::<(usize, usize, usize)>()) {
        let all = states::<MvRegister>(&steps, |reg, r, s, _| {
            reg.assign(r, format!("v{}", s.arg));
        });
        laws(&all, pick)?;
    }

    /// Adding the counts (the `crdt_merge_not_idempotent` bug) counts a
    /// state seen twice twice, whenever it has counted anything.
    #[test]
    fn adding_counts_is_not_idempotent(by in 1u64..1_000, replica in 0u32..3) {
        let mut counter = GCounter::default();
        counter.increment(replica, by);
        let copy = counter.clone();
        counter.merge_adding(&copy);
        prop_assert_eq!(counter.value(), 2 * by);
        let mut fine = copy.clone();
        fine.merge(&copy);
        prop_assert_eq!(fine.value(), by);
    }
}
