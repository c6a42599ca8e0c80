//! Linearizability by the Wing & Gong search with Lowe's memoization,
//! one key at a time (P-compositionality: a history is linearizable iff
//! each key's sub-history is).
//!
//! The history becomes a list of call and return entries in time order.
//! The search walks it: at a call it tries to linearize that operation now
//! (the model must accept it, and the (linearized set, state) pair must be
//! new); at a return whose operation is not yet linearized it backtracks.
//! `Info` operations never return, so they may be linearized at any point
//! after their call, or never (which the model treats as no effect).
//!
//! Tie rule: an operation that completes at the same instant another is
//! invoked is treated as concurrent with it; at equal times calls come first.
//! This can only accept more histories, never reject a linearizable one.

use super::constrains;
use super::distinct_values;
use super::memo::{Insert, Memo};
use super::model::Model;
use super::{Budget, Verdict};
use crate::history::{History, Operation, Outcome};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// Why a key's history is not linearizable, for people to read.
#[derive(Clone, Debug, Serialize)]
pub struct Counterexample {
    pub key: String,
    /// Indices (into the input history) of the key's operations.
    pub sub_history: Vec<usize>,
    /// The longest linearizable prefix found, in linearization order.
    pub longest_prefix: Vec<usize>,
    /// The state the model was in after that prefix.
    pub state_after_prefix: String,
    /// An operation that had to be placed next (it had returned) but that
    /// the model rejected in that state.
    pub culprit: Option<usize>,
    /// The operations the key has in all; `sub_history` is a window of
    /// them when the distinct-values check found the violation.
    pub key_operations: usize,
    /// Which algorithm found it.
    pub algorithm: Algorithm,
    /// What the distinct-values check found, in words (`None` for the search).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
}

impl Counterexample {
    /// Whether `sub_history` is a window of the key's operations (the
    /// distinct-values check's), not all of them.
    pub fn is_window(&self) -> bool {
        self.sub_history.len() < self.key_operations
    }

    /// The key's operations that the register checks judge, ascending:
    /// `sub_history` itself, or for a window every operation on the key
    /// but failed ones and unknown reads. For pictures of the whole key.
    pub fn key_indices(&self, history: &History) -> Vec<usize> {
        if !self.is_window() {
            return self.sub_history.clone();
        }
        key_indices(history, &self.key)
    }
}

/// The operations on `key` that the register checks judge: all but
/// failed ones and unknown reads, ascending.
pub fn key_indices(history: &History, key: &str) -> Vec<usize> {
    history
        .operations
        .iter()
        .enumerate()
        .filter(|(_, op)| op.key == key && constrains(&super::model::KvModel::default(), op))
        .map(|(i, _)| i)
        .collect()
}

/// The algorithm that decided a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// The O(n log n) check of registers whose writes are all distinct.
    DistinctValues,
    /// The Wing & Gong search with Lowe's memoization.
    Search,
}

/// Which algorithms `check_with` may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithms {
    /// The distinct-values check wherever it applies, the search elsewhere.
    Auto,
    /// The search on every key (to cross-check, or to compare speed).
    SearchOnly,
}

/// How many keys each algorithm decided (or, for the search, ran on).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DecidedBy {
    pub distinct_values: usize,
    pub search: usize,
}

