//! Estimates of the heap memory protocol state holds, for the run's memory
//! budget (`sim_core::memory`). Estimates from lengths, not readings of the
//! allocator, so that they are the same on every machine and cost O(1).

/// What one entry of a B-tree map costs beyond its key and value: its share
/// of a node and the node's header. For the memory budget's estimates.
pub const MAP_ENTRY_OVERHEAD_BYTES: usize = 64;

/// Entries a B-tree node has room for (std's B = 6), and how full nodes are
/// on average after random inserts (about two thirds).
const BTREE_NODE_CAPACITY: usize = 11;
const BTREE_ENTRIES_PER_NODE: usize = 7;

/// B-tree bytes for `len` entries of `entry` bytes: whole nodes, since even
/// one entry allocates a node with room for eleven.
fn btree_bytes(len: usize, entry: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let nodes = len.div_ceil(BTREE_ENTRIES_PER_NODE);
    nodes * (BTREE_NODE_CAPACITY * entry + MAP_ENTRY_OVERHEAD_BYTES)
}

/// An estimate of a map's heap bytes, from its length alone.
pub fn map_bytes<K, V>(map: &std::collections::BTreeMap<K, V>) -> usize {
    btree_bytes(
        map.len(),
        std::mem::size_of::<K>() + std::mem::size_of::<V>(),
    )
}

/// A map of strings: its nodes, and every key's and value's own bytes.
/// O(entries): for maps as small as a workload's keys.
pub fn string_map_bytes(map: &std::collections::BTreeMap<String, String>) -> usize {
    map_bytes(map)
        + map
            .iter()
            .map(|(k, v)| k.capacity() + v.capacity())
            .sum::<usize>()
}

/// An estimate of a set's heap bytes, from its length alone.
pub fn set_bytes<K>(set: &std::collections::BTreeSet<K>) -> usize {
    btree_bytes(set.len(), std::mem::size_of::<K>())
}
