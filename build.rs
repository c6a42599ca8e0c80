//! Generates the list of curated scenarios carried in the binary
//! (`src/cli/curated.rs`) from the `.ron` files in `scenarios/`, so that
//! adding a curated scenario is adding a file. In file-name order, which
//! groups them by protocol (`2pc-…`, `raft-…`, `ring-…`).

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&root).join("scenarios");
    // Cargo reruns this when a file in the folder is added, removed or changed.
    println!("cargo:rerun-if-changed=scenarios");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("the scenarios folder is part of the package")
        .map(|entry| entry.expect("a readable folder entry").file_name())
        .filter_map(|name| name.into_string().ok())
        .filter(|name| name.ends_with(".ron"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no curated scenarios in {}",
        dir.display()
    );
    let mut out = String::from("&[\n");
    for file in &files {
        let _ = writeln!(
            out,
            "    (\"scenarios/{file}\", include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/scenarios/{file}\"))),"
        );
    }
    out.push_str("]\n");
    let generated =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("curated.rs");
    std::fs::write(generated, out).expect("OUT_DIR is writable");
}
