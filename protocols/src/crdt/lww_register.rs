//! A last-writer-wins register: an assignment carries a timestamp (the
//! writing replica's clock) and the replica; a merge keeps the greater
//! (timestamp, replica), so concurrent assignments resolve the same way
//! everywhere, and the one with the smaller timestamp is lost. With skewed
//! clocks "last" is the one whose clock ran ahead, not the one that came
//! last in time: the data loss the multi-leader lessons measure.

use super::Crdt;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LwwRegister {
    /// (timestamp, replica, value) of the winning assignment; `None`
    /// before any.
    current: Option<(u64, u32, String)>,
}

impl LwwRegister {
    /// `replica` assigns `value` at its clock reading `timestamp`. An
    /// assignment that loses to what the register holds changes nothing,
    /// and says so (false).
    pub fn assign(&mut self, timestamp: u64, replica: u32, value: String) -> bool {
        let incoming = (timestamp, replica, value);
        let wins = self
            .current
            .as_ref()
            .is_none_or(|(t, r, _)| (timestamp, replica) > (*t, *r));
        if wins {
            self.current = Some(incoming);
        }
        wins
    }

    pub fn value(&self) -> Option<&str> {
        self.current.as_ref().map(|(_, _, v)| v.as_str())
    }

    /// The winning assignment's (timestamp, replica).
    pub fn stamp(&self) -> Option<(u64, u32)> {
        self.current.as_ref().map(|(t, r, _)| (*t, *r))
    }
}

impl Crdt for LwwRegister {
    fn merge(&mut self, other: &LwwRegister) {
        if let Some((t, r, v)) = &other.current {
            self.assign(*t, *r, v.clone());
        }
    }
}
