//! Client histories: what clients asked for and what they observed.
//!
//! An `Operation` is one client call, from invocation to completion. Times
//! are true time in nanoseconds, stamped by the engine (clients never see
//! them). The outcome follows Jepsen: `Ok` took effect and returned the value
//! shown; `Fail` definitely took no effect; `Info` is unknown: it may or may
//! not have taken effect, so for checking it stays open to the end of time.
//!
//! Keys and values are strings so that histories recorded by other tools
//! (registers of integers, key-value stores of strings) fit one model. A read
//! whose value is `None` observed nothing usable (a Knossos `nil`), and
//! matches any state.

pub mod edn;
pub mod generate;
pub mod history_error;
pub mod import;
pub mod jepsen;
pub mod jsonl;
pub mod stream;

use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

/// What a client asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Function {
    Read,
    Write,
    /// Compare-and-set: write `value` if the current value is `expected`.
    Cas,
    /// Append `value` to the current value (string concatenation).
    Append,
    /// A bank transfer between two accounts, run as a distributed
    /// transaction (`key` is "from->to", `value` the amount). Not a register
    /// operation: the register checkers never see one, and `faultline
    /// check` refuses histories that contain it.
    Transfer,
    /// An order run as a saga (`key` is the item, `value` the quantity).
    /// Not a register operation either.
    Order,
    /// A transaction of micro-ops (`value` holds them in Jepsen's
    /// notation, reads filled in when it completed: `[[:append k3 17] [:r
    /// k1 [4 9]]]`). Judged by the list-append and rw-register checkers
    /// (`txn::history`), never by the register ones.
    Txn,
}

/// How an operation ended, as the client saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Fail,
    Info,
}

/// One client call.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Operation {
    /// The client process (one operation at a time per process).
    pub process: u64,
    pub f: Function,
    pub key: String,
    /// Written or appended value; for a read, the value observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// A compare-and-set's expected value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    pub outcome: Outcome,
    pub invoke_ns: u64,
    /// `None` for `Info`: the operation may take effect at any later time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_ns: Option<u64>,
    /// When the client stopped waiting without an answer from a server:
    /// its deadline passed with every attempt refused (a `Fail`, at
    /// `complete_ns`) or some attempt unanswered (an `Info`, which may
    /// still take effect later). `None` when a server answered, and for
    /// histories from other tools. Availability needs it: a `Fail` a
    /// server gave (a compare-and-set whose expected value did not match,
    /// an aborted transaction) served the request; one the client gave
    /// itself did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gave_up_ns: Option<u64>,
}

impl Operation {
    /// Whether a server answered it: an `Ok`, or a `Fail` the system gave
    /// (a mismatched compare-and-set, an abort). A request that was
    /// answered "no" was still served; only refusals until the deadline
    /// and unknown outcomes were not.
    pub fn served(&self) -> bool {
        match self.outcome {
            Outcome::Ok => true,
            Outcome::Fail => self.gave_up_ns.is_none(),
            Outcome::Info => false,
        }
    }

    /// When the client stopped waiting for it: its completion, or when it
    /// gave up on an unknown outcome; `None` when it was open at the end
    /// of the history.
    pub fn ended_ns(&self) -> Option<u64> {
        self.complete_ns.or(self.gave_up_ns)
    }

    /// Checks the record's own consistency; the error says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        match (self.outcome, self.gave_up_ns) {
            (Outcome::Ok, Some(_)) => {
                return Err("an ok operation was answered: it has no gave_up_ns".into())
            }
            (_, Some(at)) if at < self.invoke_ns => {
                return Err(format!(
                    "gave_up_ns {at} is before invoke_ns {}",
                    self.invoke_ns
                ))
            }
            (Outcome::Fail, Some(at)) if Some(at) != self.complete_ns => {
                return Err(
                    "a failed operation the client gave up on has gave_up_ns = complete_ns".into(),
                )
            }
            _ => {}
        }
        match (self.outcome, self.complete_ns) {
            (Outcome::Info, Some(_)) => {
                return Err("an info operation has no completion time".into())
            }
            (Outcome::Ok | Outcome::Fail, None) => {
                return Err("an ok or fail operation needs complete_ns".into())
            }
            (_, Some(done)) if done < self.invoke_ns => {
                return Err(format!(
                    "complete_ns {done} is before invoke_ns {}",
                    self.invoke_ns
                ))
            }
            _ => {}
        }
        match self.f {
            Function::Write
            | Function::Append
            | Function::Transfer
            | Function::Order
            | Function::Txn
                if self.value.is_none() =>
            {
                Err("a write, append, transfer, order or txn needs a value".into())
            }
            Function::Cas if self.value.is_none() || self.expected.is_none() => {
                Err("a cas needs value and expected".into())
            }
            _ => Ok(()),
        }
    }
}

/// A history holds at most this many operations; longer ones are rejected,
/// because checking cost grows steeply with length.
pub const HISTORY_OPS_MAX: usize = 10_000_000;

/// A sequence of operations in invocation order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub operations: Vec<Operation>,
}

impl History {
    pub fn len(&self) -> usize {
        self.operations.len()
    }
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// The bytes the history holds, as a memory budget counts them: each
    /// operation's record (twice, for a growing vector's spare room) and
    /// its strings.
    pub fn heap_bytes(&self) -> u64 {
        self.operations
            .iter()
            .map(|op| {
                (2 * std::mem::size_of::<Operation>()
                    + op.key.capacity()
                    + op.value.as_ref().map_or(0, String::capacity)
                    + op.expected.as_ref().map_or(0, String::capacity)) as u64
            })
            .sum()
    }

    /// Writes one JSON object per line.
    pub fn write_jsonl(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for op in &self.operations {
            serde_json::to_writer(&mut *out, op)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Reads JSON lines; the error names the line and says what is wrong.
    pub fn read_jsonl(input: &mut dyn BufRead) -> Result<History, String> {
        let mut operations = Vec::new();
        for (index, line) in input.lines().enumerate() {
            let line = line.map_err(|e| format!("line {}: {e}", index + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            if operations.len() >= HISTORY_OPS_MAX {
                return Err(format!("more than {HISTORY_OPS_MAX} operations"));
            }
            let op: Operation =
                serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", index + 1))?;
            op.validate()
                .map_err(|e| format!("line {}: {e}", index + 1))?;
            operations.push(op);
        }
        Ok(History { operations })
    }
}
