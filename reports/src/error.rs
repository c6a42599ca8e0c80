//! Why a report could not be made, as one type a library user can match
//! on; the CLI maps `Read` to its I/O kind, `Option` to a flag's, and
//! `Write` to its output kind. Each text names the file (or the option)
//! it is about, as it always did.

use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A run folder's file that cannot be read or parsed.
    #[error("{message}")]
    Read { path: PathBuf, message: String },
    /// A chart or the page that cannot be drawn or written, in `dir`.
    #[error("{message}")]
    Write { dir: PathBuf, message: String },
    /// An option that does not fit the run (a node it lacks).
    #[error("{0}")]
    Option(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_report::{RunFiles, RunOptions};

    #[test]
    fn a_folder_without_a_run_is_a_read_error_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("reports-error-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let Err(error) = RunFiles::read(&dir) else {
            panic!("an empty folder is not a run folder");
        };
        match &error {
            ReportError::Read { path, message } => {
                assert_eq!(path, &dir.join("resolved.ron"));
                assert!(message.contains("is this a run folder?"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_node_the_run_lacks_is_an_option_error() {
        let scenario = scenarios::load_str(
            "Scenario(name: \"t\", duration: \"1s\", nodes: Count(2), protocol: PingPong())",
            "t.ron",
        )
        .unwrap();
        let mut options = RunOptions::default();
        options.lamport.nodes = vec!["n9".to_string()];
        assert!(
            matches!(options.check(&scenario), Err(ReportError::Option(m)) if m.contains("\"n9\""))
        );
        assert_eq!(RunOptions::default().check(&scenario), Ok(()));
    }
}
