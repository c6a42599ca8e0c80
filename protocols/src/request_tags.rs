//! Which transaction a client's request belongs to. Clients retry an
//! operation with the same (client, sequence number) tag (`client.rs`); a
//! server that turns each operation into a transaction or a saga maps the
//! tag to it, so that a retry joins the transaction already running
//! instead of starting a second one. Shared by the commit coordinator and
//! both saga order services.

use std::collections::BTreeMap;

/// What a request's tag says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tagged<T> {
    /// A retry of the operation that started `T`.
    Known(T),
    /// A retry of an operation the client has since given up on.
    Stale,
    /// A new operation.
    New,
}

/// Each client's latest (sequence number, transaction). Clients run one
/// operation at a time, so the latest is all a retry can refer to.
#[derive(Clone, Debug, Default)]
pub struct RequestTags<T> {
    latest: BTreeMap<u64, (u64, T)>,
}

impl<T> RequestTags<T> {
    /// Heap bytes held (for the run's memory budget).
    pub fn heap_bytes(&self) -> usize {
        crate::heap::map_bytes(&self.latest)
    }
}

impl<T: Copy> RequestTags<T> {
    pub fn new() -> Self {
        RequestTags {
            latest: BTreeMap::new(),
        }
    }

    pub fn lookup(&self, client: u64, seq: u64) -> Tagged<T> {
        match self.latest.get(&client) {
            Some(&(latest, id)) if latest == seq => Tagged::Known(id),
            Some(&(latest, _)) if latest > seq => Tagged::Stale,
            _ => Tagged::New,
        }
    }

    /// `client`'s operation `seq` started `id` (also when replaying a log).
    pub fn record(&mut self, client: u64, seq: u64, id: T) {
        self.latest.insert(client, (seq, id));
    }
}
