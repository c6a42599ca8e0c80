//! Helpers the multi-leader tests share: dots and version vectors by hand.

use crate::crdt::{Dot, VersionVector};

/// Region `region`'s `counter`-th write.
pub fn dot(region: u32, counter: u64) -> Dot {
    Dot {
        node: region,
        counter,
    }
}

/// A version vector of (region, counter) entries.
pub fn vv(entries: &[(u32, u64)]) -> VersionVector {
    let mut v = VersionVector::default();
    for (r, c) in entries {
        v.raise(*r, *c);
    }
    v
}
