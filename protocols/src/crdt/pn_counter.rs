//! A counter that goes both ways: two grow-only counters, one of
//! increments and one of decrements; the value is their difference.

use super::{Crdt, GCounter};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PnCounter {
    up: GCounter,
    down: GCounter,
}

impl PnCounter {
    /// `replica` adds `by` (negative: subtracts).
    pub fn add(&mut self, replica: u32, by: i64) {
        if by >= 0 {
            self.up.increment(replica, by.unsigned_abs());
        } else {
            self.down.increment(replica, by.unsigned_abs());
        }
    }

    pub fn value(&self) -> i64 {
        let (up, down) = (self.up.value(), self.down.value());
        // Clamped, as the counts saturate (see `GCounter::increment`).
        let value = i128::from(up) - i128::from(down);
        value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// BUG (`crdt_merge_not_idempotent`): see `GCounter::merge_adding`.
    pub fn merge_adding(&mut self, other: &PnCounter) {
        self.up.merge_adding(&other.up);
        self.down.merge_adding(&other.down);
    }
}

impl Crdt for PnCounter {
    fn merge(&mut self, other: &PnCounter) {
        self.up.merge(&other.up);
        self.down.merge(&other.down);
    }
}
