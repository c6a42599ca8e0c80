//! `faultline validate` and `faultline list`.

use super::curated::{self, CURATED};
use super::error::{CliError, ErrorKind};
use scenarios::catalog;
use scenarios::schema::NemesisKind;
use std::io::Write;
use std::path::PathBuf;

pub fn validate(
    paths: &[PathBuf],
    json: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> u8 {
    let mut results = Vec::new();
    let mut code = 0;
    for path in paths {
        match curated::load(path) {
            Ok((scenario, source)) => {
                let warnings: Vec<String> = scenarios::validate::warnings(&scenario)
                    .iter()
                    .map(|w| format!("{}: {}", w.path, w.message))
                    .collect();
                if !json {
                    let _ = writeln!(stdout, "{source}: ok ({})", scenario.name);
                    for warning in &warnings {
                        let _ = writeln!(stdout, "  warning: {warning}");
                    }
                }
                results
                    .push(serde_json::json!({ "file": source, "ok": true, "warnings": warnings }));
            }
            Err(error) => {
                code = 2;
                if !json {
                    let _ = writeln!(stderr, "{}", error.text());
                }
                results.push(serde_json::json!({ "file": path.display().to_string(), "ok": false, "error": error }));
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

/// Prints a curated scenario's file as it is in the repository.
pub fn show(name: &str, json: bool, stdout: &mut dyn Write) -> Result<u8, CliError> {
    let Some((found, text)) = curated::find(name) else {
        let names = curated::names();
        return Err(CliError::new(
            ErrorKind::Argument,
            format!("{name}: no curated scenario of that name"),
        )
        .with_path("NAME")
        .with_hint(scenarios::error::suggestion(name, &names)));
    };
    if json {
        super::print_json(stdout, &serde_json::json!({ "name": found, "text": text }));
    } else {
        let _ = write!(stdout, "{text}");
    }
    Ok(0)
}

/// The register models `faultline check` judges for linearizability.
const HISTORY_MODELS: &[(&str, &str)] = &[
    ("register", "reads and writes, linearizable per key"),
    (
        "cas-register",
        "reads, writes and compare-and-sets, linearizable per key",
    ),
    (
        "kv",
        "reads, writes, compare-and-sets and appends, linearizable per key",
    ),
];

pub fn list(json: bool, stdout: &mut dyn Write) -> u8 {
    let protocols = scenarios::protocol_info::protocols();
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
            "fault_kinds": catalog::FAULT_KINDS.iter().map(|(k, d)| serde_json::json!({"kind": k, "meaning": d})).collect::<Vec<_>>(),
            "nemesis_kinds": NemesisKind::ALL.map(NemesisKind::name),
            "checks": catalog::CHECKERS.iter().map(|(k, d)| serde_json::json!({"name": k, "meaning": d})).collect::<Vec<_>>(),
            "history_models": HISTORY_MODELS.iter().chain(sim_core::checker::family::MODELS).map(|(k, d)| serde_json::json!({"name": k, "meaning": d})).collect::<Vec<_>>(),
            "consistency_models": sim_core::txn::models::ALL_MODELS.iter().map(|m| m.name()).collect::<Vec<_>>(),
            "scenarios": curated.iter().map(|(p, d)| serde_json::json!({"name": curated::name_of(p), "path": p, "description": d})).collect::<Vec<_>>(),
        });
        super::print_json(stdout, &value);
        return 0;
    }
    print_protocols(&protocols, stdout);
    let _ = writeln!(
        stdout,
        "FAULTS (faults: (schedule: [(at: \"2s\", fault: ...)]))"
    );
    for (kind, meaning) in catalog::FAULT_KINDS {
        let _ = writeln!(stdout, "  {kind:<48} {meaning}");
    }
    let kinds = NemesisKind::ALL.map(NemesisKind::name).join(", ");
    let _ = writeln!(stdout, "NEMESIS KINDS: {kinds}");
    let _ = writeln!(stdout, "CHECKS");
    for (name, meaning) in catalog::CHECKERS {
        let _ = writeln!(stdout, "  {name:<16} {meaning}");
    }
    let _ = writeln!(stdout, "HISTORY MODELS (faultline check FILE --model NAME)");
    for (name, meaning) in HISTORY_MODELS
        .iter()
        .chain(sim_core::checker::family::MODELS)
    {
        let _ = writeln!(stdout, "  {name:<16} {meaning}");
    }
    let _ = writeln!(
        stdout,
        "CONSISTENCY MODELS (--consistency-models, for list-append and rw-register): {}",
        sim_core::txn::models::ALL_MODELS
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        stdout,
        "CURATED SCENARIOS (faultline run NAME; faultline show NAME prints the file)"
    );
    for (path, description) in &curated {
        let _ = writeln!(stdout, "  {:<28} {description}", curated::name_of(path));
    }
    0
}

/// Each protocol with its params, invariants and message kinds.
fn print_protocols(protocols: &[scenarios::protocol_info::ProtocolInfo], stdout: &mut dyn Write) {
    let _ = writeln!(stdout, "PROTOCOLS (protocol: Name(param: value, ...))");
    for p in protocols {
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
        if p.message_kinds.len() > protocols::cluster::CLIENT_MESSAGE_KINDS.len() {
            let _ = writeln!(
                stdout,
                "      message kinds (for a link's kinds): {}",
                p.message_kinds.join(", ")
            );
        }
    }
}
