//! Each resolution on the textbook case (two regions write one key while
//! cut off from each other, then exchange states), which writes each key
//! kind takes, and the property that regions exchanging states in any
//! order, with repeats, read the same value, and a counter reads the sum
//! of its increments (twice a duplicated region's, with the bug switch).

use super::resolution::{CrdtKind, KeyState, Resolution, Write};
use proptest::prelude::*;

/// Region 0 writes `a` at clock 100 ms, region 1 writes `b` at 90 ms (its
/// clock is behind, though it wrote later); then both exchange states.
fn partitioned(resolution: Resolution, a: Write, b: Write) -> (KeyState, KeyState) {
    let (mut eu, mut us) = (resolution.empty(), resolution.empty());
    eu.write(0, 100_000_000, &a);
    us.write(1, 90_000_000, &b);
    let (eu_state, us_state) = (eu.clone(), us.clone());
    eu.merge(&us_state);
    us.merge(&eu_state);
    (eu, us)
}

#[test]
fn lww_keeps_one_write_version_vectors_keep_both_and_a_set_merges() {
    let put = |v: &str| Write::Put(v.into());
    let (eu, us) = partitioned(Resolution::LastWriterWins, put("eu"), put("us"));
    assert_eq!(
        (eu.read(), us.read()),
        (vec!["eu".to_string()], vec!["eu".to_string()])
    );
    let (eu, us) = partitioned(Resolution::VersionVectors, put("eu"), put("us"));
    assert_eq!(eu.read(), ["eu", "us"]);
    assert_eq!(eu, us);
    let insert = |v: &str| Write::Insert(v.into());
    let (eu, _) = partitioned(
        Resolution::Crdt(CrdtKind::OrSet),
        insert("milk"),
        insert("eggs"),
    );
    assert_eq!(eu.read(), ["eggs", "milk"]);
    let (eu, _) = partitioned(
        Resolution::Crdt(CrdtKind::PnCounter),
        Write::Add(5),
        Write::Add(-2),
    );
    assert_eq!(eu.read(), ["3"]);
}

#[test]
fn each_kind_takes_its_own_writes() {
    let put = Write::Put("x".into());
    assert!(Resolution::LastWriterWins.takes(&put));
    assert!(Resolution::VersionVectors.takes(&put));
    assert!(!Resolution::Crdt(CrdtKind::OrSet).takes(&put));
    assert!(Resolution::Crdt(CrdtKind::GCounter).takes(&Write::Add(3)));
    assert!(!Resolution::Crdt(CrdtKind::GCounter).takes(&Write::Add(-3)));
    assert!(Resolution::Crdt(CrdtKind::PnCounter).takes(&Write::Add(-3)));
    assert!(Resolution::Crdt(CrdtKind::OrSet).takes(&Write::Remove("x".into())));
    assert!(!Resolution::Crdt(CrdtKind::LwwRegister).takes(&Write::Add(1)));
}

fn resolutions() -> impl Strategy<Value = Resolution> {
    prop::sample::select(vec![
        Resolution::LastWriterWins,
        Resolution::VersionVectors,
        Resolution::Crdt(CrdtKind::GCounter),
        Resolution::Crdt(CrdtKind::PnCounter),
        Resolution::Crdt(CrdtKind::OrSet),
        Resolution::Crdt(CrdtKind::LwwRegister),
        Resolution::Crdt(CrdtKind::MvRegister),
    ])
}

/// A write the resolution takes, drawn from `n`.
fn write_for(resolution: Resolution, n: u8) -> Write {
    let candidates = [
        Write::Put(format!("v{n}")),
        Write::Add(i64::from(n % 7)),
        Write::Add(-i64::from(n % 5)),
        Write::Insert(format!("e{}", n % 4)),
        Write::Remove(format!("e{}", n % 4)),
    ];
    let fitting: Vec<&Write> = candidates.iter().filter(|w| resolution.takes(w)).collect();
    fitting[usize::from(n) % fitting.len()].clone()
}

proptest! {
    #[test]
    fn regions_that_exchange_states_in_any_order_read_the_same(
        resolution in resolutions(),
        steps in prop::collection::vec((0u32..3, any::<u8>(), prop::option::of(0usize..3)), 1..40),
    ) {
        let mut regions = vec![resolution.empty(); 3];
        let mut added = 0i64;
        for (i, (at, n, heard)) in steps.iter().enumerate() {
            let write = write_for(resolution, *n);
            if let Write::Add(by) = write {
                added += by;
            }
            regions[*at as usize].write(*at, i as u64 * 1_000 + u64::from(*at), &write);
            if let Some(from) = heard {
                let state = regions[*from].clone();
                regions[*at as usize].merge(&state);
                // A duplicated shipment changes nothing.
                regions[*at as usize].merge(&state);
            }
        }
        let mut all = regions[0].clone();
        for region in &regions[1..] {
            all.merge(region);
        }
        for region in &mut regions {
            region.merge(&all);
            prop_assert_eq!(region.read(), all.read());
        }
        if matches!(resolution.kind(), CrdtKind::GCounter | CrdtKind::PnCounter) {
            prop_assert_eq!(all.read(), vec![added.to_string()]);
        }
    }

    /// With the bug switch a duplicated shipment of a counter adds its
    /// counts again.
    #[test]
    fn bug_switch_crdt_merge_not_idempotent_double_counts(by in 1i64..100) {
        let resolution = Resolution::Crdt(CrdtKind::PnCounter);
        let (mut here, mut there) = (resolution.empty(), resolution.empty());
        there.write(1, 0, &Write::Add(by));
        here.merge_adding_counts(&there);
        here.merge_adding_counts(&there);
        prop_assert_eq!(here.read(), vec![(2 * by).to_string()]);
    }
}
