//! Estimates of the heap memory protocol state holds, for the run's memory
//! budget (`sim_core::memory`). Estimates from lengths, not readings of the
//! allocator, so that they are the same on every machine and cost O(1).

/// What one entry of a B-tree map costs beyond its key and value: its share
/// of a node and the node's header. For the memory budget's estimates.
pub const MAP_ENTRY_OVERHEAD_BYTES: usize = 64;

/// An estimate of a map's heap bytes, from its length alone.
pub fn map_bytes<K, V>(map: &std::collections::BTreeMap<K, V>) -> usize {
    map.len() * (std::mem::size_of::<K>() + std::mem::size_of::<V>() + MAP_ENTRY_OVERHEAD_BYTES)
}

/// An estimate of a set's heap bytes, from its length alone.
pub fn set_bytes<K>(set: &std::collections::BTreeSet<K>) -> usize {
    set.len() * (std::mem::size_of::<K>() + MAP_ENTRY_OVERHEAD_BYTES)
}
