//! The distinct-values check's own rules, with every hash colliding so the
//! collision path numbers the values (the integration tests cross-check
//! the check against the search on 100,000 histories).

use super::*;
use crate::checker::linearizability::{self, Algorithms};
use crate::checker::model::KvModel;
use crate::checker::{Budget, Verdict};
use crate::history::History;
use rand::{Rng, SeedableRng};

fn op(f: Function, value: &str, expected: Option<&str>, at: (u64, u64)) -> Operation {
    Operation {
        process: at.0,
        f,
        key: "k".into(),
        value: Some(value.into()),
        expected: expected.map(String::from),
        outcome: Outcome::Ok,
        invoke_ns: at.0,
        complete_ns: Some(at.1),
        gave_up_ns: None,
    }
}

fn colliding<T>(run: impl FnOnce() -> T) -> T {
    ALL_HASHES_COLLIDE.with(|c| c.set(true));
    let out = run();
    ALL_HASHES_COLLIDE.with(|c| c.set(false));
    out
}

#[test]
fn values_are_numbered_by_string_when_every_hash_collides() {
    let ops = [
        op(Function::Write, "b", None, (0, 1)),
        op(Function::Read, "a", None, (2, 3)),
        op(Function::Cas, "a", Some("b"), (4, 5)),
        op(Function::Read, "b", None, (6, 7)),
    ];
    let refs: Vec<&Operation> = ops.iter().collect();
    let roles: Vec<Role> = refs.iter().map(|o| role(o).unwrap()).collect();
    let plain = index(&refs, &roles, "");
    let collided = colliding(|| index(&refs, &roles, ""));
    for ix in [&plain, &collided] {
        assert_eq!(ix.values, 3, "\"\", a and b");
        assert_eq!(ix.value[0], ix.value[3], "the write of b and the read of b");
        assert_eq!(ix.value[1], ix.value[2], "the read of a and the cas to a");
        assert_eq!(ix.expected[2], ix.value[0], "the cas expects b");
        assert!(ix.init != ix.value[0] && ix.init != ix.value[1]);
    }
}

#[test]
fn verdicts_do_not_depend_on_hash_collisions() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for _ in 0..3_000 {
        let n = rng.random_range(1..9usize);
        let operations: Vec<Operation> = (0..n)
            .map(|i| {
                let pick = |rng: &mut rand_chacha::ChaCha8Rng| {
                    let j = rng.random_range(0..=n);
                    if j == n {
                        String::new()
                    } else {
                        format!("v{j}")
                    }
                };
                let invoke = rng.random_range(0..30u64);
                let at = (invoke, invoke + rng.random_range(0..20u64));
                match rng.random_range(0..3) {
                    0 => op(Function::Read, &pick(&mut rng), None, at),
                    1 => op(Function::Write, &format!("v{i}"), None, at),
                    _ => op(Function::Cas, &format!("v{i}"), Some(&pick(&mut rng)), at),
                }
            })
            .collect();
        let refs: Vec<&Operation> = operations.iter().collect();
        let plain = check_key(&refs, "");
        let collided = colliding(|| check_key(&refs, ""));
        assert_eq!(plain, collided);
        let search = linearizability::check_with(
            &History {
                operations: operations.clone(),
            },
            &KvModel::default(),
            &Budget::default(),
            Algorithms::SearchOnly,
        )
        .verdict;
        let fast = match plain {
            KeyVerdict::Linearizable => Verdict::Pass,
            KeyVerdict::Violation(_) => Verdict::Fail,
            KeyVerdict::NotApplicable(why) => panic!("{why}"),
        };
        assert_eq!(fast, search, "{operations:?}");
    }
}
