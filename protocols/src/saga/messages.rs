//! What saga servers say to each other, their timers, durable records and
//! the events they report to the monitor.

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

/// A saga, numbered by the order service from 1.
pub type SagaId = u64;

/// The order service (orchestrator or choreography's entry point).
pub const ORDERS: NodeId = NodeId(0);

/// The forward steps of an order, in order. Each has a compensation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Step {
    /// Inventory: take `quantity` of the item from stock. Undo: put it back.
    Reserve,
    /// Payment: take the price from the customer's credit. Undo: refund.
    Charge,
    /// Shipping: book a shipment. Undo: cancel it.
    Ship,
}

impl Step {
    pub const ALL: [Step; 3] = [Step::Reserve, Step::Charge, Step::Ship];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The server that runs this step.
    pub fn service(self) -> NodeId {
        NodeId(1 + self as u32)
    }

    /// The step a server runs, if it is a step service.
    pub fn of(node: NodeId) -> Option<Step> {
        Step::ALL.get((node.0 as usize).checked_sub(1)?).copied()
    }

    pub fn next(self) -> Option<Step> {
        Step::ALL.get(self.index() + 1).copied()
    }

    pub fn previous(self) -> Option<Step> {
        self.index().checked_sub(1).map(|i| Step::ALL[i])
    }
}

/// What one order asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Order {
    /// The client that placed it.
    pub customer: u64,
    pub item: u32,
    pub quantity: u64,
}

/// Choreography's events: what a service did, told to the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Happened {
    OrderPlaced,
    Reserved,
    ReserveFailed,
    Charged,
    PaymentFailed,
    Shipped,
    ShippingFailed,
    Refunded,
    Released,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SagaMessage {
    /// Orchestrator -> service: run your step.
    Do {
        saga: SagaId,
        step: Step,
        order: Order,
    },
    /// The step's outcome: applied, or refused for a business reason.
    Done {
        saga: SagaId,
        step: Step,
        ok: bool,
    },
    /// Orchestrator -> service: compensate your step (or make sure it
    /// never happens, if it has not).
    Undo {
        saga: SagaId,
        step: Step,
        order: Order,
    },
    Undone {
        saga: SagaId,
        step: Step,
    },
    /// Choreography: `happened` in saga `saga`.
    Event {
        saga: SagaId,
        happened: Happened,
        order: Order,
    },
    EventAck {
        saga: SagaId,
        happened: Happened,
    },
}

impl SagaMessage {
    pub fn saga(&self) -> SagaId {
        match self {
            SagaMessage::Do { saga, .. }
            | SagaMessage::Done { saga, .. }
            | SagaMessage::Undo { saga, .. }
            | SagaMessage::Undone { saga, .. }
            | SagaMessage::Event { saga, .. }
            | SagaMessage::EventAck { saga, .. } => *saga,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SagaTimer {
    /// Resend everything unacknowledged.
    Retry,
    /// Orchestration: the answer for this step of this saga is overdue.
    StepDeadline { saga: SagaId, step: Step },
}

/// What a step service did with one saga's step, durably.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepOutcome {
    Applied,
    /// Refused for a business reason (no stock, no credit, no carrier).
    Refused,
    /// Applied, then compensated.
    Compensated,
    /// Compensation came first: the step never ran and never will.
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub saga: SagaId,
    pub order: Order,
    pub outcome: StepOutcome,
}

/// The order service's durable log (both styles).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderRecord {
    Begin {
        saga: SagaId,
        client: u64,
        seq: u64,
        order: Order,
    },
    /// Orchestration: a step succeeded.
    StepOk {
        saga: SagaId,
        step: Step,
    },
    /// Orchestration: the saga turns back; these steps get compensated,
    /// in this order.
    Compensate {
        saga: SagaId,
        undo: Vec<Step>,
    },
    /// Orchestration: one compensation acknowledged.
    Undone {
        saga: SagaId,
        step: Step,
    },
    End {
        saga: SagaId,
        completed: bool,
    },
}

/// What servers report to the monitor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SagaEvent {
    /// A server started, or restarted.
    Started,
    Begun {
        saga: SagaId,
        item: u32,
    },
    StepApplied {
        saga: SagaId,
        step: Step,
    },
    StepRefused {
        saga: SagaId,
        step: Step,
    },
    Compensated {
        saga: SagaId,
        step: Step,
    },
    /// A restarted step service found this step's outcome for `saga` on its
    /// disk: applied, and `compensated` too if so. The event that first
    /// reported it waited for the record's sync, and a crash as the sync
    /// completed may have lost it; the monitor takes this as a repeat.
    StepRestored {
        saga: SagaId,
        step: Step,
        compensated: bool,
    },
    Ended {
        saga: SagaId,
        completed: bool,
    },
    /// The inventory answered a reader's stock query for `item`.
    ReadServed {
        item: u32,
    },
    Sent {
        saga: SagaId,
    },
}
