//! Choreography: no one runs the saga. The order service announces an
//! order; each service reacts to the previous one's event and announces
//! its own: OrderPlaced -> inventory reserves -> Reserved -> payment
//! charges -> Charged -> shipping ships -> Shipped. A refusal flows back
//! the way it came, each service compensating its own step:
//! ShippingFailed -> payment refunds -> Refunded -> inventory releases ->
//! Released -> the order service records the abort.
//!
//! Every event is acknowledged and resent until it is (the outbox), and
//! every receiver deduplicates by (saga, event), through the step
//! service's remembered outcomes.

use super::admission::{Admission, Admitted};
use super::messages::{
    Happened, Order, OrderRecord, SagaEvent, SagaId, SagaMessage, Step, StepOutcome, ORDERS,
};
use super::outbox::Outbox;
use super::params::SagaParams;
use super::steps::StepService;
use super::{arm_retry, reply_outcome, send, Saga};
use crate::client::ClientRequest;
use crate::cluster::ServerCtx;
use crate::durable_log::DurableLog;
use sim_core::NodeId;
use std::collections::BTreeMap;
use std::sync::Arc;

const LOG_PREFIX: &str = "saga/orders/";

type Ctx<'c, 'a, 'b> = &'c mut ServerCtx<'a, 'b, Saga>;
pub type EventOutbox = Outbox<(SagaId, Happened), SagaMessage>;

/// Puts an event in the outbox and sends it now.
fn post(
    ctx: Ctx,
    outbox: &mut EventOutbox,
    to: NodeId,
    saga: SagaId,
    happened: Happened,
    order: Order,
) {
    let message = SagaMessage::Event {
        saga,
        happened,
        order,
    };
    outbox.put((saga, happened), to, message.clone());
    send(ctx, to, message);
    arm_retry(ctx, outbox);
}

/// The event a step service announces once its step has this outcome.
fn announcement(step: Step, outcome: StepOutcome) -> Option<(Happened, NodeId)> {
    let inventory = Step::Reserve.service();
    let payment = Step::Charge.service();
    let shipping = Step::Ship.service();
    match (step, outcome) {
        (Step::Reserve, StepOutcome::Applied) => Some((Happened::Reserved, payment)),
        (Step::Reserve, StepOutcome::Refused) => Some((Happened::ReserveFailed, ORDERS)),
        (Step::Reserve, StepOutcome::Compensated) => Some((Happened::Released, ORDERS)),
        (Step::Charge, StepOutcome::Applied) => Some((Happened::Charged, shipping)),
        (Step::Charge, StepOutcome::Refused) => Some((Happened::PaymentFailed, inventory)),
        (Step::Charge, StepOutcome::Compensated) => Some((Happened::Refunded, inventory)),
        (Step::Ship, StepOutcome::Applied) => Some((Happened::Shipped, ORDERS)),
        (Step::Ship, StepOutcome::Refused) => Some((Happened::ShippingFailed, payment)),
        // Shipments are never cancelled here, and nothing is ever
        // cancelled before it runs: events arrive in saga order.
        (_, StepOutcome::Cancelled) | (Step::Ship, StepOutcome::Compensated) => None,
    }
}

/// A step service in a choreographed saga.
#[derive(Debug)]
pub struct Dancer {
    pub service: StepService,
    pub outbox: EventOutbox,
    params: Arc<SagaParams>,
}

impl Dancer {
    /// Heap bytes held (for the run's memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.service.heap_bytes() + self.outbox.heap_bytes()
    }

    pub fn new(service: StepService, params: Arc<SagaParams>) -> Self {
        Dancer {
            service,
            outbox: Outbox::new(params.retry_interval.0),
            params,
        }
    }

    /// After a restart: announce again every outcome (receivers deduplicate).
    pub fn recover(service: StepService, params: Arc<SagaParams>, ctx: Ctx) -> Self {
        let mut me = Dancer::new(service, params);
        let step = me.service.step;
        let outcomes: Vec<_> = me.service.outcomes().collect();
        for (saga, outcome, order) in outcomes {
            if let Some((happened, to)) = announcement(step, outcome) {
                post(ctx, &mut me.outbox, to, saga, happened, order);
            }
        }
        me
    }

    pub fn on_event(
        &mut self,
        ctx: Ctx,
        from: NodeId,
        saga: SagaId,
        happened: Happened,
        order: Order,
    ) {
        // The acknowledgement goes after the step's record (it waits for
        // that record's sync, like everything `send` sends): acknowledged
        // first, an event whose effect a power loss then took back would
        // never be sent again, and its saga would stall half done.
        let ack = SagaMessage::EventAck { saga, happened };
        let step = self.service.step;
        match (step, happened) {
            (Step::Reserve, Happened::OrderPlaced)
            | (Step::Charge, Happened::Reserved)
            | (Step::Ship, Happened::Charged) => {
                self.service.perform(ctx, saga, order);
            }
            (Step::Charge, Happened::ShippingFailed) if self.params.skip_refund => {
                // The bug: announce the refund without making it.
                send(ctx, from, ack);
                let inventory = Step::Reserve.service();
                return post(
                    ctx,
                    &mut self.outbox,
                    inventory,
                    saga,
                    Happened::Refunded,
                    order,
                );
            }
            (Step::Reserve, Happened::PaymentFailed | Happened::Refunded)
            | (Step::Charge, Happened::ShippingFailed) => self.service.compensate(ctx, saga, order),
            (step, happened) => unreachable!("{step:?} is never told {happened:?}"),
        }
        send(ctx, from, ack);
        // Announce where the saga stands here now. For a duplicate that is
        // what was announced before (or later: a late OrderPlaced after
        // the release re-announces the release, not the reservation).
        let outcome = self.service.outcome(saga).expect("acted on just now");
        if let Some((happened, to)) = announcement(step, outcome) {
            post(ctx, &mut self.outbox, to, saga, happened, order);
        }
    }
}

