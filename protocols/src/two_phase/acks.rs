//! The participants a coordinator still waits to hear acknowledge one
//! message: a decision (then it may forget the transaction), or 3PC's
//! pre-commit (then it may commit).

use std::collections::BTreeSet;

/// Who of a transaction's participants has acknowledged, and who not yet.
///
/// Why the coordinator keeps this rather than resending blindly: a
/// decision must outlive the coordinator's memory until every participant
/// holds it (a participant in doubt asks, and presumed abort would answer
/// "aborted" about a commit forgotten too early), and no longer.
#[derive(Clone, Debug)]
pub struct Acks<P: Ord + Copy> {
    participants: Vec<P>,
    acked: BTreeSet<P>,
}

impl<P: Ord + Copy + std::fmt::Debug> Acks<P> {
    /// Waiting on every one of `participants`.
    pub fn new(participants: Vec<P>) -> Acks<P> {
        assert!(!participants.is_empty(), "a transaction has a participant");
        Acks {
            participants,
            acked: BTreeSet::new(),
        }
    }

    /// Records `from`'s acknowledgement; true once every participant has
    /// acknowledged. A repeat changes nothing.
    pub fn ack(&mut self, from: P) -> bool {
        debug_assert!(
            self.participants.contains(&from),
            "{from:?} acknowledges but is not among {:?}",
            self.participants
        );
        self.acked.insert(from);
        self.is_complete()
    }

    /// Whether every participant has acknowledged.
    pub fn is_complete(&self) -> bool {
        self.acked.len() == self.participants.len()
    }

    /// The participants yet to acknowledge, in the order given.
    pub fn missing(&self) -> impl Iterator<Item = P> + '_ {
        (self.participants.iter().copied()).filter(|p| !self.acked.contains(p))
    }

    /// The participants, as given.
    pub fn participants(&self) -> &[P] {
        &self.participants
    }
}
