//! The counterexample timeline: the data behind its two charts (every
//! operation in the overview, the culprit's neighbours in the focus) and
//! a self-contained page that marks the culprit, shows the faults and
//! links to the space-time diagram when there is one.

use reports::bands::{BandKind, FaultBand};
use reports::timeline::{render, timeline, Role, FOCUS_OPS_MAX};
use sim_core::checker::linearizability;
use sim_core::checker::model::KvModel;
use sim_core::checker::Budget;
use sim_core::history::{Function, History, Operation, Outcome};

fn op(process: u64, f: Function, value: &str, invoke_ns: u64, complete_ns: u64) -> Operation {
    Operation {
        process,
        f,
        key: "x".into(),
        value: Some(value.into()),
        expected: None,
        outcome: Outcome::Ok,
        invoke_ns,
        complete_ns: Some(complete_ns),
        gave_up_ns: None,
    }
}

fn client(process: u64) -> String {
    format!("client{}", process + 1)
}

fn stale_read() -> History {
    History {
        operations: vec![
            op(0, Function::Write, "1", 0, 10),
            op(1, Function::Write, "<2>", 20, 30),
            op(2, Function::Read, "1", 40, 50),
        ],
    }
}

#[test]
fn the_page_draws_every_process_and_marks_the_culprit() {
    let history = stale_read();
    let report = linearizability::check(&history, &KvModel::default(), &Budget::default());
    let cx = report.counterexample.expect("a stale read");
    assert_eq!(cx.culprit, Some(2), "the stale read is the culprit");
    let page = render(&history, &cx, "stale read", &[], None, &client);
    assert!(page.starts_with("<!DOCTYPE html>"));
    // The culprit in words, with the run's names.
    assert!(
        page.contains("The write of &lt;2&gt; to x by client2, acknowledged at 0 ms, was lost: the read by client3 begun at 0 ms returned 1, an older value, and no later read saw it."),
        "{page}"
    );
    assert!(
        !page.contains("<script") && !page.contains("href=") && !page.contains("src="),
        "self-contained, and no link without a space-time diagram"
    );
    for process in ["client1", "client2", "client3"] {
        assert!(
            page.contains(&format!("\n{process}\n")),
            "{process} has a row"
        );
    }
    assert!(
        page.contains("culprit: read x -&gt; 1"),
        "the culprit is labelled"
    );
    assert!(
        page.contains("<tr class=\"fail\"><td>2</td><td>client3</td>"),
        "and red in the table"
    );
    assert!(page.contains("&lt;2&gt;"), "values are escaped");
    assert!(page.contains("time (ms)"), "a time axis in ms");
}

/// 1,000 writes of 0, 1, 2, .. one a millisecond, and at 600 ms (position
/// 600) a read that returns `value`.
fn thousand_writes_and_a_read_of(value: &str) -> History {
    let mut operations: Vec<Operation> = (0..1_000u64)
        .map(|i| {
            op(
                i % 5,
                Function::Write,
                &i.to_string(),
                i * 1_000_000,
                i * 1_000_000 + 500_000,
            )
        })
        .collect();
    operations.insert(600, op(7, Function::Read, value, 599_600_000, 599_900_000));
    History { operations }
}

#[test]
fn a_thousand_operations_keep_every_bar_and_focus_on_the_culprit() {
    // 1,000 writes one after another, then a read of a value overwritten
    // long ago (the culprit), then more writes.
    let history = thousand_writes_and_a_read_of("3");
    let report = linearizability::check(&history, &KvModel::default(), &Budget::default());
    let cx = report.counterexample.expect("a stale read");
    assert_eq!(cx.culprit, Some(600));
    let data = timeline(&history, &cx, &client);
    assert_eq!(data.bars.len(), 1_001, "every operation has a bar");
    assert_eq!(data.operations, 1_001);
    assert_eq!(data.focus.len(), FOCUS_OPS_MAX);
    let focus: Vec<usize> = data.focus.iter().map(|&b| data.bars[b].index).collect();
    assert!(focus.contains(&600), "the culprit is in the focus");
    // Half the focus before the culprit (in invocation order), half after.
    assert_eq!(
        focus.iter().filter(|&&i| i < 600).count(),
        FOCUS_OPS_MAX / 2
    );
    let culprit = &data.bars[data.bars.iter().position(|b| b.index == 600).unwrap()];
    assert_eq!(culprit.role, Role::Culprit);
    assert!(data.bars.iter().any(|b| b.role == Role::Prefix(1)));
    // The focus window holds its operations, in ms, a little wider.
    let (from, to) = data.window_ns;
    assert!(
        from < 580_000_000 && to > 619_500_000 && to < 625_000_000,
        "{from} {to}"
    );
    let page = render(&history, &cx, "long", &[], None, &client);
    assert!(page.contains(&format!(
        "focus: the {FOCUS_OPS_MAX} operations nearest the culprit"
    )));
    assert!(page.contains("all 1001 of 1001 operations"));
}

#[test]
fn faults_are_shaded_and_the_diagram_is_linked() {
    let history = stale_read();
    let report = linearizability::check(&history, &KvModel::default(), &Budget::default());
    let cx = report.counterexample.unwrap();
    let bands = [FaultBand {
        start_ms: 0.000_015,
        end_ms: 0.000_045,
        kind: BandKind::Partition,
        label: "partition n1 | n2 n3".into(),
        index: 0,
    }];
    let page = render(
        &history,
        &cx,
        "stale read",
        &bands,
        Some("report.html#space-time"),
        &client,
    );
    assert!(
        page.contains("partition n1 | n2 n3"),
        "the fault is labelled"
    );
    assert!(
        page.contains("<a href=\"report.html#space-time\">"),
        "the diagram is linked"
    );
}

#[test]
fn a_window_found_by_the_distinct_values_check_is_in_focus_with_the_whole_key_drawn() {
    // 1,000 writes one after another and a read at 600 ms of the value
    // written at 570 ms: the window (that write, a newer one, the read)
    // reaches 30 operations back, further than half the focus.
    let history = thousand_writes_and_a_read_of("570");
    let report = linearizability::check(&history, &KvModel::default(), &Budget::default());
    assert_eq!(report.decided_by.distinct_values, 1);
    let cx = report.counterexample.expect("a stale read");
    assert!(cx.is_window(), "{cx:?}");
    assert_eq!(cx.key_operations, 1_001);
    assert!(cx.sub_history.contains(&570) && cx.sub_history.contains(&600));
    let data = timeline(&history, &cx, &client);
    assert_eq!(data.bars.len(), 1_001, "the whole key is drawn");
    assert_eq!(data.window_ops, cx.sub_history.len());
    let focus: Vec<usize> = data.focus.iter().map(|&b| data.bars[b].index).collect();
    assert_eq!(focus.len(), FOCUS_OPS_MAX);
    for op in &cx.sub_history {
        assert!(
            focus.contains(op),
            "window operation {op} in the focus {focus:?}"
        );
    }
    let page = render(&history, &cx, "window", &[], None, &client);
    assert!(page.contains(&format!(
        "focus: the {FOCUS_OPS_MAX} operations around the {} not linearizable on their own",
        cx.sub_history.len()
    )));
    assert!(page.contains("1001 operations on this key, of which these"));
}
