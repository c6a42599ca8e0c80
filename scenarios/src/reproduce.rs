//! The one-line command that reproduces a run (ARCHITECTURE.md,
//! invariant 6): `faultline run PATH --seed N --set ...`, its words quoted
//! for a POSIX shell where they need it. The CLI prints it on every run,
//! a sweep lists it for every failure, and a Rust user gets the same line.

/// Quotes a shell word if it needs it.
pub fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The one-line command that reproduces a run.
pub fn reproduce_command(path: &str, seed: u64, sets: &[(String, String)]) -> String {
    let mut command = format!("faultline run {} --seed {seed}", shell_word(path));
    for (field, value) in sets {
        command.push_str(&format!(
            " --set {}",
            shell_word(&format!("{field}={value}"))
        ));
    }
    command
}
