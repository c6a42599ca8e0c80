//! Properties of the transactional checkers, over generated histories
//! whose shape (processes, keys, transaction length, read share, key
//! skew) is drawn as well as the seed:
//! - a serial execution is always strict serializable, with no anomaly;
//! - one targeted perturbation is reported as its anomaly;
//! - on histories of up to 8 transactions, the strict-serializable
//!   verdict equals that of a brute-force search over every order.

use proptest::prelude::*;
use sim_core::history::Outcome;
use sim_core::txn::check::{check, Options, Report};
use sim_core::txn::generate::{serial, Shape};
use sim_core::txn::models::{Model, Standing};
use sim_core::txn::{Mop, TxnHistory, TxnKind};

fn judge(h: &TxnHistory) -> Report {
    check(h, &Options::default()).expect("checks")
}

fn standing(r: &Report, m: Model) -> Standing {
    r.standings
        .iter()
        .find(|s| s.model == m)
        .expect("every model")
        .standing
}

fn shape_strategy(kind: TxnKind, txns: std::ops::Range<usize>) -> impl Strategy<Value = Shape> {
    (
        txns,
        1usize..8,
        1usize..12,
        1usize..6,
        0u32..100,
        0u32..20,
        prop::bool::ANY,
        0u32..3,
    )
        .prop_map(
            move |(
                txns,
                processes,
                keys,
                mops_max,
                read_pct,
                writes_per_key_max,
                final_reads,
                zipf,
            )| Shape {
                kind,
                txns,
                processes,
                keys,
                mops_max,
                read_pct,
                writes_per_key_max,
                zipf: zipf as f64 * 0.5,
                final_reads,
                fail_pct: 0,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn serial_list_append_histories_are_strict_serializable(shape in shape_strategy(TxnKind::ListAppend, 1..300), seed in any::<u64>()) {
        let h = serial(&shape, seed);
        let r = judge(&h);
        prop_assert!(r.anomaly_counts.is_empty(), "{:?}", r.anomaly_counts);
        prop_assert_eq!(standing(&r, Model::StrictSerializable), Standing::Consistent);
    }

    #[test]
    fn serial_rw_register_histories_show_no_anomaly(shape in shape_strategy(TxnKind::RwRegister, 1..300), seed in any::<u64>()) {
        let h = serial(&shape, seed);
        let r = judge(&h);
        prop_assert!(r.anomaly_counts.is_empty(), "{:?}", r.anomaly_counts);
        // The weak models are decided exactly; the others at least not ruled out.
        prop_assert_eq!(standing(&r, Model::Causal), Standing::Consistent);
        prop_assert!(r.ruled_out.is_empty());
    }

    #[test]
    fn failed_transactions_writes_read_are_g1a(shape in shape_strategy(TxnKind::ListAppend, 20..200), seed in any::<u64>()) {
        let mut shape = shape;
        shape.fail_pct = 20;
        shape.read_pct = shape.read_pct.clamp(20, 80);
        let mut h = serial(&shape, seed);
        // A failed append, and a successful read of its key to corrupt.
        let failed = h.txns.iter().enumerate().find_map(|(t, txn)| {
            (txn.outcome == Outcome::Fail).then(|| h.mops_of(t).iter().find_map(|m| match *m {
                Mop::Append { key, value } => Some((key, value)),
                _ => None,
            })).flatten()
        });
        let Some((key, value)) = failed else { return Ok(()) };
        let read = h.txns.iter().enumerate().find_map(|(t, txn)| {
            (txn.outcome == Outcome::Ok).then(|| (txn.mops_start..txn.mops_start + txn.mops_len).find(|&m| matches!(h.mops[m as usize], Mop::ReadList { key: k, .. } if k == key))).flatten().map(|m| (t, m))
        });
        let Some((_, m)) = read else { return Ok(()) };
        // The read sees the failed append at its end.
        if let Mop::ReadList { key, start, len, known } = h.mops[m as usize] {
            let mut list = h.list(start, len).to_vec();
            list.push(value);
            let new_start = h.elements.len() as u32;
            h.elements.extend_from_slice(&list);
            h.mops[m as usize] = Mop::ReadList { key, start: new_start, len: list.len() as u32, known };
        }
        let r = judge(&h);
        prop_assert!(r.anomaly_counts.contains_key("G1a"), "{:?}", r.anomaly_counts);
        prop_assert_eq!(standing(&r, Model::ReadCommitted), Standing::RuledOut);
    }

    #[test]
    fn a_read_missing_a_middle_element_is_an_incompatible_order(shape in shape_strategy(TxnKind::ListAppend, 20..300), seed in any::<u64>()) {
        let mut shape = shape;
        shape.final_reads = true;
        let mut h = serial(&shape, seed);
        // The first read of three or more elements that another read of
        // its key matches or extends loses its second element.
        let target = (0..h.mops.len()).find(|&m| match h.mops[m] {
            Mop::ReadList { key, len, known: true, .. } if len >= 3 => (0..h.mops.len()).any(|o| {
                o != m && matches!(h.mops[o], Mop::ReadList { key: k, len: l, known: true, .. } if k == key && l >= len)
            }),
            _ => false,
        });
        let Some(m) = target else { return Ok(()) };
        if let Mop::ReadList { key, start, len, known } = h.mops[m] {
            let mut list = h.list(start, len).to_vec();
            list.remove(1);
            let new_start = h.elements.len() as u32;
            h.elements.extend_from_slice(&list);
            h.mops[m] = Mop::ReadList { key, start: new_start, len: list.len() as u32, known };
        }
        let r = judge(&h);
        prop_assert!(r.anomaly_counts.contains_key("incompatible-order"), "{:?}", r.anomaly_counts);
        prop_assert_eq!(standing(&r, Model::ReadUncommitted), Standing::RuledOut);
    }

    #[test]
    fn verdicts_match_a_brute_force_search_on_small_histories(
        shape in shape_strategy(TxnKind::ListAppend, 2..8),
        seed in any::<u64>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<prop::sample::Index>()), 0..3),
    ) {
        let mut shape = shape;
        shape.keys = shape.keys.min(3);
        shape.final_reads = false;
        let mut h = serial(&shape, seed);
        perturb(&mut h, &edits);
        let r = judge(&h);
        let brute = brute_force_strict_serializable(&h);
        let ours = standing(&r, Model::StrictSerializable);
        prop_assert_ne!(ours, Standing::Unknown);
        prop_assert_eq!(ours == Standing::Consistent, brute, "ours {:?} {:?}, brute {}, history {:?}", ours, r.anomaly_counts, brute, (0..h.len()).map(|t| (h.txns[t].invoke_ns, h.txns[t].complete_ns, h.render_mops(t))).collect::<Vec<_>>());
    }
}

