//! The history recorder: client invocations and completions, paired into
//! the operations the history checkers read.

use protocols::client::ClientEvent;
use protocols::kv::{KvOp, KvResult};
use sim_core::history::{Function, History, Operation, Outcome, HISTORY_OPS_MAX};
use sim_core::SimTime;

/// The key an audit (a read of every balance) is recorded under.
pub const AUDIT_KEY: &str = "accounts";

/// Pairs client invocations with completions into operations.
pub(crate) struct HistoryRecorder {
    open: Vec<Option<(SimTime, KvOp)>>,
    operations: Vec<Operation>,
    pub(crate) shed: u64,
    /// Memory the history holds (for the run's budget): each operation's
    /// size twice (a growing vector's spare capacity) plus its strings.
    pub(crate) bytes: u64,
    /// Unknown outcomes per client so far. As in Jepsen, a client whose
    /// operation ended unknown goes on as a new process (number
    /// `client + clients * retirements`), because the old one may still
    /// have an operation in flight.
    retirements: Vec<u64>,
}

impl HistoryRecorder {
    pub(crate) fn new(clients: usize) -> Self {
        HistoryRecorder {
            open: vec![None; clients],
            operations: Vec::new(),
            shed: 0,
            bytes: (clients * std::mem::size_of::<Option<(SimTime, KvOp)>>()) as u64,
            retirements: vec![0; clients],
        }
    }

    fn process(&self, client: u64) -> u64 {
        client + self.open.len() as u64 * self.retirements[client as usize]
    }

    pub(crate) fn record(&mut self, time: SimTime, event: ClientEvent) {
        match event {
            ClientEvent::Invoke { client, op } => {
                let slot = &mut self.open[client as usize];
                assert!(
                    slot.is_none(),
                    "client {client} invoked while an operation was open"
                );
                *slot = Some((time, op));
            }
            ClientEvent::Complete {
                client,
                outcome,
                result,
            } => {
                let (invoked, op) = self.open[client as usize]
                    .take()
                    .expect("a completion follows an invocation");
                let complete = if outcome == Outcome::Info {
                    None
                } else {
                    Some(time)
                };
                // The client itself ends an operation without a server's
                // result only at its deadline: a `Fail` when every attempt
                // was refused, an `Info` when one may have been applied.
                let gave_up = result.is_none().then_some(time);
                debug_assert!(
                    gave_up.is_some() || outcome != Outcome::Info,
                    "an unknown outcome has no server's result"
                );
                self.push(client, invoked, (complete, gave_up), outcome, op, result);
                if outcome == Outcome::Info {
                    self.retirements[client as usize] += 1;
                }
            }
            ClientEvent::Shed { .. } => self.shed += 1,
        }
    }

    fn push(
        &mut self,
        client: u64,
        invoked: SimTime,
        (complete, gave_up): (Option<SimTime>, Option<SimTime>),
        outcome: Outcome,
        op: KvOp,
        result: Option<KvResult>,
    ) {
        if self.operations.len() >= HISTORY_OPS_MAX {
            return;
        }
        let (f, key, value, expected) = match op {
            KvOp::Get { key } => {
                let seen = match result {
                    Some(KvResult::Value(v)) => Some(v),
                    _ => None,
                };
                (Function::Read, key, seen, None)
            }
            KvOp::Put { key, value, .. } => (Function::Write, key, Some(value), None),
            KvOp::Cas { key, expected, new } => (Function::Cas, key, Some(new), Some(expected)),
            KvOp::Append { key, value } => (Function::Append, key, Some(value), None),
            KvOp::Order { item, quantity } => {
                (Function::Order, item, Some(quantity.to_string()), None)
            }
            // An audit is a read of every balance: "k0=100 k1=95 ...".
            KvOp::Audit => {
                let seen = match result {
                    Some(KvResult::Value(v)) => Some(v),
                    _ => None,
                };
                (Function::Read, AUDIT_KEY.to_string(), seen, None)
            }
            KvOp::Txn { mops, lists } => {
                let text = match result {
                    Some(KvResult::Txn(done)) => done.to_string(),
                    _ => protocols::kv::render_txn(&mops, lists, None),
                };
                (Function::Txn, String::new(), Some(text), None)
            }
            KvOp::Transfer { from, to, amount } => (
                Function::Transfer,
                format!("{from}->{to}"),
                Some(amount.to_string()),
                None,
            ),
        };
        let process = self.process(client);
        self.bytes += (2 * std::mem::size_of::<Operation>()
            + key.capacity()
            + value.as_ref().map_or(0, String::capacity)
            + expected.as_ref().map_or(0, String::capacity)) as u64;
        self.operations.push(Operation {
            process,
            f,
            key,
            value,
            expected,
            outcome,
            invoke_ns: invoked.as_nanos(),
            complete_ns: complete.map(SimTime::as_nanos),
            gave_up_ns: gave_up.map(SimTime::as_nanos),
        });
    }

    /// Operations still open at the end become `Info`: they may have taken effect.
    pub(crate) fn finish(mut self) -> History {
        for client in 0..self.open.len() {
            if let Some((invoked, op)) = self.open[client].take() {
                self.push(
                    client as u64,
                    invoked,
                    (None, None),
                    Outcome::Info,
                    op,
                    None,
                );
            }
        }
        self.operations.sort_by_key(|op| (op.invoke_ns, op.process));
        History {
            operations: self.operations,
        }
    }
}
