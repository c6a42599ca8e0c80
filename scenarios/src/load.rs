//! Reading a scenario file: RON text into a `Scenario`, with positioned
//! errors and "did you mean" hints for misspelled fields and variants.

use crate::error::{suggestion, ScenarioError};
use crate::scenario::Scenario;
use crate::validate;
use ron::extensions::Extensions;
use std::path::Path;

/// Scenario files larger than this are refused before parsing, so a huge
/// file cannot exhaust memory.
pub const SCENARIO_BYTES_MAX: usize = 4 * 1024 * 1024;
pub use crate::dialect::{ron_options, NESTING_MAX};

/// Reads, parses and validates a scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|e| ScenarioError::Io {
        file: file.clone(),
        message: e.to_string(),
    })?;
    if metadata.len() > SCENARIO_BYTES_MAX as u64 {
        return Err(ScenarioError::Io {
            file,
            message: format!(
                "the file is {} bytes; scenarios are limited to {SCENARIO_BYTES_MAX}",
                metadata.len()
            ),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Io {
        file: file.clone(),
        message: e.to_string(),
    })?;
    load_str(&text, &file)
}

/// Parses and validates scenario text; `file` names it in errors.
pub fn load_str(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
    let scenario = parse_str(text, file)?;
    validate::validate(&scenario).map_err(|problems| ScenarioError::Invalid {
        file: file.to_string(),
        problems,
    })?;
    Ok(scenario)
}

/// Parses without semantic validation.
pub fn parse_str(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
    if text.len() > SCENARIO_BYTES_MAX {
        return Err(ScenarioError::Io {
            file: file.to_string(),
            message: format!(
                "the text is {} bytes; scenarios are limited to {SCENARIO_BYTES_MAX}",
                text.len()
            ),
        });
    }
    ron_options()
        .from_str::<Scenario>(text)
        .map_err(|error| syntax_error(error, file, text))
}

fn syntax_error(error: ron::error::SpannedError, file: &str, text: &str) -> ScenarioError {
    use ron::error::Error;
    let hint = match &error.code {
        Error::NoSuchStructField {
            expected, found, ..
        } => Some(suggestion(found, expected)),
        Error::NoSuchEnumVariant {
            expected, found, ..
        } => Some(suggestion(found, expected)),
        Error::MissingStructField { field, .. } => {
            Some(format!("add `{field}: ...`; see scenarios/README.md"))
        }
        Error::ExceededRecursionLimit => {
            Some(format!("nesting is limited to {NESTING_MAX} levels"))
        }
        // A protocol's params are read through its plug-in, and their
        // errors come back as text (see `registry.rs`).
        Error::Message(text) => unknown_name_hint(text),
        _ => None,
    };
    let message = error.code.to_string();
    // Where the parser's own words do not say what to write, the text
    // around the error may (see `syntax_hint`); that hint is the more
    // specific one, so it wins.
    let found = crate::syntax_hint::hint(text, error.position.line, error.position.col, &message);
    let hint = found.or(hint);
    ScenarioError::Syntax {
        file: file.to_string(),
        line: error.position.line,
        column: error.position.col,
        message,
        hint,
    }
}

/// For RON's "Unexpected field named `x`, expected one of `a`, `b` ..."
/// (or variant) carried as text: the "did you mean" of its names.
fn unknown_name_hint(text: &str) -> Option<String> {
    if !(text.starts_with("Unexpected field named `")
        || text.starts_with("Unexpected variant named `"))
    {
        return None;
    }
    let (found, rest) = text.split_once('`')?.1.split_once('`')?;
    let expected: Vec<&str> = rest
        .split_once("expected")?
        .1
        .split('`')
        .skip(1)
        .step_by(2)
        .collect();
    Some(suggestion(found, &expected))
}

/// Writes any part of a scenario (a protocol's params, say) as RON on one
/// line, in the same dialect.
pub fn to_ron_inline<T: serde::Serialize>(value: &T) -> String {
    let options = ron::Options::default()
        .with_default_extension(Extensions::IMPLICIT_SOME | Extensions::UNWRAP_VARIANT_NEWTYPES);
    options
        .to_string(value)
        .expect("scenario parts always serialise")
}

/// Writes a scenario as RON in the same dialect, readable by `load_str`.
pub fn to_ron(scenario: &Scenario) -> String {
    let pretty = ron::ser::PrettyConfig::new()
        .extensions(Extensions::IMPLICIT_SOME | Extensions::UNWRAP_VARIANT_NEWTYPES)
        .struct_names(false);
    ron::ser::to_string_pretty(scenario, pretty).expect("a Scenario always serialises")
}
