//! Raft as a library: what a protocol that hosts a Raft group supplies.
//!
//! `Raft<A>` is the consensus module, generic over the application it
//! replicates (`RaftApp`: the command, the state machine, who waits for a
//! proposal) and over the world it acts in (`RaftEnv`: a node's clock,
//! disk, timers and peers). The key-value store is one application
//! (`kv_app.rs`), served to the shared clients; the lock's `Consensus`
//! design is another, hosted inside the lock's own service.
//!
//! Why an environment trait rather than `ServerCtx<Raft>`: a host's
//! messages, timers and events are its own enums, and its Raft group may
//! be a subset of its nodes. The host wraps its context in a `RaftEnv`
//! that tags Raft's messages and timers into its own and says which nodes
//! are the group. Members are ids `0..server_count()` in either case.

use super::messages::{RaftEvent, RaftMessage, RaftTimer};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sim_core::storage::DurableStorage;
use sim_core::{LocalTime, NodeId, SimDuration, TimerId};
use std::fmt::Debug;
use std::hash::Hash;

/// The application a Raft group replicates.
pub trait RaftApp: Debug + 'static {
    /// What a proposal asks the state machine to do; stored in the log.
    type Command: Clone + Debug + PartialEq + Eq + Hash + Serialize + DeserializeOwned;
    /// The replicated state machine; volatile, rebuilt by re-applying.
    type State: Debug + Default;
    /// What applying a command answers.
    type Output: Debug;
    /// Who waits for a proposal's outcome, on the leader that took it.
    type Waiter: Debug;
    /// A read waiting for its ReadIndex round (ignored by a host that
    /// reads nothing outside the log).
    type Read: Debug;

    /// Applies the committed `command` at log `index`. Deterministic: every
    /// replica applies the same commands in the same order and must reach
    /// the same state, so it reads no clock and draws no randomness.
    fn apply(state: &mut Self::State, index: u64, command: &Self::Command) -> Option<Self::Output>;
    /// Heap memory the state machine holds, for the memory budget.
    fn state_heap_bytes(state: &Self::State) -> usize;
    /// Heap memory a command holds beyond its inline size.
    fn command_heap_bytes(command: &Self::Command) -> usize;
}

/// A Raft server's window on the world. Members of the group are ids
/// `0..server_count()`.
pub trait RaftEnv<A: RaftApp> {
    fn id(&self) -> NodeId;
    /// How many servers the group has.
    fn server_count(&self) -> u32;
    /// This node's clock.
    fn now(&self) -> LocalTime;
    /// A uniform draw from `min..=max`, from this node's stream.
    fn random_in(&mut self, min: u64, max: u64) -> u64;
    fn storage(&mut self) -> &mut DurableStorage;
    fn send(&mut self, to: NodeId, message: RaftMessage<A::Command>);
    /// Sends once every write so far is durable (`ServerCtx::send_when_durable`).
    fn send_when_durable(&mut self, to: NodeId, message: RaftMessage<A::Command>);
    fn set_timer(&mut self, after: SimDuration, timer: RaftTimer) -> TimerId;
    fn cancel_timer(&mut self, id: TimerId);
    /// Reports an event to the invariant monitor.
    fn emit(&mut self, event: RaftEvent);
    /// The entry at `index` was applied with `output`; `waiter` is who
    /// waits for it, on the leader that took the proposal in this term.
    /// Every replica is told, the followers with no waiter.
    fn applied(&mut self, index: u64, output: Option<A::Output>, waiter: Option<A::Waiter>);
    /// A read whose ReadIndex round a majority confirmed and whose index
    /// is applied: answer it from `state`.
    fn serve_read(&mut self, state: &A::State, read: A::Read);

    /// Every other member, in id order.
    fn peers(&self) -> impl Iterator<Item = NodeId> + 'static {
        let me = self.id();
        (0..self.server_count())
            .map(NodeId)
            .filter(move |n| *n != me)
    }
}