impl DecidedBy {
    /// For people: "the distinct-values check (3 keys), the search (1 key)".
    pub fn in_words(&self) -> String {
        let keys = |n: usize| {
            if n == 1 {
                "1 key".to_string()
            } else {
                format!("{n} keys")
            }
        };
        let mut parts = Vec::new();
        if self.distinct_values > 0 {
            parts.push(format!(
                "the distinct-values check ({})",
                keys(self.distinct_values)
            ));
        }
        if self.search > 0 {
            parts.push(format!("the search ({})", keys(self.search)));
        }
        if parts.is_empty() {
            return "nothing (no key was checked)".to_string();
        }
        parts.join(", ")
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    pub keys_checked: usize,
    /// Search steps (the distinct-values check takes none).
    pub steps: u64,
    /// Keys per algorithm.
    pub decided_by: DecidedBy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Counterexample>,
    /// Why the answer is unknown, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
}

/// Checks `history` against `model`, key by key, stopping at the first
/// violation: the distinct-values check where it applies, the search
/// elsewhere.
pub fn check<M: Model>(history: &History, model: &M, budget: &Budget<'_>) -> Report
where
    M::State: std::fmt::Debug + Sync,
{
    check_with(history, model, budget, Algorithms::Auto)
}

/// `check`, choosing the algorithms.
pub fn check_with<M: Model>(
    history: &History,
    model: &M,
    budget: &Budget<'_>,
    algorithms: Algorithms,
) -> Report
where
    M::State: std::fmt::Debug + Sync,
{
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, op) in history.operations.iter().enumerate() {
        if constrains(model, op) {
            by_key.entry(op.key.as_str()).or_default().push(index);
        }
    }
    let keys_checked = by_key.len();
    let mut decided_by = DecidedBy::default();
    // The distinct-values check first, every key in parallel: its answers
    // are exact and cheap. Keys it does not apply to go to the search.
    let by_key: Vec<(&str, Vec<usize>)> = by_key.into_iter().collect();
    let initial = match algorithms {
        Algorithms::Auto => model.distinct_values_initial(),
        Algorithms::SearchOnly => None,
    };
    let fast: Vec<Option<distinct_values::KeyVerdict>> = match initial {
        Some(initial) => by_key
            .par_iter()
            .map(|(_, indices)| {
                let ops: Vec<&Operation> =
                    indices.iter().map(|&i| &history.operations[i]).collect();
                match distinct_values::check_key(&ops, initial) {
                    distinct_values::KeyVerdict::NotApplicable(_) => None,
                    decided => Some(decided),
                }
            })
            .collect(),
        None => vec![None; by_key.len()],
    };
    decided_by.distinct_values = fast.iter().filter(|f| f.is_some()).count();
    // The first violation in key order, whatever the thread count.
    for ((key, indices), found) in by_key.iter().zip(&fast) {
        if let Some(distinct_values::KeyVerdict::Violation(violation)) = found {
            return Report {
                verdict: Verdict::Fail,
                keys_checked,
                steps: 0,
                decided_by,
                counterexample: Some(window_counterexample(
                    history, model, budget, key, indices, violation,
                )),
                unknown_reason: None,
            };
        }
    }
    // Operations the model says cannot change the verdict are left out.
    let keys: Vec<(&str, Vec<usize>)> = by_key
        .into_iter()
        .zip(fast)
        .filter(|(_, fast)| fast.is_none())
        .map(|((key, indices), _)| {
            let ops: Vec<&Operation> = indices.iter().map(|&i| &history.operations[i]).collect();
            let removable = model.removable(&ops);
            assert_eq!(removable.len(), ops.len(), "one answer per operation");
            let kept = indices
                .into_iter()
                .zip(removable)
                .filter(|(i, remove)| {
                    assert!(
                        !remove || history.operations[*i].outcome == Outcome::Info,
                        "only unknown operations may be left out"
                    );
                    !remove
                })
                .map(|(i, _)| i)
                .collect();
            (key, kept)
        })
        .collect();
    decided_by.search = keys.len();
    // Rounds of growing step budgets, every unfinished key in parallel. A
    // cheap violation on any key is found before an expensive key is
    // searched to the end, and because each key's result under a given
    // budget is fixed, the verdict and the counterexample (the first failing
    // key in key order, in the first round that finds one) are the same on
    // every run and with any number of threads.
    let mut pending: Vec<usize> = (0..keys.len()).collect();
    let mut round_steps = ROUND_STEPS_FIRST.min(budget.steps_max);
    let mut steps = 0u64;
    let mut unknown_reason = None;
    // Each search's share of the memo bound depends on how many searches
    // share it (at most SEARCHES_AT_ONCE_MAX run at once), never on the
    // thread count: the verdict must not depend on the machine.
    let memo_share =
        |searches: usize| budget.memo_bytes_max / searches.clamp(1, SEARCHES_AT_ONCE_MAX);
    while !pending.is_empty() {
        let share = memo_share(pending.len());
        let mut results: Vec<(u64, KeyResult<M::State>)> = Vec::with_capacity(pending.len());
        for chunk in pending.chunks(SEARCHES_AT_ONCE_MAX) {
            results.par_extend(chunk.par_iter().map(|&k| {
                let mut used = 0;
                let result = check_key(
                    &history.operations,
                    &keys[k].1,
                    model,
                    budget,
                    round_steps,
                    share,
                    &mut used,
                );
                (used, result)
            }));
        }
        let mut still = Vec::new();
        for (&k, (used, result)) in pending.iter().zip(results) {
            steps = steps.saturating_add(used);
            match result {
                KeyResult::Linearizable => {}
                KeyResult::OutOfSteps if round_steps < budget.steps_max => still.push(k),
                KeyResult::OutOfSteps => {
                    unknown_reason.get_or_insert(format!(
                        "key {}: search exceeded {} steps",
                        keys[k].0, budget.steps_max
                    ));
                }
                KeyResult::Unknown(reason) => {
                    unknown_reason.get_or_insert(format!("key {}: {reason}", keys[k].0));
                }
                KeyResult::Violation {
                    prefix,
                    state,
                    culprit,
                } => {
                    return Report {
                        verdict: Verdict::Fail,
                        keys_checked,
                        steps,
                        decided_by,
                        counterexample: Some(Counterexample {
                            key: keys[k].0.to_string(),
                            key_operations: keys[k].1.len(),
                            sub_history: keys[k].1.clone(),
                            longest_prefix: prefix,
                            state_after_prefix: format!("{state:?}"),
                            culprit,
                            algorithm: Algorithm::Search,
                            finding: None,
                        }),
                        unknown_reason: None,
                    };
                }
            }
        }
        pending = still;
        round_steps = round_steps
            .saturating_mul(ROUND_GROWTH)
            .min(budget.steps_max);
    }
    Report {
        verdict: if unknown_reason.is_some() {
            Verdict::Unknown
        } else {
            Verdict::Pass
        },
        keys_checked,
        steps,
        decided_by,
        counterexample: None,
        unknown_reason,
    }
}

/// Steps the search may take to explain a distinct-values window (a
/// handful of operations: it takes far fewer).
const WINDOW_SEARCH_STEPS: u64 = 1_000_000;

/// The counterexample of a violation the distinct-values check found:
/// the search runs on its window, which is not linearizable on its own,
/// for the longest prefix and the culprit.
fn window_counterexample<M: Model>(
    history: &History,
    model: &M,
    budget: &Budget<'_>,
    key: &str,
    indices: &[usize],
    violation: &distinct_values::Violation,
) -> Counterexample
where
    M::State: std::fmt::Debug,
{
    let window: Vec<usize> = violation.window.iter().map(|&p| indices[p]).collect();
    let mut steps = 0;
    let (longest_prefix, state, culprit) = match check_key(
        &history.operations,
        &window,
        model,
        budget,
        WINDOW_SEARCH_STEPS,
        budget.memo_bytes_max / SEARCHES_AT_ONCE_MAX,
        &mut steps,
    ) {
        KeyResult::Violation {
            prefix,
            state,
            culprit,
        } => (prefix, format!("{state:?}"), culprit),
        KeyResult::Linearizable => panic!(
            "the distinct-values check found {:?} on key {key}, but the search finds its window {window:?} linearizable",
            violation.kind
        ),
        KeyResult::OutOfSteps | KeyResult::Unknown(_) => {
            (Vec::new(), format!("{:?}", model.init()), None)
        }
    };
    Counterexample {
        key: key.to_string(),
        sub_history: window,
        longest_prefix,
        state_after_prefix: state,
        culprit,
        key_operations: indices.len(),
        algorithm: Algorithm::DistinctValues,
        finding: Some(violation.kind.describe().to_string()),
    }
}

/// Key searches run at once at most; each gets this share of the memo bound.
const SEARCHES_AT_ONCE_MAX: usize = 8;

/// The first round's step budget per key, and its growth per round.
const ROUND_STEPS_FIRST: u64 = 20_000;
const ROUND_GROWTH: u64 = 16;

/// Checks `history` as one object, without partitioning by key: the model
/// state is the map of every key's state. Far slower than `check` on large
/// histories; its verdict must agree with `check` (tests compare them).
pub fn check_whole<M: Model>(history: &History, model: &M, budget: &Budget<'_>) -> Report
where
    M::State: std::fmt::Debug,
{
    let indices: Vec<usize> = (0..history.operations.len())
        .filter(|&i| constrains(model, &history.operations[i]))
        .collect();
    let mut key_ids: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in &indices {
        let next = key_ids.len();
        key_ids
            .entry(history.operations[i].key.as_str())
            .or_insert(next);
    }
    let whole = WholeModel {
        per_key: model,
        key_ids,
    };
    let mut steps = 0;
    let (verdict, counterexample, unknown_reason) = match check_key(
        &history.operations,
        &indices,
        &whole,
        budget,
        budget.steps_max,
        budget.memo_bytes_max,
        &mut steps,
    ) {
        KeyResult::Linearizable => (Verdict::Pass, None, None),
        KeyResult::OutOfSteps => (
            Verdict::Unknown,
            None,
            Some(format!("search exceeded {} steps", budget.steps_max)),
        ),
        KeyResult::Unknown(reason) => (Verdict::Unknown, None, Some(reason)),
        KeyResult::Violation {
            prefix,
            state,
            culprit,
        } => (
            Verdict::Fail,
            Some(Counterexample {
                key: "(all keys)".into(),
                key_operations: indices.len(),
                sub_history: indices,
                longest_prefix: prefix,
                state_after_prefix: format!("{state:?}"),
                culprit,
                algorithm: Algorithm::Search,
                finding: None,
            }),
            None,
        ),
    };
    Report {
        verdict,
        keys_checked: 1,
        steps,
        decided_by: DecidedBy {
            distinct_values: 0,
            search: 1,
        },
        counterexample,
        unknown_reason,
    }
}

/// Every key's state at once, for unpartitioned checking: one slot per key,
/// numbered in order of first appearance.
struct WholeModel<'a, M> {
    per_key: &'a M,
    key_ids: BTreeMap<&'a str, usize>,
}

impl<M: Model> Model for WholeModel<'_, M> {
    type State = Vec<M::State>;
    fn init(&self) -> Self::State {
        vec![self.per_key.init(); self.key_ids.len()]
    }
    fn is_read_only(&self, op: &Operation) -> bool {
        self.per_key.is_read_only(op)
    }
    // Not `constant_result`: the whole state depends on the other keys.
    fn step(&self, state: &Self::State, op: &Operation) -> Option<Self::State> {
        let slot = *self
            .key_ids
            .get(op.key.as_str())
            .expect("every key was numbered");
        let next = self.per_key.step(&state[slot], op)?;
        let mut out = state.clone();
        out[slot] = next;
        Some(out)
    }
}

