//! Splitting a transaction by shard and merging its reads back (the votes
//! are tallied by the shared `two_phase` core, tested beside it).

use super::plan::{Plan, Sharding};
use super::shard::Mop;
use crate::kv::TxnMop;
use std::collections::BTreeMap;

fn r(key: u32) -> TxnMop {
    TxnMop {
        read: true,
        key,
        value: 0,
    }
}

fn w(key: u32, value: u64) -> TxnMop {
    TxnMop {
        read: false,
        key,
        value,
    }
}

#[test]
fn range_sharding_keeps_neighbours_together_and_hash_spreads_them() {
    let range = Sharding::Range { keys: 100 };
    assert_eq!(
        (0..100).map(|i| range.shard_of(i, 4)).collect::<Vec<_>>(),
        (0..100).map(|i| i / 25).collect::<Vec<_>>()
    );
    assert_eq!(
        range.shard_of(500, 4),
        3,
        "a key past the range goes to the last"
    );
    let mut per_shard = [0u32; 4];
    for i in 0..1_000 {
        per_shard[Sharding::Hash.shard_of(i, 4) as usize] += 1;
    }
    assert!(
        per_shard.iter().all(|n| (200..300).contains(n)),
        "{per_shard:?}"
    );
    // Stable: the same key, the same shard, every time.
    assert_eq!(Sharding::Hash.shard_of(7, 4), Sharding::Hash.shard_of(7, 4));
}

#[test]
fn a_transaction_splits_by_shard_in_order_and_its_reads_come_back_in_the_clients_order() {
    let range = Sharding::Range { keys: 4 };
    // Shards of 2 keys each: k0, k1 on shard 0; k2, k3 on shard 1.
    let mops = [w(2, 7), r(0), r(3), w(1, 5), r(2)];
    let plan = Plan::new(&mops, true, range, 2);
    assert!(plan.cross_shard());
    assert_eq!(
        plan.parts[&0],
        [Mop::Read("k0".into()), Mop::Append("k1".into(), "5".into())]
    );
    assert_eq!(
        plan.parts[&1],
        [
            Mop::Append("k2".into(), "7".into()),
            Mop::Read("k3".into()),
            Mop::Read("k2".into())
        ]
    );
    let results = BTreeMap::from([
        (0, vec![Some("1 2".to_string())]),
        (1, vec![None, Some("7".to_string())]),
    ]);
    assert_eq!(plan.merge(&results), ["1 2", "", "7"]);
    let registers = Plan::new(&[w(0, 3)], false, range, 2);
    assert!(!registers.cross_shard());
    assert_eq!(registers.parts[&0], [Mop::Write("k0".into(), "3".into())]);
}
