//! Hand-written transactional histories, one per anomaly kind and model:
//! each is checked for exactly the anomalies it shows and the models it
//! rules out. Several are the examples of Adya's thesis (read skew, write
//! skew, a write cycle) and of Elle's paper.

use sim_core::history::jepsen::{read_ops, Encoding};
use sim_core::txn::check::{check, Options, Report};
use sim_core::txn::parse::from_jepsen;
use sim_core::txn::TxnHistory;

/// Builds an EDN history where each transaction is invoked and completed
/// as listed: `(process, type, value)` per event.
fn history(events: &[(u64, &str, &str)]) -> TxnHistory {
    let text: String = events
        .iter()
        .map(|(p, t, v)| format!("{{:process {p}, :type :{t}, :f :txn, :value {v}}}\n"))
        .collect();
    let ops = read_ops(&text, Encoding::Edn, "test.edn").expect("parses");
    from_jepsen(&ops, None, "test.edn").expect("a transactional history")
}

/// Each transaction on its own process, one after another (serial).
fn serial(txns: &[(&str, &str)]) -> TxnHistory {
    let mut events = Vec::new();
    for (i, (kind, value)) in txns.iter().enumerate() {
        events.push((i as u64, "invoke", *value));
        events.push((i as u64, *kind, *value));
    }
    history(&events)
}

/// All invoked first, then all completed: concurrent, no real-time order.
fn concurrent(txns: &[(&str, &str)]) -> TxnHistory {
    let mut events = Vec::new();
    for (i, (_, value)) in txns.iter().enumerate() {
        events.push((i as u64, "invoke", *value));
    }
    for (i, (kind, value)) in txns.iter().enumerate() {
        events.push((i as u64, *kind, *value));
    }
    history(&events)
}

fn judge(h: &TxnHistory) -> Report {
    check(h, &Options::default()).expect("checks")
}

fn kinds(r: &Report) -> Vec<String> {
    r.anomaly_counts.keys().cloned().collect()
}

fn ruled_out(r: &Report) -> Vec<&'static str> {
    r.ruled_out.iter().map(|m| m.name()).collect()
}

fn strongest(r: &Report) -> Vec<&'static str> {
    r.strongest_consistent.iter().map(|m| m.name()).collect()
}

#[test]
fn a_serial_history_is_strict_serializable() {
    let h = serial(&[
        ("ok", "[[:append x 1] [:r y []]]"),
        ("ok", "[[:r x [1]] [:append y 2]]"),
        ("ok", "[[:r x [1]] [:r y [2]]]"),
    ]);
    let r = judge(&h);
    assert!(r.anomaly_counts.is_empty(), "{:?}", r.anomalies);
    assert_eq!(strongest(&r), vec!["strict-serializable"]);
    assert_eq!(r.verdict, sim_core::checker::Verdict::Pass);
}

#[test]
fn g0_write_cycle_is_found_and_rules_out_read_uncommitted() {
    // Adya's P0: x says T1 then T2, y says T2 then T1.
    let h = concurrent(&[
        ("ok", "[[:append x 1] [:append y 1]]"),
        ("ok", "[[:append x 2] [:append y 2]]"),
        ("ok", "[[:r x [1 2]] [:r y [2 1]]]"),
    ]);
    let r = judge(&h);
    assert!(kinds(&r).contains(&"G0".to_string()), "{:?}", kinds(&r));
    assert!(ruled_out(&r).contains(&"read-uncommitted"));
    assert!(strongest(&r).is_empty());
}

#[test]
fn g1c_circular_information_flow() {
    let h = concurrent(&[
        ("ok", "[[:append x 1] [:r y [2]]]"),
        ("ok", "[[:append y 2] [:r x [1]]]"),
    ]);
    let r = judge(&h);
    assert_eq!(
        kinds(&r).first().map(String::as_str),
        Some("G1c"),
        "{:?}",
        kinds(&r)
    );
    assert!(ruled_out(&r).contains(&"read-committed"));
    assert_eq!(strongest(&r), vec!["read-uncommitted"]);
}

