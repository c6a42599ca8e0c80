//! Sequential consistency: some total order of the operations respects each
//! process's own order (not real time across processes) and is legal for
//! the model. Unlike linearizability it is not local, so the whole history
//! is checked at once, every key's state together.
//!
//! Search: depth-first over "how far each process has got", memoised on
//! (positions, state). An unknown (info) operation may take effect at its
//! place in its process's order or not at all. A read the model accepts is
//! taken at once without branching (moving a read earlier in the order
//! changes nothing for anyone else). Bounded by the same `Budget` as the
//! linearizability search: past it the answer is Unknown.

use super::memo::{Insert, Memo};
use super::model::Model;
use super::{Budget, Verdict};
use crate::history::{History, Outcome};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    pub steps: u64,
    /// When not sequentially consistent: the longest legal prefix found, as
    /// history indices in order, and the operations that could not follow it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longest_prefix: Option<Vec<usize>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
}

/// Checks `history` against `model` (applied per key).
pub fn check<M: Model>(history: &History, model: &M, budget: &Budget<'_>) -> Report {
    // Each process's operations in invocation order; failed operations and
    // unknown reads constrain nothing.
    let mut by_process: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (index, op) in history.operations.iter().enumerate() {
        if super::constrains(model, op) {
            by_process.entry(op.process).or_default().push(index);
        }
    }
    let mut queues: Vec<Vec<usize>> = by_process.into_values().collect();
    for queue in &mut queues {
        queue.sort_by_key(|&i| (history.operations[i].invoke_ns, i));
    }
    let mut keys: BTreeMap<&str, usize> = BTreeMap::new();
    for op in &history.operations {
        let next = keys.len();
        keys.entry(op.key.as_str()).or_insert(next);
    }
    let ops = &history.operations;
    let key_of = |i: usize| keys[ops[i].key.as_str()];
    let mut state: Vec<M::State> = vec![model.init(); keys.len()];
    let mut positions: Vec<u64> = vec![0; queues.len()];
    let mut memo: Memo<Vec<M::State>> = Memo::bounded(
        queues.len().max(1),
        budget.memo_entries_max,
        budget.memo_bytes_max,
    );
    // Choice points: (process advanced, previous key state, applied?, forced)
    // and the next alternative to try at the level below.
    struct Frame<S> {
        process: usize,
        key: usize,
        previous: S,
        applied: bool,
        forced: bool,
    }
    let mut stack: Vec<Frame<M::State>> = Vec::new();
    let mut order: Vec<usize> = Vec::new();
    let mut best: Vec<usize> = Vec::new();
    let mut blocked: Vec<usize> = Vec::new();
    // The next alternative at the current level: (process, try-skip?).
    let mut next_choice: (usize, bool) = (0, false);
    let mut steps = 0u64;
    let done = |positions: &[u64], queues: &[Vec<usize>]| {
        positions
            .iter()
            .zip(queues)
            .all(|(p, q)| *p as usize == q.len())
    };
    loop {
        steps += 1;
        if steps > budget.steps_max {
            return unknown(steps, format!("search exceeded {} steps", budget.steps_max));
        }
        if steps.is_multiple_of(4096) && budget.cancel.is_some_and(|cancel| cancel()) {
            return unknown(steps, "the deadline passed".into());
        }
        if done(&positions, &queues) {
            return Report {
                verdict: Verdict::Pass,
                steps,
                longest_prefix: None,
                blocked: Vec::new(),
                unknown_reason: None,
            };
        }
        // Find the next alternative at this level: advance some process by
        // applying its next operation, or (for an info one) skipping it.
        let mut advanced = false;
        let (mut process, mut skip) = next_choice;
        while process < queues.len() {
            let at = positions[process] as usize;
            if at < queues[process].len() {
                let index = queues[process][at];
                let op = &ops[index];
                let key = key_of(index);
                let result = if skip {
                    (op.outcome == Outcome::Info).then(|| state[key].clone())
                } else {
                    model.step(&state[key], op)
                };
                if let Some(next) = result {
                    positions[process] += 1;
                    let previous = std::mem::replace(&mut state[key], next);
                    match memo.insert(&positions, &state) {
                        Insert::New => {
                            let forced =
                                !skip && model.is_read_only(op) && op.outcome == Outcome::Ok;
                            stack.push(Frame {
                                process,
                                key,
                                previous,
                                applied: !skip,
                                forced,
                            });
                            order.push(index);
                            if order.len() > best.len() {
                                best = order.clone();
                                blocked.clear();
                            }
                            advanced = true;
                            break;
                        }
                        Insert::Seen => {
                            positions[process] -= 1;
                            state[key] = previous;
                        }
                        Insert::Full => return unknown(steps, memo.full_reason()),
                    }
                }
            }
            // Next alternative: the same process skipping, then the next process.
            if !skip
                && at < queues[process].len()
                && ops[queues[process][at]].outcome == Outcome::Info
            {
                skip = true;
            } else {
                process += 1;
                skip = false;
            }
        }
        if advanced {
            next_choice = (0, false);
            continue;
        }
        // No alternative here. At the deepest dead end, note what was stuck.
        if order.len() == best.len() && blocked.is_empty() {
            blocked = queues
                .iter()
                .zip(&positions)
                .filter_map(|(q, p)| q.get(*p as usize).copied())
                .collect();
        }
        // Undo forced steps, then one free choice.
        loop {
            let Some(frame) = stack.pop() else {
                return Report {
                    verdict: Verdict::Fail,
                    steps,
                    longest_prefix: Some(best),
                    blocked,
                    unknown_reason: None,
                };
            };
            order.pop();
            positions[frame.process] -= 1;
            state[frame.key] = frame.previous;
            if !frame.forced {
                next_choice = if frame.applied
                    && ops[queues[frame.process][positions[frame.process] as usize]].outcome
                        == Outcome::Info
                {
                    (frame.process, true)
                } else {
                    (frame.process + 1, false)
                };
                break;
            }
        }
    }
}

fn unknown(steps: u64, reason: String) -> Report {
    Report {
        verdict: Verdict::Unknown,
        steps,
        longest_prefix: None,
        blocked: Vec::new(),
        unknown_reason: Some(reason),
    }
}
