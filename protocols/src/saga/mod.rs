//! Sagas: an order as a chain of local transactions, each with a
//! compensating action, instead of one atomic commit. Reserve inventory ->
//! charge payment -> schedule shipping; if a step is refused, the steps
//! before it are compensated (release the stock, refund the charge).
//!
//! Servers: 0 is the order service (the orchestrator under
//! orchestration), 1 inventory, 2 payment, 3 shipping. Clients send
//! orders to the order service and stock reads to the inventory; other
//! servers point them there. An order's client is its customer.
//!
//! Sagas give up isolation: between a step and its compensation, others
//! see the step's effect. The monitor counts how often a reader's stock
//! query lands in such a window.

pub mod admission;
pub mod choreography;
pub mod messages;
pub mod monitor;
#[cfg(test)]
mod monitor_test;
pub mod orchestrator;
#[cfg(test)]
mod orchestrator_test;
pub mod outbox;
pub mod params;
pub mod plugin;
pub mod steps;
#[cfg(test)]
mod steps_test;

use crate::client::{ClientReply, ClientRequest};
use crate::cluster::{ServerCtx, Service};
use crate::kv::{key_index, KvOp, KvResult};
use choreography::{Dancer, OrderService};
use messages::{Order, SagaEvent, SagaMessage, SagaTimer, Step, ORDERS};
use orchestrator::Orchestrator;
use params::{SagaParams, SagaStyle};
use sim_core::{NodeId, TimerId};
use std::sync::Arc;
use steps::StepService;

#[derive(Debug)]
enum Role {
    /// Before `on_start`: the role depends on the server's id.
    Unborn,
    Orchestrator(Orchestrator),
    OrderService(OrderService),
    /// A step service answering an orchestrator's commands.
    Commanded(StepService),
    /// A step service in a choreography.
    Dancer(Dancer),
}

/// One server of a saga cluster.
#[derive(Debug)]
pub struct Saga {
    params: Arc<SagaParams>,
    role: Role,
}

impl Saga {
    pub fn new(params: Arc<SagaParams>) -> Self {
        Saga {
            params,
            role: Role::Unborn,
        }
    }

    fn boot(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, recovering: bool) {
        ctx.emit(SagaEvent::Started);
        let params = self.params.clone();
        let id = ctx.id();
        self.role = match (Step::of(id), params.style) {
            (None, SagaStyle::Orchestration) if recovering => {
                Role::Orchestrator(Orchestrator::recover(params, ctx))
            }
            (None, SagaStyle::Orchestration) => Role::Orchestrator(Orchestrator::new(params)),
            (None, SagaStyle::Choreography) if recovering => {
                Role::OrderService(OrderService::recover(&params, ctx))
            }
            (None, SagaStyle::Choreography) => Role::OrderService(OrderService::new(&params)),
            (Some(step), style) => {
                let service = if recovering {
                    StepService::recover(step, params.clone(), ctx)
                } else {
                    StepService::new(step, params.clone())
                };
                match style {
                    SagaStyle::Orchestration => Role::Commanded(service),
                    SagaStyle::Choreography if recovering => {
                        Role::Dancer(Dancer::recover(service, params, ctx))
                    }
                    SagaStyle::Choreography => Role::Dancer(Dancer::new(service, params)),
                }
            }
        };
        debug_assert!(id.index() < params::SAGA_SERVERS, "validated: four servers");
    }
}

/// Sends `message` once every write so far is durable, counting it for
/// the monitor's per-saga counts. Every saga message follows the record it
/// reports (a step's outcome, the order's progress), so all of them wait.
fn send(ctx: &mut ServerCtx<'_, '_, Saga>, to: NodeId, message: SagaMessage) {
    ctx.emit(SagaEvent::Sent {
        saga: message.saga(),
    });
    ctx.send_when_durable(to, message);
}

/// Sets the outbox's retry timer unless one is set.
fn arm_retry<K: Ord, M: Clone>(
    ctx: &mut ServerCtx<'_, '_, Saga>,
    outbox: &mut outbox::Outbox<K, M>,
) {
    if !outbox.armed && !outbox.is_empty() {
        outbox.armed = true;
        ctx.set_timer(outbox.retry_interval, SagaTimer::Retry);
    }
}

/// The retry timer fired: resend everything unacknowledged.
fn retry<K: Ord, M: Clone>(
    ctx: &mut ServerCtx<'_, '_, Saga>,
    outbox: &mut outbox::Outbox<K, M>,
    wrap: impl Fn(M) -> SagaMessage,
) {
    outbox.armed = false;
    for (to, message) in outbox.pending() {
        send(ctx, to, wrap(message));
    }
    arm_retry(ctx, outbox);
}

/// Answers a client: a completed saga is `Done`, a compensated one `Aborted`.
fn reply_outcome(
    ctx: &mut ServerCtx<'_, '_, Saga>,
    client: NodeId,
    request: &ClientRequest,
    completed: bool,
) {
    let result = if completed {
        KvResult::Done
    } else {
        KvResult::Aborted
    };
    ctx.reply_when_durable(client, request.answer(ClientReply::Result(result)));
}

