//! Tidy: mechanical checks of architecture invariants that review misses.
//!
//! - Simulation code (sim-core, protocols) never reads wall clocks or global
//!   RNGs, and never uses HashMap or HashSet. Why ban the types rather than
//!   their iteration: iteration order of a std hash map is randomised per
//!   process, and a ban on the type is checkable by grep; ordered maps
//!   (BTreeMap) or dense vectors cost little more.
//! - Every Rust file starts with a `//!` module doc saying what it is for.

use faultline_e2e::{repo_root, rust_files};

const SIMULATION_CRATES: [&str; 3] = ["sim-core/src", "protocols/src", "scenarios/src"];
const FORBIDDEN: [(&str, &str); 6] = [
    (
        "Instant::now",
        "wall-clock time; use the node's Context::now()",
    ),
    (
        "SystemTime",
        "wall-clock time; use the node's Context::now()",
    ),
    (
        "thread_rng",
        "a global RNG; use Context::rng() or a named stream",
    ),
    (
        "rand::random",
        "a global RNG; use Context::rng() or a named stream",
    ),
    (
        "HashMap",
        "randomised iteration order; use BTreeMap or a Vec indexed by id",
    ),
    (
        "HashSet",
        "randomised iteration order; use BTreeSet or a Vec indexed by id",
    ),
];

/// The code part of a line: text before a `//` comment.
fn code_of(line: &str) -> &str {
    line.split("//").next().unwrap_or("")
}

fn violations_in(path_label: &str, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        for (pattern, why) in FORBIDDEN {
            if code_of(line).contains(pattern) {
                found.push(format!("{path_label}:{}: `{pattern}`: {why}", number + 1));
            }
        }
    }
    found
}

#[test]
fn simulation_code_uses_no_wall_clock_global_rng_or_hash_container() {
    let root = repo_root();
    let mut violations = Vec::new();
    for dir in SIMULATION_CRATES {
        let files = rust_files(&root.join(dir));
        assert!(
            !files.is_empty(),
            "{dir} has no Rust files: did the layout change?"
        );
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let label = path.strip_prefix(&root).unwrap().display().to_string();
            violations.extend(violations_in(&label, &text));
        }
    }
    assert!(
        violations.is_empty(),
        "forbidden in simulation code:\n{}",
        violations.join("\n")
    );
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let root = repo_root();
    let missing: Vec<String> = rust_files(&root)
        .into_iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            !first.starts_with("//!")
        })
        .map(|path| path.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading //! doc:\n{}",
        missing.join("\n")
    );
}

/// The checker itself must be able to fail: each forbidden pattern is caught,
/// and commented-out mentions are not.
#[test]
fn the_tidy_check_catches_each_pattern_and_ignores_comments() {
    for (pattern, _) in FORBIDDEN {
        let code = format!("let x = {pattern}();");
        assert_eq!(
            violations_in("f.rs", &code).len(),
            1,
            "{pattern} not caught"
        );
        let comment = format!("// never use {pattern}");
        assert!(
            violations_in("f.rs", &comment).is_empty(),
            "{pattern} flagged in a comment"
        );
    }
}
