//! What `faultline check` was asked, for every kind of history: the
//! register checks (`check_cmd.rs`) and Jepsen's workload family
//! (`check_family.rs`) read the same options.

pub struct CheckOptions {
    pub model: String,
    pub format: String,
    pub timeout: String,
    pub initial: Option<String>,
    pub whole: bool,
    pub html: Option<std::path::PathBuf>,
    pub json: bool,
    /// Refuse a history with fields its format does not define.
    pub strict: bool,
    /// The check's memory budget ("1GiB"): the file, the history and the
    /// search's memo count against it; past it the verdict is unknown.
    pub memory: String,
    /// The transactional models to judge (comma-separated).
    pub consistency_models: Option<String>,
    /// bank: allow negative balances.
    pub negative_balances: bool,
    /// bank: the initial total.
    pub total: Option<i64>,
    /// list-append, rw-register: check only what decides the named models.
    pub named_only: bool,
}
