//! A multi-value register: an assignment replaces every value its replica
//! had seen, and assignments made without seeing each other are all
//! kept, as siblings, for the reader to resolve (Dynamo's shopping cart,
//! Riak's `allow_mult`). Dots name the assignments; a version vector
//! remembers which were seen, so a replaced value stays replaced.

use super::{surviving_dots, Crdt, Dot, VersionVector};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MvRegister {
    /// As a list of pairs when serialised: JSON keys are strings.
    #[serde(with = "super::dot_map")]
    values: BTreeMap<Dot, String>,
    context: VersionVector,
}

impl MvRegister {
    /// `replica` assigns `value`, replacing every value it holds now.
    pub fn assign(&mut self, replica: u32, value: String) -> Dot {
        let dot = self.context.next(replica);
        self.values.clear();
        self.values.insert(dot, value);
        dot
    }

    /// The siblings, in dot order (one after a merge that saw them all).
    pub fn values(&self) -> Vec<&str> {
        self.values.values().map(String::as_str).collect()
    }

    pub fn context(&self) -> &VersionVector {
        &self.context
    }
}

impl Crdt for MvRegister {
    fn merge(&mut self, other: &MvRegister) {
        let mine: BTreeSet<Dot> = self.values.keys().copied().collect();
        let theirs: BTreeSet<Dot> = other.values.keys().copied().collect();
        let keep = surviving_dots(&mine, &self.context, &theirs, &other.context);
        let mut values = BTreeMap::new();
        for dot in keep {
            let value = self
                .values
                .get(&dot)
                .or_else(|| other.values.get(&dot))
                .expect("a surviving dot is one side's");
            values.insert(dot, value.clone());
        }
        self.values = values;
        self.context.join(&other.context);
        debug_assert!(self.values.keys().all(|d| self.context.covers(*d)));
    }
}