impl Service for Saga {
    fn state_heap_bytes(&self) -> usize {
        match &self.role {
            Role::Unborn => 0,
            Role::Orchestrator(o) => o.heap_bytes(),
            Role::OrderService(o) => o.heap_bytes(),
            Role::Commanded(s) => s.heap_bytes(),
            Role::Dancer(d) => d.heap_bytes(),
        }
    }

    type Message = SagaMessage;
    type Timer = SagaTimer;
    type Event = SagaEvent;
    type Monitor = monitor::SagaMonitor;

    fn on_start(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.boot(ctx, false);
    }

    fn on_recover(&mut self, ctx: &mut ServerCtx<'_, '_, Self>) {
        self.boot(ctx, true);
    }

    fn on_message(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        from: NodeId,
        message: SagaMessage,
    ) {
        match (&mut self.role, message) {
            (Role::Orchestrator(o), message) => o.on_message(ctx, message),
            (Role::Commanded(service), SagaMessage::Do { saga, step, order }) => {
                debug_assert_eq!(step, service.step, "commands go to their step's service");
                let ok = service.perform(ctx, saga, order);
                send(ctx, from, SagaMessage::Done { saga, step, ok });
            }
            (Role::Commanded(service), SagaMessage::Undo { saga, step, order }) => {
                service.compensate(ctx, saga, order);
                send(ctx, from, SagaMessage::Undone { saga, step });
            }
            (
                Role::Dancer(d),
                SagaMessage::Event {
                    saga,
                    happened,
                    order,
                },
            ) => d.on_event(ctx, from, saga, happened, order),
            (Role::Dancer(d), SagaMessage::EventAck { saga, happened }) => {
                d.outbox.ack(&(saga, happened))
            }
            (Role::OrderService(o), SagaMessage::Event { saga, happened, .. }) => {
                o.on_event(ctx, from, saga, happened)
            }
            (Role::OrderService(o), SagaMessage::EventAck { saga, happened }) => {
                o.outbox.ack(&(saga, happened))
            }
            (Role::Unborn, _) => unreachable!("a server is started before its first message"),
            (_, message) => unreachable!(
                "{} got {message:?}, which only the other style sends",
                ctx.id()
            ),
        }
    }

    fn on_timer(&mut self, ctx: &mut ServerCtx<'_, '_, Self>, _id: TimerId, timer: SagaTimer) {
        match (&mut self.role, timer) {
            (Role::Orchestrator(o), SagaTimer::Retry) => retry(ctx, &mut o.outbox, |m| m),
            (Role::Orchestrator(o), SagaTimer::StepDeadline { saga, step }) => {
                o.on_deadline(ctx, saga, step)
            }
            (Role::OrderService(o), SagaTimer::Retry) => retry(ctx, &mut o.outbox, |m| m),
            (Role::Dancer(d), SagaTimer::Retry) => retry(ctx, &mut d.outbox, |m| m),
            (role, timer) => unreachable!("{timer:?} is never set on {role:?}"),
        }
    }

    fn on_client_request(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Self>,
        client: NodeId,
        request: ClientRequest,
    ) {
        let inventory = Step::Reserve.service();
        match (&mut self.role, &request.op) {
            (Role::Orchestrator(_) | Role::OrderService(_), KvOp::Order { item, quantity }) => {
                let order = Order {
                    customer: u64::from(request.client),
                    item: key_index(item),
                    quantity: *quantity,
                };
                match &mut self.role {
                    Role::Orchestrator(o) => o.on_order(ctx, client, request, order),
                    Role::OrderService(o) => o.on_order(ctx, client, request, order),
                    _ => unreachable!("matched above"),
                }
            }
            (Role::Commanded(s) | Role::Dancer(Dancer { service: s, .. }), KvOp::Get { key })
                if ctx.id() == inventory =>
            {
                let stock = s.read_stock(ctx, key_index(key));
                ctx.reply(
                    client,
                    request.answer(ClientReply::Result(KvResult::Value(stock.to_string()))),
                );
            }
            (_, KvOp::Order { .. }) => ctx.reply(
                client,
                request.answer(ClientReply::NotLeader { hint: Some(ORDERS) }),
            ),
            (_, KvOp::Get { .. }) => ctx.reply(
                client,
                request.answer(ClientReply::NotLeader {
                    hint: Some(inventory),
                }),
            ),
            // Validation allows only orders and reads.
            _ => ctx.reply(client, request.answer(ClientReply::Unavailable)),
        }
    }

    /// The order service is the "leader", so a fault can name `@leader`.
    fn leader_term(&self) -> Option<u64> {
        matches!(self.role, Role::Orchestrator(_) | Role::OrderService(_)).then_some(1)
    }
}
