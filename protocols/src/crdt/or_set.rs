//! An observed-remove set without tombstones (ORSWOT, Bieniusa et al.,
//! "An optimized conflict-free replicated set", 2012): each add is a
//! dot; a remove drops the dots of the element its replica has seen; a
//! merge keeps a dot both sides hold, or one side holds that the other
//! never saw. So an add concurrent with a remove survives it (add wins),
//! and the version vector, not a tombstone per element, remembers what
//! was removed.

use super::{surviving_dots, Crdt, Dot, VersionVector};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrSet {
    elements: BTreeMap<String, BTreeSet<Dot>>,
    context: VersionVector,
}

impl OrSet {
    /// `replica` adds `element` (replacing the adds of it it has seen).
    pub fn add(&mut self, replica: u32, element: String) -> Dot {
        let dot = self.context.next(replica);
        self.elements.insert(element, BTreeSet::from([dot]));
        dot
    }

    /// Removes `element` as this replica sees it: the adds it has seen
    /// go; an add elsewhere that it has not seen stays. True if present.
    pub fn remove(&mut self, element: &str) -> bool {
        self.elements.remove(element).is_some()
    }

    pub fn contains(&self, element: &str) -> bool {
        self.elements.contains_key(element)
    }

    /// The elements, in order.
    pub fn elements(&self) -> Vec<&str> {
        self.elements.keys().map(String::as_str).collect()
    }

    pub fn context(&self) -> &VersionVector {
        &self.context
    }
}

impl Crdt for OrSet {
    fn merge(&mut self, other: &OrSet) {
        let empty = BTreeSet::new();
        let names: BTreeSet<&String> = self.elements.keys().chain(other.elements.keys()).collect();
        let mut elements = BTreeMap::new();
        for name in names {
            let mine = self.elements.get(name).unwrap_or(&empty);
            let theirs = other.elements.get(name).unwrap_or(&empty);
            let keep = surviving_dots(mine, &self.context, theirs, &other.context);
            if !keep.is_empty() {
                elements.insert(name.clone(), keep);
            }
        }
        self.elements = elements;
        self.context.join(&other.context);
        debug_assert!(self
            .elements
            .values()
            .all(|dots| !dots.is_empty() && dots.iter().all(|d| self.context.covers(*d))));
    }
}
