//! Multi-leader replication across regions: one leader per region takes
//! local writes and replicates them to the other regions asynchronously,
//! each write carrying its origin, its dot and its causal dependencies.
//!
//! The pure parts, each with its tests beside it:
//! - `topology.rs`: who forwards a write to whom, all-to-all, around a
//!   ring or through a hub, so that every region gets every write once
//!   and forwarding ends (the ring and star carry the regions visited);
//! - `causal.rs`: causal delivery, which applies a remote write only
//!   after the writes it depends on, so an update never overtakes the
//!   insert it modifies;
//! - `resolution.rs`: how a key's concurrent writes resolve (last writer
//!   wins, siblings under version vectors, or a CRDT), as a state each
//!   region writes locally and merges from the others.
//!
//! The values merged on arrival are `crate::crdt`'s.
//!
//! The service: `server.rs` (a region's leader or follower: local commit,
//! shipping, acknowledgements and resends, forwarding), `messages.rs`,
//! `params.rs` (with the bug switches), `monitor.rs` (causal delivery,
//! forwarding that ends, lost updates, counter sums; replication lag and
//! conflicts) and `plugin.rs` (clients write to their own region's
//! leader).

pub mod causal;
#[cfg(test)]
mod causal_test;
pub mod messages;
pub mod monitor;
#[cfg(test)]
mod monitor_test;
pub mod params;
pub mod plugin;
pub mod resolution;
#[cfg(test)]
mod resolution_test;
pub mod server;
#[cfg(test)]
mod server_test;
#[cfg(test)]
mod test_support;
pub mod topology;
#[cfg(test)]
mod topology_test;
