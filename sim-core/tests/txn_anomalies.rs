//! Hand-written transactional histories, one per anomaly kind and model:
//! each is checked for exactly the anomalies it shows and the models it
//! rules out. Several are the examples of Adya's thesis (read skew, write
//! skew, a write cycle) and of Elle's paper.

use sim_core::history::jepsen::{read_ops, Encoding};
use sim_core::txn::check::{check, Options, Report};
use sim_core::txn::models::Model;
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
    assert_eq!(kinds(&r).first().map(String::as_str), Some("G1c"), "{:?}", kinds(&r));
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
    assert!(kinds(&r).contains(&"G-single".to_string()), "{:?}", kinds(&r));
    assert!(ruled_out(&r).contains(&"snapshot-isolation"));
    assert!(ruled_out(&r).contains(&"read-atomic"), "a fractured read: {:?}", kinds(&r));
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
    let s = strongest(&r);
    assert!(s.contains(&"snapshot-isolation") && s.contains(&"causal"), "{s:?}");
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
    assert!(kinds(&r).contains(&"dirty-update".to_string()), "{:?}", kinds(&r));
}

#[test]
fn stale_read_after_completion_is_g_single_realtime() {
    // T1 commits, then T2 begins and does not see it: strict serializable
    // fails, serializable holds.
    let h = serial(&[("ok", "[[:append x 1]]"), ("ok", "[[:r x []]]"), ("ok", "[[:r x [1]]]")]);
    let r = judge(&h);
    assert!(kinds(&r).iter().any(|k| k.ends_with("-realtime")), "{:?}", kinds(&r));
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