#[test]
fn g_single_read_skew_rules_out_snapshot_isolation_but_not_read_committed() {
    let h = concurrent(&[
        ("ok", "[[:append x 1] [:append y 1]]"),
        ("ok", "[[:r x []] [:r y [1]]]"),
        ("ok", "[[:r x [1]] [:r y [1]]]"),
    ]);
    let r = judge(&h);
    assert!(
        kinds(&r).contains(&"G-single".to_string()),
        "{:?}",
        kinds(&r)
    );
    assert!(ruled_out(&r).contains(&"snapshot-isolation"));
    assert!(
        ruled_out(&r).contains(&"read-atomic"),
        "a fractured read: {:?}",
        kinds(&r)
    );
    assert!(!ruled_out(&r).contains(&"read-committed"));
    assert_eq!(strongest(&r), vec!["read-committed"]);
}

#[test]
fn g2_item_write_skew_is_allowed_by_snapshot_isolation() {
    let h = concurrent(&[
        ("ok", "[[:r x []] [:append y 1]]"),
        ("ok", "[[:r y []] [:append x 2]]"),
        ("ok", "[[:r x [2]] [:r y [1]]]"),
    ]);
    let r = judge(&h);
    assert_eq!(kinds(&r), vec!["G2-item".to_string()]);
    assert!(ruled_out(&r).contains(&"serializable"));
    assert!(!ruled_out(&r).contains(&"snapshot-isolation"));
    // Concurrent, so real time orders nothing: strong snapshot isolation
    // (which implies snapshot isolation) holds too.
    let s = strongest(&r);
    assert!(
        s.contains(&"strong-snapshot-isolation") && s.contains(&"causal"),
        "{s:?}"
    );
}

#[test]
fn g1a_aborted_read() {
    let h = serial(&[("fail", "[[:append x 1]]"), ("ok", "[[:r x [1]]]")]);
    let r = judge(&h);
    assert_eq!(kinds(&r), vec!["G1a".to_string()]);
    assert!(ruled_out(&r).contains(&"read-committed"));
}

#[test]
fn g1b_intermediate_read() {
    let h = concurrent(&[
        ("ok", "[[:append x 1] [:append x 2]]"),
        ("ok", "[[:r x [1]]]"),
    ]);
    let r = judge(&h);
    assert!(kinds(&r).contains(&"G1b".to_string()), "{:?}", kinds(&r));
}

#[test]
fn internal_inconsistency() {
    let h = serial(&[("ok", "[[:append x 1] [:r x []]]")]);
    let r = judge(&h);
    assert_eq!(kinds(&r), vec!["internal".to_string()]);
    assert!(ruled_out(&r).contains(&"read-atomic"));
    assert!(ruled_out(&r).contains(&"snapshot-isolation"));
}

#[test]
fn incompatible_order_and_duplicates() {
    let h = concurrent(&[
        ("ok", "[[:append x 1]]"),
        ("ok", "[[:append x 2]]"),
        ("ok", "[[:r x [1 2]]]"),
        ("ok", "[[:r x [2]]]"),
        ("ok", "[[:r x [1 1]]]"),
    ]);
    let r = judge(&h);
    let k = kinds(&r);
    assert!(k.contains(&"incompatible-order".to_string()), "{k:?}");
    assert!(k.contains(&"duplicate-elements".to_string()), "{k:?}");
}

#[test]
fn dirty_update() {
    let h = concurrent(&[
        ("fail", "[[:append x 1]]"),
        ("ok", "[[:append x 2]]"),
        ("ok", "[[:r x [1 2]]]"),
    ]);
    let r = judge(&h);
    assert!(
        kinds(&r).contains(&"dirty-update".to_string()),
        "{:?}",
        kinds(&r)
    );
}

#[test]
fn stale_read_after_completion_is_g_single_realtime() {
    // T1 commits, then T2 begins and does not see it: strict serializable
    // fails, serializable holds.
    let h = serial(&[
        ("ok", "[[:append x 1]]"),
        ("ok", "[[:r x []]]"),
        ("ok", "[[:r x [1]]]"),
    ]);
    let r = judge(&h);
    assert!(
        kinds(&r).iter().any(|k| k.ends_with("-realtime")),
        "{:?}",
        kinds(&r)
    );
    assert!(ruled_out(&r).contains(&"strict-serializable"));
    assert!(!ruled_out(&r).contains(&"serializable"));
}