enum KeyResult<S> {
    Linearizable,
    /// The step limit of this call ran out.
    OutOfSteps,
    Unknown(String),
    Violation {
        prefix: Vec<usize>,
        state: S,
        culprit: Option<usize>,
    },
}

/// One entry of the doubly linked list the search walks.
#[derive(Clone, Copy)]
struct Entry {
    /// Position of the operation in the key's list.
    op: usize,
    is_call: bool,
    /// For a call: the index of its return entry (None: it never returns).
    matching_return: Option<usize>,
    prev: usize,
    next: usize,
}

const NIL: usize = usize::MAX;

/// Adds `op` to (or removes it from) the linearized set: info operations
/// with a mask bit go into the dominance mask, the rest into the bitset.
fn set_member(
    bits: &mut [u64],
    info_mask: &mut u64,
    info_bit: &[Option<usize>],
    op: usize,
    member: bool,
) {
    let (word, bit) = match info_bit[op] {
        Some(bit) => (info_mask, bit),
        None => (&mut bits[op / 64], op % 64),
    };
    if member {
        *word |= 1 << bit;
    } else {
        *word &= !(1 << bit);
    }
}

/// Which candidates the scan is trying: operations with a return, then unknown ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Returned,
    Unknown,
}
/// How often (in steps) the cancel callback is polled.
const CANCEL_POLL_STEPS: u64 = 4_096;

