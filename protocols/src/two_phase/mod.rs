//! The two-phase-commit core that every protocol with an atomic commit
//! shares: the bank transfers of `commit/` (2PC and 3PC) and the sharded
//! transactions of `txn_store/`.
//!
//! What is protocol-neutral about two-phase commit is small and easy to get
//! subtly wrong, so it lives here once:
//! - `Votes`: the coordinator's tally under presumed abort: commit only
//!   once every participant has voted yes, abort at the first no;
//! - `Acks`: the participants that have yet to acknowledge something (a
//!   decision, 3PC's pre-commit), so that a coordinator resends to those
//!   and forgets the transaction once none is left;
//! - `InDoubt`: what a participant bound by its yes vote does when no
//!   decision comes, including the `commit_on_timeout` bug switch both
//!   protocols offer under that name.
//!
//! What each protocol keeps: its messages, its durable records (a decision
//! log, a shard's prepared records, a Raft group's log), its timers, and
//! what a participant prepares (balances and no-wait locks; micro-ops under
//! a concurrency control). The core is sans-IO and owns no context: each
//! call returns what the caller must do.

mod acks;
mod in_doubt;
mod votes;

#[cfg(test)]
mod two_phase_test;

pub use acks::Acks;
pub use in_doubt::InDoubt;
pub use votes::{Tally, Votes};