#[test]
fn unread_appends_still_order_the_reads() {
    // Neither append is ever read; each transaction read the other's key
    // empty, so each precedes the other.
    let h = concurrent(&[
        ("ok", "[[:append x 1] [:r y []]]"),
        ("ok", "[[:append y 2] [:r x []]]"),
    ]);
    let r = judge(&h);
    assert!(ruled_out(&r).contains(&"serializable"), "{:?}", kinds(&r));
}

#[test]
fn g_nonadjacent_two_anti_dependencies_apart() {
    // T0 -rw-> T1 -wr-> T2 -rw-> T3 -wr-> T0: two rw edges, never adjacent.
    let h = concurrent(&[
        ("ok", "[[:r a []] [:r d [4]]]"),
        ("ok", "[[:append a 1] [:append b 2]]"),
        ("ok", "[[:r b [2]] [:r c []]]"),
        ("ok", "[[:append c 3] [:append d 4]]"),
        ("ok", "[[:r a [1]] [:r b [2]] [:r c [3]] [:r d [4]]]"),
    ]);
    let r = judge(&h);
    assert!(
        kinds(&r).contains(&"G-nonadjacent".to_string()),
        "{:?}",
        kinds(&r)
    );
    assert!(ruled_out(&r).contains(&"snapshot-isolation"));
    assert!(!kinds(&r).contains(&"G-single".to_string()));
}

#[test]
fn g_single_process_a_session_misses_its_own_write() {
    // One process appends, then (its next transaction) reads without it,
    // while another process's read saw the append: serializable, yet not
    // strong-session serializable.
    let h = history(&[
        (1, "invoke", "[[:r x nil]]"),
        (0, "invoke", "[[:append x 1]]"),
        (0, "ok", "[[:append x 1]]"),
        (0, "invoke", "[[:r x nil]]"),
        (1, "ok", "[[:r x [1]]]"),
        (0, "ok", "[[:r x []]]"),
    ]);
    let r = judge(&h);
    let k = kinds(&r);
    assert!(
        k.iter()
            .any(|k| k.starts_with("G-single-") || k.starts_with("G2-item-")),
        "{k:?}"
    );
    assert!(ruled_out(&r).contains(&"strong-session-serializable"));
    assert!(!ruled_out(&r).contains(&"serializable"));
}

#[test]
fn garbage_and_future_reads() {
    let h = serial(&[("ok", "[[:append x 1]]"), ("ok", "[[:r x [1 7]]]")]);
    assert!(kinds(&judge(&h)).contains(&"garbage-read".to_string()));
    let h = serial(&[("ok", "[[:r x [5]] [:append x 5]]")]);
    let r = judge(&h);
    assert!(
        kinds(&r).contains(&"future-read".to_string()),
        "{:?}",
        kinds(&r)
    );
    assert!(ruled_out(&r).contains(&"read-uncommitted"));
}

