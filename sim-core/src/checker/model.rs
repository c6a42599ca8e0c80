//! Sequential specifications that histories are checked against.
//!
//! A model says, for a state and an operation, whether the operation could
//! have run in that state and what state follows. Users plug in their own
//! by implementing `Model`.

use crate::history::{Function, Operation, Outcome};
use std::fmt::Debug;
use std::sync::Arc;

/// A sequential specification.
pub trait Model: Sync {
    /// `Hash + Eq` for the search memo.
    type State: Clone + Eq + std::hash::Hash + Debug + Send;
    fn init(&self) -> Self::State;
    /// The state after `op` ran in `state`, or `None` if `op`'s observed
    /// result is impossible there. An `Info` operation's result is unknown:
    /// accept it whatever it would have returned.
    fn step(&self, state: &Self::State, op: &Operation) -> Option<Self::State>;
    /// True if `op` never changes the state, whatever the state (a read).
    /// The search then places it as soon as the model accepts it and never
    /// tries it later, which prunes most of the search. Saying true for an
    /// operation that can change some state gives wrong verdicts.
    fn is_read_only(&self, op: &Operation) -> bool {
        let _ = op;
        false
    }
    /// If `op` is accepted in every state and always leads to the same
    /// state (a blind write), that state; the search then computes it once.
    fn constant_result(&self, op: &Operation) -> Option<Self::State> {
        let _ = op;
        None
    }
    /// Which of one key's operations the search may leave out without
    /// changing the verdict (true: leave it out). Only `Info` operations may
    /// be left out, since only they may be placed nowhere. The default
    /// leaves out none.
    fn removable(&self, ops: &[&Operation]) -> Vec<bool> {
        vec![false; ops.len()]
    }
    /// If this model is a read/write/compare-and-set register starting at
    /// the value returned, keys whose writes are all distinct are decided
    /// by the distinct-values check (`distinct_values`), without a search.
    /// `None` (the default): always search.
    fn distinct_values_initial(&self) -> Option<&str> {
        None
    }
}

/// The most (unknown operations × observed bytes) `KvModel::removable`
/// scans on a key that has appends; beyond it nothing is left out.
const REMOVABLE_SCAN_MAX: usize = 50_000_000;

/// A key-value register per key, with read, write, cas and append; the key
/// starts at `initial` ("" for Porcupine's kv, "0" for Jepsen registers).
/// Checking is per key, so the state is one value.
#[derive(Clone, Debug, Default)]
pub struct KvModel {
    pub initial: String,
}

impl Model for KvModel {
    /// Shared, so that copying a state (the search does it at every step)
    /// costs a reference count, not a string copy.
    type State = Arc<str>;

    fn init(&self) -> Arc<str> {
        Arc::from(self.initial.as_str())
    }

    fn is_read_only(&self, op: &Operation) -> bool {
        op.f == Function::Read
    }

    fn distinct_values_initial(&self) -> Option<&str> {
        Some(&self.initial)
    }

    fn constant_result(&self, op: &Operation) -> Option<Arc<str>> {
        match op.f {
            Function::Write => op.value.as_deref().map(Arc::from),
            _ => None,
        }
    }

    /// An unknown write, cas or append whose value no completed operation
    /// ever observed (no completed read returned a value containing it, no
    /// cas expected one) is left out. Why that is sound: had it taken
    /// effect, every state from then until the next blind write contains
    /// its value, so no completed read and no cas succeeded in that
    /// stretch; only appends (always accepted) and unknown operations
    /// (which may be left out) ran, and they run as well from the state
    /// before it. Unknown writes
    /// pile up wherever a leader is cut off, and each one doubles the
    /// search; in practice most are never read.
    fn removable(&self, ops: &[&Operation]) -> Vec<bool> {
        // A cas observes its expected value even when its outcome is
        // unknown: an unknown cas that took effect ends the stretch with a
        // value later reads may see.
        let observed: Vec<&str> = ops
            .iter()
            .filter_map(|op| match (op.f, op.outcome) {
                (Function::Read, Outcome::Ok) => op.value.as_deref(),
                (Function::Cas, Outcome::Ok | Outcome::Info) => op.expected.as_deref(),
                _ => None,
            })
            .collect();
        let candidate = |op: &Operation| {
            op.outcome == Outcome::Info && op.f != Function::Read && op.value.is_some()
        };
        let has_appends = ops.iter().any(|op| op.f == Function::Append);
        if !has_appends {
            // States are whole written values: observing means equality.
            let seen: std::collections::BTreeSet<&str> = observed.into_iter().collect();
            return ops
                .iter()
                .map(|op| candidate(op) && !seen.contains(op.value.as_deref().expect("candidate")))
                .collect();
        }
        let candidates = ops.iter().filter(|op| candidate(op)).count();
        let bytes: usize = observed.iter().map(|s| s.len()).sum();
        if candidates.saturating_mul(bytes) > REMOVABLE_SCAN_MAX {
            return vec![false; ops.len()];
        }
        ops.iter()
            .map(|op| {
                candidate(op) && {
                    let value = op.value.as_deref().expect("candidate");
                    !observed.iter().any(|seen| seen.contains(value))
                }
            })
            .collect()
    }

    fn step(&self, state: &Arc<str>, op: &Operation) -> Option<Arc<str>> {
        let unknown = op.outcome == Outcome::Info;
        let value = || op.value.as_deref().map(Arc::from);
        match op.f {
            Function::Read => match &op.value {
                Some(seen) if !unknown && seen.as_str() != &**state => None,
                _ => Some(state.clone()),
            },
            Function::Write => value(),
            Function::Append => op.value.as_ref().map(|v| {
                let mut joined = String::with_capacity(state.len() + v.len());
                joined.push_str(state);
                joined.push_str(v);
                Arc::from(joined)
            }),
            // No register state allows a transfer; callers keep them out.
            Function::Transfer | Function::Order | Function::Txn => None,
            Function::Cas => {
                let expected = op.expected.as_ref()?;
                match (expected.as_str() == &**state, unknown) {
                    (true, _) => value(),
                    // An unknown cas that met another value had no effect.
                    (false, true) => Some(state.clone()),
                    (false, false) => None,
                }
            }
        }
    }
}