fn check_key<M: Model>(
    operations: &[Operation],
    indices: &[usize],
    model: &M,
    budget: &Budget<'_>,
    steps_max: u64,
    memo_bytes_max: usize,
    steps: &mut u64,
) -> KeyResult<M::State> {
    let ops: Vec<&Operation> = indices.iter().map(|&i| &operations[i]).collect();
    // Operations whose result does not depend on the state (writes) are
    // stepped once here, not at every visit.
    let constant: Vec<Option<M::State>> = ops.iter().map(|op| model.constant_result(op)).collect();
    // Events: (time, kind, op) with calls (kind 0) before returns (kind 1) at equal times.
    let mut events: Vec<(u64, u8, usize)> = Vec::with_capacity(ops.len() * 2);
    for (position, op) in ops.iter().enumerate() {
        events.push((op.invoke_ns, 0, position));
        if let Some(done) = op.complete_ns {
            events.push((done, 1, position));
        }
    }
    events.sort_unstable();
    // Entry 0 is the head sentinel.
    let mut entries = vec![Entry {
        op: NIL,
        is_call: false,
        matching_return: None,
        prev: NIL,
        next: NIL,
    }];
    let mut call_entry = vec![NIL; ops.len()];
    for &(_, kind, op) in &events {
        let index = entries.len();
        let last = index - 1;
        entries[last].next = index;
        entries.push(Entry {
            op,
            is_call: kind == 0,
            matching_return: None,
            prev: last,
            next: NIL,
        });
        if kind == 0 {
            call_entry[op] = index;
        } else {
            entries[call_entry[op]].matching_return = Some(index);
        }
    }

    let words = ops.len().div_ceil(64).max(1);
    let mut linearized = vec![0u64; words];
    // Info operations get a bit in the dominance mask (see memo.rs) when
    // there are at most 64 of them; otherwise they are plain members.
    let info_ops: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].complete_ns.is_none())
        .collect();
    let mut info_bit = vec![None; ops.len()];
    if info_ops.len() <= 64 {
        for (bit, &op) in info_ops.iter().enumerate() {
            info_bit[op] = Some(bit);
        }
    }
    let mut info_mask: u64 = 0;
    let mut memo: Memo<M::State> = Memo::bounded(words, budget.memo_entries_max, memo_bytes_max);
    // (call entry, state before it, forced): a forced step is never undone to
    // try alternatives (see the greedy rule below).
    let mut stack: Vec<(usize, M::State, bool, Phase)> = Vec::new();
    // Candidate order: at each point, operations that returned are tried
    // before unknown (info) ones. An info write usually did not take effect
    // early, and trying it first sends a search for a linearizable history
    // down long dead ends. The order changes only speed, never the verdict:
    // both phases together try every candidate.
    let mut phase = Phase::Returned;
    let mut state = model.init();
    let mut best: (Vec<usize>, M::State, Option<usize>) = (Vec::new(), state.clone(), None);
    let mut entry = entries[0].next;

    // Removes a call entry (and its return) from the list; `unlift` undoes it.
    fn lift(entries: &mut [Entry], call: usize) {
        for index in [Some(call), entries[call].matching_return]
            .into_iter()
            .flatten()
        {
            let Entry { prev, next, .. } = entries[index];
            entries[prev].next = next;
            if next != NIL {
                entries[next].prev = prev;
            }
        }
    }
    fn unlift(entries: &mut [Entry], call: usize) {
        for index in [entries[call].matching_return, Some(call)]
            .into_iter()
            .flatten()
        {
            let Entry { prev, next, .. } = entries[index];
            entries[prev].next = index;
            if next != NIL {
                entries[next].prev = index;
            }
        }
    }

    while entries[0].next != NIL {
        *steps += 1;
        if *steps > steps_max {
            return KeyResult::OutOfSteps;
        }
        if (*steps).is_multiple_of(CANCEL_POLL_STEPS)
            && budget.cancel.is_some_and(|cancel| cancel())
        {
            return KeyResult::Unknown("the deadline passed".into());
        }
        if entry == NIL {
            // Only unreturned (info) calls remain, and none can be placed now;
            // leaving them unlinearized means they took no effect.
            return KeyResult::Linearizable;
        }
        let current = entries[entry];
        if !current.is_call && phase == Phase::Returned {
            phase = Phase::Unknown;
            entry = entries[0].next;
            continue;
        }
        if current.is_call && (current.matching_return.is_none()) != (phase == Phase::Unknown) {
            entry = current.next;
            continue;
        }
        if current.is_call {
            let op = current.op;
            let next_state = match &constant[op] {
                Some(result) => Some(result.clone()),
                None => model.step(&state, ops[op]),
            };
            let mut advanced = false;
            if let Some(next_state) = next_state {
                set_member(&mut linearized, &mut info_mask, &info_bit, op, true);
                match memo.insert_dominated(&linearized, &next_state, info_mask) {
                    Insert::New => {
                        // Greedy rule: a read-only operation the model accepts
                        // now is placed now and never retried later. Any
                        // linearization that places it later can move it here:
                        // everything that had to precede it already does, and
                        // it changes no state, so nothing after it sees a
                        // difference. (An operation that merely happens to
                        // change nothing now, like writing the current value,
                        // is not read-only: later it could change the state.)
                        // Only operations that returned are forced; unknown
                        // ones never reach here read-only (they are dropped).
                        let forced = model.is_read_only(ops[op]) && ops[op].complete_ns.is_some();
                        debug_assert!(
                            !forced || next_state == state,
                            "a read-only operation changed the state"
                        );
                        stack.push((
                            entry,
                            std::mem::replace(&mut state, next_state),
                            forced,
                            phase,
                        ));
                        lift(&mut entries, entry);
                        entry = entries[0].next;
                        phase = Phase::Returned;
                        advanced = true;
                        if stack.len() > best.0.len() {
                            best = (
                                stack
                                    .iter()
                                    .map(|(e, _, _, _)| indices[entries[*e].op])
                                    .collect(),
                                state.clone(),
                                None,
                            );
                        }
                    }
                    Insert::Seen => {
                        set_member(&mut linearized, &mut info_mask, &info_bit, op, false)
                    }
                    Insert::Full => {
                        return KeyResult::Unknown(memo.full_reason());
                    }
                }
            }
            if !advanced {
                entry = current.next;
            }
        } else {
            // A return whose call is still in the list: that call must come
            // before anything later, and nothing works. Backtrack.
            if best.2.is_none() && stack.len() == best.0.len() {
                best.2 = Some(indices[current.op]);
            }
            // Undo forced steps without trying alternatives, then the first
            // free choice, and go on from the entry after it.
            loop {
                let Some((call, previous_state, forced, choice_phase)) = stack.pop() else {
                    return KeyResult::Violation {
                        prefix: best.0,
                        state: best.1,
                        culprit: best.2,
                    };
                };
                let op = entries[call].op;
                set_member(&mut linearized, &mut info_mask, &info_bit, op, false);
                state = previous_state;
                unlift(&mut entries, call);
                if !forced {
                    entry = entries[call].next;
                    phase = choice_phase;
                    break;
                }
            }
        }
    }
    KeyResult::Linearizable
}
