//! User-input errors: where the problem is and how to fix it.
//!
//! Architecture Invariant: bad user input is an `Err`, never a panic. Syntax
//! errors name file:line:column; semantic errors name the field path.

use std::fmt;

/// One semantic problem: a field path such as `faults.schedule[2].fault` and
/// what is wrong there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: cannot read the scenario: {message}")]
    Io { file: String, message: String },
    #[error("{file}:{line}:{column}: {message}{}", hint_suffix(.hint))]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
        hint: Option<String>,
    },
    #[error("{}", render_problems(.file, .problems))]
    Invalid {
        file: String,
        problems: Vec<Problem>,
    },
}

fn hint_suffix(hint: &Option<String>) -> String {
    match hint {
        Some(hint) => format!("\n  hint: {hint}"),
        None => String::new(),
    }
}

fn render_problems(file: &str, problems: &[Problem]) -> String {
    let mut text = String::new();
    for (index, problem) in problems.iter().enumerate() {
        if index > 0 {
            text.push('\n');
        }
        text.push_str(&format!("{file}: {}: {}", problem.path, problem.message));
    }
    text
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The candidate closest to `found`, if it is close enough to be a typo.
pub fn closest<'a>(found: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| {
            (
                strsim::normalized_damerau_levenshtein(
                    &found.to_lowercase(),
                    &candidate.to_lowercase(),
                ),
                candidate,
            )
        })
        .filter(|(score, _)| *score >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// "did you mean `x`?" for a typo, or the list of valid names.
pub fn suggestion(found: &str, candidates: &[&str]) -> String {
    match closest(found, candidates.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!(
            "expected one of: {}",
            candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
