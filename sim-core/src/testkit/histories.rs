//! Key-value histories with known linearizability verdicts, made here so
//! that the project's own tests need no external corpus.
//!
//! `concurrent_kv` runs a seeded, sequential key-value store and gives each
//! operation a call and a return around the instant it took effect, so the
//! history is linearizable by construction, yet its windows overlap as
//! widely as the caller asks, which is what makes a checker search.
//! `with_stale_read` then adds one read of a value that was certainly
//! overwritten, which makes it non-linearizable at a known operation.
//! The shapes follow the Jepsen and Porcupine test histories (many clients,
//! a few keys, writes, reads and compare-and-sets); the verdicts are known
//! because of how they are built, not because a checker said so.

use crate::history::{Function, History, Operation, Outcome};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// The shape of a generated history.
#[derive(Clone, Copy, Debug)]
pub struct KvShape {
    /// Client processes; each has one operation outstanding at a time.
    pub processes: u64,
    /// Operations in all.
    pub operations: u64,
    /// Keys the operations spread over.
    pub keys: u64,
    /// How far a call or a return may lie from the instant the operation
    /// took effect, in steps of the sequential execution (wider windows,
    /// harder searches).
    pub overlap_steps_max: u64,
}

/// Time between two effects of the sequential execution.
const STEP_NS: u64 = 100;

/// A linearizable key-value history of `shape`, the same for the same seed.
pub fn concurrent_kv(seed: u64, shape: KvShape) -> History {
    assert!(shape.processes > 0 && shape.keys > 0, "{shape:?}");
    assert!(
        shape.operations <= 1_000_000,
        "a test history, not a benchmark"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut state: BTreeMap<String, String> = BTreeMap::new();
    // When each process is next free, so its operations never overlap.
    let mut free_ns = vec![0u64; shape.processes as usize];
    let mut operations = Vec::with_capacity(shape.operations as usize);
    for i in 0..shape.operations {
        let effect_ns = STEP_NS * (i + 1) * 2;
        let before = rng.random_range(0..=shape.overlap_steps_max) * STEP_NS;
        let after = rng.random_range(0..=shape.overlap_steps_max) * STEP_NS + 1;
        // The process free longest ago whose window still fits.
        let invoke_ns = effect_ns.saturating_sub(before);
        let Some(process) = (0..free_ns.len()).find(|p| free_ns[*p] < invoke_ns.max(1)) else {
            continue;
        };
        let key = format!("k{}", rng.random_range(0..shape.keys));
        let current = state.get(&key).cloned().unwrap_or_default();
        let (f, value, expected) = match rng.random_range(0..10) {
            0..=4 => (Function::Read, current, None),
            5..=7 => {
                let value = format!("{i}");
                state.insert(key.clone(), value.clone());
                (Function::Write, value, None)
            }
            _ => {
                let value = format!("{i}");
                state.insert(key.clone(), value.clone());
                (Function::Cas, value, Some(current))
            }
        };
        let complete_ns = effect_ns + after;
        free_ns[process] = complete_ns;
        operations.push(Operation {
            process: process as u64,
            f,
            key,
            value: Some(value),
            expected,
            outcome: Outcome::Ok,
            invoke_ns: invoke_ns.max(1),
            complete_ns: Some(complete_ns),
            gave_up_ns: None,
        });
    }
    operations.sort_by_key(|op| op.invoke_ns);
    let history = History { operations };
    debug_assert!(history.operations.iter().all(|op| op.validate().is_ok()));
    history
}

/// `history` with one more read, after every other operation, of a value
/// its key certainly no longer holds. Returns the history and the index of
/// the added read, or `None` when no key was overwritten.
pub fn with_stale_read(mut history: History) -> Option<(History, usize)> {
    let end_ns = history
        .operations
        .iter()
        .filter_map(|op| op.complete_ns)
        .max()?;
    // A value whose write returned before a later write of the same key was
    // called cannot be the key's last value.
    let writes: Vec<&Operation> = history
        .operations
        .iter()
        .filter(|op| op.f != Function::Read)
        .collect();
    let (key, stale) = writes.iter().find_map(|old| {
        let later = writes.iter().any(|new| {
            new.key == old.key && old.complete_ns.is_some_and(|done| done < new.invoke_ns)
        });
        later.then(|| (old.key.clone(), old.value.clone()))
    })?;
    history.operations.push(Operation {
        process: u64::MAX / 2,
        f: Function::Read,
        key,
        value: stale,
        expected: None,
        outcome: Outcome::Ok,
        invoke_ns: end_ns + 10,
        complete_ns: Some(end_ns + 20),
        gave_up_ns: None,
    });
    let added = history.operations.len() - 1;
    Some((history, added))
}

/// The history as JSON lines, the format `faultline check` reads by
/// default, for tests that drive the command line.
pub fn to_jsonl(history: &History) -> String {
    let mut text = String::new();
    for op in &history.operations {
        text.push_str(&serde_json::to_string(op).expect("an operation serialises"));
        text.push('\n');
    }
    text
}