#[test]
fn rw_register_anomalies_and_what_the_order_leaves_unknown() {
    let text = |events: &[(u64, &str, &str)]| {
        events
            .iter()
            .map(|(p, t, v)| format!("{{:process {p}, :type :{t}, :f :txn, :value {v}}}\n"))
            .collect::<String>()
    };
    let parse = |s: &str| {
        let ops = read_ops(s, Encoding::Edn, "r.edn").unwrap();
        from_jepsen(&ops, None, "r.edn").unwrap()
    };
    // An aborted write read: G1a; an intermediate write read: G1b.
    let h = parse(&text(&[
        (0, "invoke", "[[:w x 1]]"),
        (0, "fail", "[[:w x 1]]"),
        (1, "invoke", "[[:w y 1] [:w y 2]]"),
        (1, "ok", "[[:w y 1] [:w y 2]]"),
        (2, "invoke", "[[:r x nil] [:r y nil]]"),
        (2, "ok", "[[:r x 1] [:r y 1]]"),
    ]));
    assert_eq!(h.kind, sim_core::txn::TxnKind::RwRegister);
    let r = judge(&h);
    assert!(kinds(&r).contains(&"G1a".to_string()), "{:?}", kinds(&r));
    assert!(kinds(&r).contains(&"G1b".to_string()), "{:?}", kinds(&r));
    // A clean history whose writes were never read after one another:
    // causal holds, serializability is unknown (not claimed), and the
    // report says why.
    let h = parse(&text(&[
        (0, "invoke", "[[:w x 1]]"),
        (1, "invoke", "[[:w x 2]]"),
        (0, "ok", "[[:w x 1]]"),
        (1, "ok", "[[:w x 2]]"),
        (2, "invoke", "[[:r x nil]]"),
        (2, "ok", "[[:r x 2]]"),
    ]));
    let r = judge(&h);
    assert!(r.anomaly_counts.is_empty(), "{:?}", r.anomaly_counts);
    assert_eq!(r.verdict, sim_core::checker::Verdict::Unknown);
    assert!(
        r.notes.iter().any(|n| n.contains("version order")),
        "{:?}",
        r.notes
    );
    let consistent = strongest(&r);
    assert!(consistent.contains(&"causal"), "{consistent:?}");
    assert!(!consistent.contains(&"serializable"));
}

#[test]
fn a_causal_violation_that_read_atomic_allows() {
    // T0 writes x; T1 reads it and writes y; T2 reads y but an older x:
    // T0 is in T2's causal past (through T1), yet T2 missed it.
    let h = concurrent(&[
        ("ok", "[[:append x 1]]"),
        ("ok", "[[:r x [1]] [:append y 2]]"),
        ("ok", "[[:r y [2]] [:r x []]]"),
    ]);
    let r = judge(&h);
    assert!(
        kinds(&r).contains(&"causal-violation".to_string()),
        "{:?}",
        kinds(&r)
    );
    assert!(
        !kinds(&r).contains(&"read-atomic-violation".to_string()),
        "{:?}",
        kinds(&r)
    );
    assert!(ruled_out(&r).contains(&"causal"));
    assert!(!ruled_out(&r).contains(&"read-atomic"));
}

#[test]
fn lost_update_two_read_modify_writes_of_one_version_rule_out_snapshot_isolation() {
    // Two counters' read-modify-writes both read x = 1 and both wrote it.
    let h = concurrent(&[
        ("ok", "[[:w x 1]]"),
        ("ok", "[[:r x 1] [:w x 2]]"),
        ("ok", "[[:r x 1] [:w x 3]]"),
    ]);
    let r = judge(&h);
    assert!(
        kinds(&r).contains(&"lost-update".to_string()),
        "{:?}",
        kinds(&r)
    );
    assert!(ruled_out(&r).contains(&"snapshot-isolation"));
    assert!(!ruled_out(&r).contains(&"read-committed"));
    // One read-modify-write after another loses nothing.
    let h = serial(&[
        ("ok", "[[:w x 1]]"),
        ("ok", "[[:r x 1] [:w x 2]]"),
        ("ok", "[[:r x 2] [:w x 3]]"),
    ]);
    assert!(!kinds(&judge(&h)).contains(&"lost-update".to_string()));
}

#[test]
fn strong_snapshot_isolation_allows_write_skew_but_not_a_stale_snapshot() {
    let skew = concurrent(&[
        ("ok", "[[:r x []] [:append y 1]]"),
        ("ok", "[[:r y []] [:append x 2]]"),
        ("ok", "[[:r x [2]] [:r y [1]]]"),
    ]);
    assert!(!ruled_out(&judge(&skew)).contains(&"strong-snapshot-isolation"));
    let stale = serial(&[
        ("ok", "[[:append x 1]]"),
        ("ok", "[[:r x []]]"),
        ("ok", "[[:r x [1]]]"),
    ]);
    let r = judge(&stale);
    assert!(ruled_out(&r).contains(&"strong-snapshot-isolation"));
    assert!(!ruled_out(&r).contains(&"snapshot-isolation"));
}
