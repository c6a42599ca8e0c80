//! A coordinator's tally of one transaction's votes, under presumed abort.

use std::collections::BTreeSet;

/// How the votes stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tally {
    /// Some participant has not voted, and none said no.
    Pending,
    /// Every participant voted yes.
    Commit,
    /// A participant voted no: the transaction aborts at once, whatever the
    /// others say.
    Abort,
}

/// The votes of one transaction's participants (servers, or shards).
///
/// Why a no ends the tally at once rather than waiting for every vote: a
/// participant that voted no has already released what it held, so the
/// transaction cannot commit, and the others' locks should go as soon as
/// possible.
#[derive(Clone, Debug)]
pub struct Votes<P: Ord + Copy> {
    participants: Vec<P>,
    yes: BTreeSet<P>,
    no: bool,
}

impl<P: Ord + Copy + std::fmt::Debug> Votes<P> {
    /// A tally over `participants`, none heard yet.
    pub fn new(participants: Vec<P>) -> Votes<P> {
        assert!(!participants.is_empty(), "a transaction has a participant");
        debug_assert!(
            participants.windows(2).all(|w| w[0] != w[1]),
            "participants are distinct: {participants:?}"
        );
        Votes {
            participants,
            yes: BTreeSet::new(),
            no: false,
        }
    }

    /// Records `from`'s vote and says how the votes stand. A repeated vote
    /// (the network duplicates) changes nothing.
    pub fn record(&mut self, from: P, yes: bool) -> Tally {
        debug_assert!(
            self.participants.contains(&from),
            "{from:?} votes but is not among {:?}",
            self.participants
        );
        if yes {
            self.yes.insert(from);
        } else {
            self.no = true;
        }
        let tally = self.tally();
        debug_assert!(tally != Tally::Commit || !self.no);
        tally
    }

    /// How the votes stand.
    pub fn tally(&self) -> Tally {
        if self.no {
            Tally::Abort
        } else if self.yes.len() == self.participants.len() {
            Tally::Commit
        } else {
            Tally::Pending
        }
    }

    /// Whether `from` has voted yes already.
    pub fn voted_yes(&self, from: P) -> bool {
        self.yes.contains(&from)
    }

    /// The participants, as given.
    pub fn participants(&self) -> &[P] {
        &self.participants
    }
}