#[derive(Debug)]
struct Placed {
    order: Order,
    ended: Option<bool>,
    waiting: Option<(NodeId, ClientRequest)>,
}

/// The order service in a choreographed saga: it starts sagas and hears
/// how they end.
#[derive(Debug)]
pub struct OrderService {
    log: DurableLog<OrderRecord>,
    placed: BTreeMap<SagaId, Placed>,
    admission: Admission,
    pub outbox: EventOutbox,
}

impl OrderService {
    /// Heap bytes held (for the run's memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.log.memory_bytes()
            + crate::heap::map_bytes(&self.placed)
            + self.admission.heap_bytes()
            + self.outbox.heap_bytes()
    }

    pub fn new(params: &SagaParams) -> Self {
        OrderService {
            log: DurableLog::new(LOG_PREFIX),
            placed: BTreeMap::new(),
            admission: Admission::new(),
            outbox: Outbox::new(params.retry_interval.0),
        }
    }

    pub fn recover(params: &SagaParams, ctx: Ctx) -> Self {
        let mut me = OrderService::new(params);
        me.log = DurableLog::load(LOG_PREFIX, ctx.storage());
        for index in 1..=me.log.last_index() {
            match me.log.get(index).expect("in range").clone() {
                OrderRecord::Begin {
                    saga,
                    client,
                    seq,
                    order,
                } => {
                    me.admission.replay_begin(saga, client, seq);
                    // Announced again: the first announcement waited for
                    // this record's sync, and the crash may have lost it.
                    ctx.emit(SagaEvent::Begun {
                        saga,
                        item: order.item,
                    });
                    me.placed.insert(
                        saga,
                        Placed {
                            order,
                            ended: None,
                            waiting: None,
                        },
                    );
                }
                OrderRecord::End { saga, completed } => {
                    ctx.emit(SagaEvent::Ended { saga, completed });
                    me.placed.get_mut(&saga).expect("End follows Begin").ended = Some(completed)
                }
                other => unreachable!("choreography logs no {other:?}"),
            }
        }
        let open: Vec<(SagaId, Order)> = me
            .placed
            .iter()
            .filter(|(_, p)| p.ended.is_none())
            .map(|(s, p)| (*s, p.order))
            .collect();
        for (saga, order) in open {
            post(
                ctx,
                &mut me.outbox,
                Step::Reserve.service(),
                saga,
                Happened::OrderPlaced,
                order,
            );
        }
        me
    }

    pub fn on_order(&mut self, ctx: Ctx, client: NodeId, request: ClientRequest, order: Order) {
        let saga = match self.admission.admit(ctx, &mut self.log, &request, order) {
            Admitted::Known(saga) => {
                let placed = self
                    .placed
                    .get_mut(&saga)
                    .expect("admission names known sagas");
                match placed.ended {
                    Some(completed) => reply_outcome(ctx, client, &request, completed),
                    None => placed.waiting = Some((client, request)),
                }
                return;
            }
            Admitted::Stale => return,
            Admitted::New(saga) => saga,
        };
        self.placed.insert(
            saga,
            Placed {
                order,
                ended: None,
                waiting: Some((client, request)),
            },
        );
        post(
            ctx,
            &mut self.outbox,
            Step::Reserve.service(),
            saga,
            Happened::OrderPlaced,
            order,
        );
    }

    pub fn on_event(&mut self, ctx: Ctx, from: NodeId, saga: SagaId, happened: Happened) {
        let completed = match happened {
            Happened::Shipped => true,
            Happened::ReserveFailed | Happened::Released => false,
            other => unreachable!("the order service is never told {other:?}"),
        };
        // Acknowledged after the end is recorded (see `Dancer::on_event`).
        let ack = SagaMessage::EventAck { saga, happened };
        let Some(placed) = self.placed.get_mut(&saga) else {
            return send(ctx, from, ack);
        };
        if placed.ended.is_some() {
            return send(ctx, from, ack);
        }
        placed.ended = Some(completed);
        let waiting = placed.waiting.take();
        self.log
            .append(ctx.storage(), OrderRecord::End { saga, completed });
        ctx.storage().sync();
        self.outbox.ack(&(saga, Happened::OrderPlaced));
        ctx.emit_when_durable(SagaEvent::Ended { saga, completed });
        send(ctx, from, ack);
        if let Some((client, request)) = waiting {
            reply_outcome(ctx, client, &request, completed);
        }
    }
}
