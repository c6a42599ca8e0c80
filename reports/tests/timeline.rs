//! The counterexample page is self-contained and marks the culprit.

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
    }
}

#[test]
fn the_page_draws_every_process_and_marks_the_culprit() {
    let history = History {
        operations: vec![
            op(0, Function::Write, "1", 0, 10),
            op(1, Function::Write, "<2>", 20, 30),
            op(2, Function::Read, "1", 40, 50),
        ],
    };
    let report = linearizability::check(&history, &KvModel::default(), &Budget::default());
    let cx = report.counterexample.expect("a stale read");
    assert_eq!(cx.culprit, Some(2), "the stale read is the culprit");
    let page = reports::timeline::render(&history, &cx, "stale read");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(
        !page.contains("<script") && !page.contains("href=") && !page.contains("src="),
        "self-contained"
    );
    for process in ["p0", "p1", "p2"] {
        assert!(
            page.contains(&format!(">{process}</text>")),
            "{process} has a row"
        );
    }
    assert_eq!(
        page.matches("#e53935").count(),
        2,
        "one culprit bar plus the legend"
    );
    assert!(page.contains("&lt;2&gt;"), "values are escaped");
}
