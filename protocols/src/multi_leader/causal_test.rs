//! Causal delivery: the textbook anomaly by hand (an update overtakes the
//! insert it modifies), duplicates and the bounded waiting room, and the
//! property that whatever order and repetition writes arrive in, each is
//! applied once, and with causal delivery only after all it depends on.

use super::causal::{Arrival, CausalDelivery, Dependent, WAITING_MAX};
use crate::crdt::{Dot, VersionVector};
use proptest::prelude::*;

fn applied<P: Clone>(arrival: Arrival<P>) -> Vec<P> {
    match arrival {
        Arrival::Apply(writes) => writes.into_iter().map(|w| w.payload).collect(),
        other => panic!("expected writes applied, got {}", describe(&other)),
    }
}

fn describe<P>(arrival: &Arrival<P>) -> &'static str {
    match arrival {
        Arrival::Apply(_) => "applied",
        Arrival::Waiting => "waiting",
        Arrival::Duplicate => "duplicate",
        Arrival::Refused => "refused",
    }
}

/// Region 0 inserts, region 1 applies the insert and updates; region 2
/// hears the update first.
fn insert_then_update() -> (Dependent<&'static str>, Dependent<&'static str>) {
    let (mut r0, mut r1) = (CausalDelivery::new(false), CausalDelivery::new(false));
    let insert = r0.local(0, "insert x");
    assert_eq!(applied(r1.arrive(insert.clone())), ["insert x"]);
    let update = r1.local(1, "update x");
    assert_eq!(update.deps.get(0), 1, "the update depends on the insert");
    (insert, update)
}

#[test]
fn with_causal_delivery_an_update_waits_for_its_insert() {
    let (insert, update) = insert_then_update();
    let mut r2 = CausalDelivery::new(false);
    assert_eq!(describe(&r2.arrive(update)), "waiting");
    assert_eq!(r2.waiting(), 1);
    assert_eq!(applied(r2.arrive(insert.clone())), ["insert x", "update x"]);
    assert_eq!(describe(&r2.arrive(insert)), "duplicate");
    assert_eq!(r2.waiting(), 0);
}

#[test]
fn without_it_the_update_is_applied_before_its_insert() {
    let (insert, update) = insert_then_update();
    let mut r2 = CausalDelivery::new(true);
    assert_eq!(applied(r2.arrive(update.clone())), ["update x"]);
    assert_eq!(applied(r2.arrive(insert)), ["insert x"]);
    assert_eq!(describe(&r2.arrive(update)), "duplicate");
}

#[test]
fn the_waiting_room_is_bounded() {
    let mut region = CausalDelivery::new(false);
    // Writes 2.. of region 5, whose first never comes.
    for counter in 2..(WAITING_MAX as u64 + 2) {
        let write = Dependent {
            dot: Dot { node: 5, counter },
            deps: VersionVector::default(),
            payload: counter,
        };
        assert_eq!(describe(&region.arrive(write)), "waiting");
    }
    let one_more = Dependent {
        dot: Dot {
            node: 5,
            counter: WAITING_MAX as u64 + 2,
        },
        deps: VersionVector::default(),
        payload: 0,
    };
    assert_eq!(describe(&region.arrive(one_more)), "refused");
    assert_eq!(region.waiting(), WAITING_MAX);
}

/// Three regions take writes and exchange them in a drawn order; every
/// write they took, in the order taken.
fn history(steps: &[(u8, u8)]) -> Vec<Dependent<u32>> {
    let mut regions: Vec<CausalDelivery<u32>> =
        (0..3).map(|_| CausalDelivery::new(false)).collect();
    let mut writes: Vec<Dependent<u32>> = Vec::new();
    for (i, (at, from)) in steps.iter().enumerate() {
        let at = usize::from(*at % 3);
        // Hear one earlier write first (if any), then write.
        if !writes.is_empty() {
            let heard = writes[usize::from(*from) % writes.len()].clone();
            if heard.dot.node != at as u32 {
                let _ = regions[at].arrive(heard);
            }
        }
        writes.push(regions[at].local(at as u32, i as u32));
    }
    writes
}

proptest! {
    #[test]
    fn each_write_is_applied_once_and_after_its_dependencies(
        steps in prop::collection::vec((any::<u8>(), any::<u8>()), 1..30),
        order in prop::collection::vec(any::<u16>(), 1..90),
        causal in any::<bool>(),
    ) {
        let writes = history(&steps);
        let mut observer = CausalDelivery::new(!causal);
        let mut seen: Vec<Dot> = Vec::new();
        // A drawn order with repeats, then everything once (a resend).
        let arrivals = order
            .iter()
            .map(|i| writes[usize::from(*i) % writes.len()].clone())
            .chain(writes.iter().cloned());
        for write in arrivals {
            if let Arrival::Apply(done) = observer.arrive(write) {
                for w in done {
                    prop_assert!(!seen.contains(&w.dot), "applied twice: {:?}", w.dot);
                    if causal {
                        for (region, counter) in w.deps.entries() {
                            let before = seen.iter().filter(|d| d.node == region).count() as u64;
                            prop_assert!(before >= counter, "{:?} before its dependencies", w.dot);
                        }
                    }
                    seen.push(w.dot);
                }
            }
        }
        prop_assert_eq!(seen.len(), writes.len(), "every write applied");
        prop_assert_eq!(observer.waiting(), 0);
    }
}
