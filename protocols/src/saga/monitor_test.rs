//! The saga monitor fed hand-written event sequences: a step applied
//! twice, a compensation of a step never applied or compensated twice, and
//! a saga ending with steps wrongly standing are each reported; a restarted
//! service restoring a step from its disk, and an end announced again, are
//! legitimate repeats.

use super::messages::{SagaEvent, Step};
use super::monitor::{SagaMonitor, COMPENSATION_NEEDS_STEP, SEMANTIC_ATOMICITY, STEP_ONCE};
use crate::invariant::Monitor;
use crate::testkit::feed;

const ORCHESTRATOR: u32 = 0;

fn applied(step: Step) -> (u64, u32, SagaEvent) {
    (
        2 + step.index() as u64,
        step.service().0,
        SagaEvent::StepApplied { saga: 1, step },
    )
}

fn begun() -> (u64, u32, SagaEvent) {
    (1, ORCHESTRATOR, SagaEvent::Begun { saga: 1, item: 0 })
}

fn ended(ms: u64, completed: bool) -> (u64, u32, SagaEvent) {
    (ms, ORCHESTRATOR, SagaEvent::Ended { saga: 1, completed })
}

#[test]
fn a_completed_saga_with_every_step_is_whole_and_a_repeated_end_is_no_second_end() {
    let mut monitor = SagaMonitor::new(4);
    let mut found = feed(
        &mut monitor,
        &[
            begun(),
            applied(Step::Reserve),
            applied(Step::Charge),
            applied(Step::Ship),
            ended(10, true),
            // A restarted orchestrator announces the end again.
            ended(20, true),
        ],
    );
    // A restarted inventory restores its step from its disk.
    found.extend(feed(
        &mut monitor,
        &[(
            21,
            Step::Reserve.service().0,
            SagaEvent::StepRestored {
                saga: 1,
                step: Step::Reserve,
                compensated: false,
            },
        )],
    ));
    assert!(found.is_empty(), "{found:?}");
    let counts = monitor.metrics().counts;
    assert!(counts.contains(&("sagas_completed", 1)), "{counts:?}");
}

#[test]
fn a_step_applied_twice_breaks_step_once() {
    let mut monitor = SagaMonitor::new(4);
    let found = feed(
        &mut monitor,
        &[begun(), applied(Step::Charge), applied(Step::Charge)],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].invariant, STEP_ONCE);
    assert_eq!(found[0].node, Some(Step::Charge.service()));
}

#[test]
fn compensating_a_step_never_applied_or_twice_breaks_compensation_needs_step() {
    let mut monitor = SagaMonitor::new(4);
    let compensated = |ms, step: Step| {
        (
            ms,
            step.service().0,
            SagaEvent::Compensated { saga: 1, step },
        )
    };
    let never = feed(&mut monitor, &[begun(), compensated(3, Step::Charge)]);
    assert_eq!(never.len(), 1, "{never:?}");
    assert_eq!(never[0].invariant, COMPENSATION_NEEDS_STEP);
    let twice = feed(
        &mut monitor,
        &[
            applied(Step::Reserve),
            compensated(5, Step::Reserve),
            compensated(6, Step::Reserve),
        ],
    );
    assert_eq!(twice.len(), 1, "{twice:?}");
    assert!(twice[0].message.contains("a second time"));
}

#[test]
fn an_aborted_saga_leaving_a_charge_standing_breaks_semantic_atomicity() {
    let mut monitor = SagaMonitor::new(4);
    let found = feed(
        &mut monitor,
        &[
            begun(),
            applied(Step::Reserve),
            applied(Step::Charge),
            (
                6,
                Step::Reserve.service().0,
                SagaEvent::Compensated {
                    saga: 1,
                    step: Step::Reserve,
                },
            ),
            // The refund never ran (skip_refund's mistake).
            ended(7, false),
        ],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].invariant, SEMANTIC_ATOMICITY);
    assert!(found[0].message.contains("Charge"), "{}", found[0].message);
}
