//! The curated scenarios, carried in the binary so that an installed
//! `faultline` runs them by name from any folder: `faultline run
//! raft-leader-crash`, `faultline show raft-leader-crash`.
//!
//! A path always wins over a name: `faultline run quickstart` reads the file
//! `./quickstart` if there is one, and the curated scenario otherwise.

use super::error::{CliError, ErrorKind};
use std::path::Path;

/// The curated scenarios as (path in the repository, text). A test keeps
/// this list equal to the `.ron` files in `scenarios/`.
pub const CURATED: &[(&str, &str)] = &[
    (
        "scenarios/quickstart.ron",
        include_str!("../../scenarios/quickstart.ron"),
    ),
    (
        "scenarios/pingpong.ron",
        include_str!("../../scenarios/pingpong.ron"),
    ),
    (
        "scenarios/kv-lost-writes.ron",
        include_str!("../../scenarios/kv-lost-writes.ron"),
    ),
    (
        "scenarios/kv-nemesis.ron",
        include_str!("../../scenarios/kv-nemesis.ron"),
    ),
    (
        "scenarios/pingpong-panic.ron",
        include_str!("../../scenarios/pingpong-panic.ron"),
    ),
    (
        "scenarios/raft-leader-crash.ron",
        include_str!("../../scenarios/raft-leader-crash.ron"),
    ),
    (
        "scenarios/raft-minority-partition.ron",
        include_str!("../../scenarios/raft-minority-partition.ron"),
    ),
    (
        "scenarios/raft-majority-partition.ron",
        include_str!("../../scenarios/raft-majority-partition.ron"),
    ),
    (
        "scenarios/raft-one-way.ron",
        include_str!("../../scenarios/raft-one-way.ron"),
    ),
    (
        "scenarios/raft-swarm.ron",
        include_str!("../../scenarios/raft-swarm.ron"),
    ),
    (
        "scenarios/raft-lease-drift.ron",
        include_str!("../../scenarios/raft-lease-drift.ron"),
    ),
    (
        "scenarios/raft-figure8.ron",
        include_str!("../../scenarios/raft-figure8.ron"),
    ),
    (
        "scenarios/raft-forgotten-vote.ron",
        include_str!("../../scenarios/raft-forgotten-vote.ron"),
    ),
    (
        "scenarios/raft-election.ron",
        include_str!("../../scenarios/raft-election.ron"),
    ),
    (
        "scenarios/raft-disk-cost.ron",
        include_str!("../../scenarios/raft-disk-cost.ron"),
    ),
    (
        "scenarios/2pc-disk-cost.ron",
        include_str!("../../scenarios/2pc-disk-cost.ron"),
    ),
    (
        "scenarios/ring-election.ron",
        include_str!("../../scenarios/ring-election.ron"),
    ),
    (
        "scenarios/ring-theory.ron",
        include_str!("../../scenarios/ring-theory.ron"),
    ),
    (
        "scenarios/ring-split-brain.ron",
        include_str!("../../scenarios/ring-split-brain.ron"),
    ),
    (
        "scenarios/bully-election.ron",
        include_str!("../../scenarios/bully-election.ron"),
    ),
    (
        "scenarios/bully-split-brain.ron",
        include_str!("../../scenarios/bully-split-brain.ron"),
    ),
    (
        "scenarios/2pc-coordinator-crash.ron",
        include_str!("../../scenarios/2pc-coordinator-crash.ron"),
    ),
    (
        "scenarios/3pc-coordinator-crash.ron",
        include_str!("../../scenarios/3pc-coordinator-crash.ron"),
    ),
    (
        "scenarios/3pc-partition.ron",
        include_str!("../../scenarios/3pc-partition.ron"),
    ),
    (
        "scenarios/saga-orchestration.ron",
        include_str!("../../scenarios/saga-orchestration.ron"),
    ),
    (
        "scenarios/saga-choreography.ron",
        include_str!("../../scenarios/saga-choreography.ron"),
    ),
    (
        "scenarios/replication-modes.ron",
        include_str!("../../scenarios/replication-modes.ron"),
    ),
    (
        "scenarios/semisync-fallback.ron",
        include_str!("../../scenarios/semisync-fallback.ron"),
    ),
    (
        "scenarios/replica-lag-reads.ron",
        include_str!("../../scenarios/replica-lag-reads.ron"),
    ),
    (
        "scenarios/split-brain-no-fencing.ron",
        include_str!("../../scenarios/split-brain-no-fencing.ron"),
    ),
    (
        "scenarios/txn-list-append.ron",
        include_str!("../../scenarios/txn-list-append.ron"),
    ),
    (
        "scenarios/lww-clock-skew.ron",
        include_str!("../../scenarios/lww-clock-skew.ron"),
    ),
    (
        "scenarios/quorum-repair.ron",
        include_str!("../../scenarios/quorum-repair.ron"),
    ),
    (
        "scenarios/cap-partition.ron",
        include_str!("../../scenarios/cap-partition.ron"),
    ),
    (
        "scenarios/pacelc-latency.ron",
        include_str!("../../scenarios/pacelc-latency.ron"),
    ),
    (
        "scenarios/pbs-wars.ron",
        include_str!("../../scenarios/pbs-wars.ron"),
    ),
    (
        "scenarios/pbs-k-staleness.ron",
        include_str!("../../scenarios/pbs-k-staleness.ron"),
    ),
    (
        "scenarios/majority-availability.ron",
        include_str!("../../scenarios/majority-availability.ron"),
    ),
];

/// A curated scenario's name: its file name without `.ron`.
pub fn name_of(repo_path: &str) -> &str {
    let file = repo_path.rsplit('/').next().unwrap_or(repo_path);
    file.strip_suffix(".ron").unwrap_or(file)
}

/// Every curated name, in the list's order.
pub fn names() -> Vec<&'static str> {
    CURATED.iter().map(|(path, _)| name_of(path)).collect()
}

/// The curated scenario called `name` (with or without `.ron`, or as its
/// path in the repository): (name, text).
pub fn find(name: &str) -> Option<(&'static str, &'static str)> {
    let wanted = name_of(name);
    CURATED
        .iter()
        .find(|(path, _)| name_of(path) == wanted && (!name.contains('/') || *path == name))
        .map(|(path, text)| (name_of(path), *text))
}

/// A scenario argument, read: the file at `arg` if there is one, else the
/// curated scenario of that name. Returns the scenario and the text to name
/// it by in a reproduce command.
pub fn load(arg: &Path) -> Result<(scenarios::Scenario, String), CliError> {
    let shown = arg.display().to_string();
    if arg.exists() {
        return Ok((scenarios::load_file(arg)?, shown));
    }
    if let Some((name, text)) = find(&shown) {
        // A curated file that does not load is our bug, not the user's.
        let scenario = scenarios::load_str(text, &format!("{name} (curated)"))
            .unwrap_or_else(|e| panic!("curated scenario {name} does not load: {e}"));
        return Ok((scenario, name.to_string()));
    }
    let names = names();
    let hint = match scenarios::error::closest(name_of(&shown), names.iter().copied()) {
        Some(best) => format!("did you mean the curated scenario `{best}`? (`faultline list` shows them all)"),
        None => "give a scenario file's path, or a curated scenario's name (`faultline list` shows them)".to_string(),
    };
    Err(CliError::new(
        ErrorKind::Io,
        format!("{shown}: no such file, and no curated scenario of that name"),
    )
    .with_file(shown)
    .with_hint(hint))
}