/// Random edits of read results: truncate a read, drop its last element,
/// swap two elements, or move a read's result to another read of the key.
fn perturb(h: &mut TxnHistory, edits: &[(prop::sample::Index, u8, prop::sample::Index)]) {
    let reads: Vec<usize> = (0..h.mops.len())
        .filter(|&m| matches!(h.mops[m], Mop::ReadList { known: true, .. }))
        .collect();
    if reads.is_empty() {
        return;
    }
    for (which, how, other) in edits {
        let m = reads[which.index(reads.len())];
        let Mop::ReadList {
            key,
            start,
            len,
            known,
        } = h.mops[m]
        else {
            continue;
        };
        let mut list = h.list(start, len).to_vec();
        match how {
            0 => list.truncate(list.len() / 2),
            1 => {
                list.pop();
            }
            2 if list.len() >= 2 => {
                let n = list.len();
                list.swap(n - 1, n - 2)
            }
            _ => {
                let o = reads[other.index(reads.len())];
                if let Mop::ReadList {
                    key: k2,
                    start: s2,
                    len: l2,
                    ..
                } = h.mops[o]
                {
                    if k2 == key {
                        list = h.list(s2, l2).to_vec();
                        list.extend(h.list(start, len).iter().skip(l2 as usize));
                    }
                }
            }
        }
        let new_start = h.elements.len() as u32;
        h.elements.extend_from_slice(&list);
        h.mops[m] = Mop::ReadList {
            key,
            start: new_start,
            len: list.len() as u32,
            known,
        };
    }
}

/// Tries every order of the committed transactions that respects real
/// time, running each against lists; true if one explains every read.
fn brute_force_strict_serializable(h: &TxnHistory) -> bool {
    let committed: Vec<usize> = (0..h.len())
        .filter(|&t| h.txns[t].outcome == Outcome::Ok)
        .collect();
    let n = committed.len();
    let mut order = Vec::with_capacity(n);
    let mut used = vec![false; n];
    fn go(h: &TxnHistory, committed: &[usize], order: &mut Vec<usize>, used: &mut [bool]) -> bool {
        if order.len() == committed.len() {
            return explains(h, order);
        }
        for i in 0..committed.len() {
            if used[i] {
                continue;
            }
            let t = committed[i];
            // Every unplaced transaction that completed before t began must come first.
            let blocked = (0..committed.len()).any(|j| {
                !used[j]
                    && j != i
                    && h.txns[committed[j]]
                        .complete_ns
                        .is_some_and(|c| c < h.txns[t].invoke_ns)
            });
            if blocked {
                continue;
            }
            used[i] = true;
            order.push(t);
            if go(h, committed, order, used) {
                return true;
            }
            order.pop();
            used[i] = false;
        }
        false
    }
    go(h, &committed, &mut order, &mut used)
}

fn explains(h: &TxnHistory, order: &[usize]) -> bool {
    let mut lists: Vec<Vec<i64>> = vec![Vec::new(); h.keys.len()];
    for &t in order {
        for mop in h.mops_of(t) {
            match *mop {
                Mop::Append { key, value } => lists[key as usize].push(value),
                Mop::ReadList {
                    key,
                    start,
                    len,
                    known: true,
                } => {
                    if lists[key as usize] != h.list(start, len) {
                        return false;
                    }
                }
                _ => {}
            }
        }
    }
    true
}

#[test]
fn stale_reads_break_strict_serializability() {
    let shape = Shape {
        txns: 2_000,
        keys: 20,
        final_reads: true,
        ..Shape::default()
    };
    let mut h = serial(&shape, 7);
    assert_eq!(
        standing(&judge(&h), Model::StrictSerializable),
        Standing::Consistent
    );
    sim_core::txn::generate::stale_reads(&mut h, 10, 7);
    let r = judge(&h);
    assert_eq!(
        standing(&r, Model::StrictSerializable),
        Standing::RuledOut,
        "{:?}",
        r.anomaly_counts
    );
}
