//! What a participant does about a transaction it voted yes for and whose
//! decision has not come.

/// A participant's next move when its wait for a decision times out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InDoubt {
    /// Ask whoever holds the decision (the coordinator, its log or its
    /// group, or peers under cooperative termination), and keep waiting:
    /// a participant bound by a yes vote may decide nothing alone. This is
    /// why two-phase commit blocks.
    Ask,
    /// The `commit_on_timeout` bug: commit alone, as if silence meant yes.
    /// The coordinator may have decided abort (another participant voted
    /// no, or it timed out), so atomicity breaks.
    CommitAlone,
}

impl InDoubt {
    /// The move a correct participant makes, or the bug's where the
    /// `commit_on_timeout` switch is on.
    pub fn on_timeout(commit_on_timeout: bool) -> InDoubt {
        if commit_on_timeout {
            InDoubt::CommitAlone
        } else {
            InDoubt::Ask
        }
    }
}
