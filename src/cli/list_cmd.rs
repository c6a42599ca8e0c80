//! `faultline validate` and `faultline list`.

use scenarios::registry;
use std::io::Write;
use std::path::PathBuf;

/// The curated scenarios, embedded so `list` works from any directory. A
/// test keeps this list equal to the `.ron` files in `scenarios/`.
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
];

pub fn validate(
    paths: &[PathBuf],
    json: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> u8 {
    let mut results = Vec::new();
    let mut code = 0;
    for path in paths {
        match scenarios::load_file(path) {
            Ok(scenario) => {
                let warnings: Vec<String> = scenarios::validate::warnings(&scenario)
                    .iter()
                    .map(|w| format!("{}: {}", w.path, w.message))
                    .collect();
                if !json {
                    let _ = writeln!(stdout, "{}: ok ({})", path.display(), scenario.name);
                    for warning in &warnings {
                        let _ = writeln!(stdout, "  warning: {warning}");
                    }
                }
                results.push(serde_json::json!({ "file": path.display().to_string(), "ok": true, "warnings": warnings }));
            }
            Err(error) => {
                code = 2;
                if !json {
                    let _ = writeln!(stderr, "{error}");
                }
                results.push(serde_json::json!({ "file": path.display().to_string(), "ok": false, "error": error.to_string() }));
            }
        }
    }
    if json {
        super::print_json(
            stdout,
            &serde_json::json!({ "valid": code == 0, "files": results }),
        );
    }
    code
}

pub fn list(json: bool, stdout: &mut dyn Write) -> u8 {
    let protocols = registry::protocols();
    let curated: Vec<(String, String)> = CURATED
        .iter()
        .map(|(path, text)| {
            let description = scenarios::parse_str(text, path)
                .map(|s| s.description)
                .unwrap_or_else(|e| format!("(invalid: {e})"));
            (path.to_string(), description)
        })
        .collect();
    if json {
        let value = serde_json::json!({
            "protocols": protocols,
            "fault_kinds": registry::FAULT_KINDS.iter().map(|(k, d)| serde_json::json!({"kind": k, "meaning": d})).collect::<Vec<_>>(),
            "nemesis_kinds": ["Partition", "Crash", "PowerLoss", "Pause", "ClockJump", "Clog", "Loss"],
            "checks": registry::CHECKERS.iter().map(|(k, d)| serde_json::json!({"name": k, "meaning": d})).collect::<Vec<_>>(),
            "scenarios": curated.iter().map(|(p, d)| serde_json::json!({"path": p, "description": d})).collect::<Vec<_>>(),
        });
        super::print_json(stdout, &value);
        return 0;
    }
    let _ = writeln!(stdout, "PROTOCOLS (protocol: Name(param: value, ...))");
    for p in &protocols {
        let _ = writeln!(
            stdout,
            "  {:<12} {}{}",
            p.name,
            p.summary,
            if p.serves_clients {
                ""
            } else {
                " [no clients]"
            }
        );
        for (param, default, meaning) in &p.params {
            let _ = writeln!(stdout, "      {param} = {default}: {meaning}");
        }
        for invariant in &p.invariants {
            let _ = writeln!(stdout, "      invariant: {invariant}");
        }
    }
    let _ = writeln!(
        stdout,
        "FAULTS (faults: (schedule: [(at: \"2s\", fault: ...)]))"
    );
    for (kind, meaning) in registry::FAULT_KINDS {
        let _ = writeln!(stdout, "  {kind:<48} {meaning}");
    }
    let _ = writeln!(
        stdout,
        "NEMESIS KINDS: Partition, Crash, PowerLoss, Pause, ClockJump, Clog, Loss"
    );
    let _ = writeln!(stdout, "CHECKS");
    for (name, meaning) in registry::CHECKERS {
        let _ = writeln!(stdout, "  {name:<16} {meaning}");
    }
    let _ = writeln!(stdout, "CURATED SCENARIOS");
    for (path, description) in &curated {
        let _ = writeln!(stdout, "  {path:<36} {description}");
    }
    0
}
