//! Orchestration: a durable orchestrator runs each order's saga. It sends
//! the next step's command (resending until answered), and when a step is
//! refused or gives no answer within `step_timeout` it turns back and
//! compensates every step that may have happened, last first. Every
//! decision is logged before it is acted on, so a restarted orchestrator
//! resumes each saga where it was.

use super::admission::{Admission, Admitted};
use super::messages::{Order, OrderRecord, SagaEvent, SagaId, SagaMessage, SagaTimer, Step};
use super::outbox::Outbox;
use super::params::SagaParams;
use super::{arm_retry, reply_outcome, send, Saga};
use crate::client::ClientRequest;
use crate::cluster::ServerCtx;
use crate::durable_log::DurableLog;
use sim_core::{NodeId, TimerId};
use std::collections::BTreeMap;
use std::sync::Arc;

const LOG_PREFIX: &str = "saga/orders/";

type Ctx<'c, 'a, 'b> = &'c mut ServerCtx<'a, 'b, Saga>;

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// Waiting for this step's answer.
    Forward(Step),
    /// Compensating these steps, first one first.
    Backward(Vec<Step>),
    Ended {
        completed: bool,
    },
}

#[derive(Debug)]
struct Run {
    order: Order,
    phase: Phase,
    waiting: Option<(NodeId, ClientRequest)>,
    deadline: Option<TimerId>,
}

#[derive(Debug)]
pub struct Orchestrator {
    params: Arc<SagaParams>,
    log: DurableLog<OrderRecord>,
    runs: BTreeMap<SagaId, Run>,
    admission: Admission,
    /// One outstanding command per saga.
    pub outbox: Outbox<SagaId, SagaMessage>,
}

impl Orchestrator {
    /// Heap bytes held (for the run's memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.log.memory_bytes()
            + crate::heap::map_bytes(&self.runs)
            + self.admission.heap_bytes()
            + self.outbox.heap_bytes()
    }

    pub fn new(params: Arc<SagaParams>) -> Self {
        Orchestrator {
            log: DurableLog::new(LOG_PREFIX),
            runs: BTreeMap::new(),
            admission: Admission::new(),
            outbox: Outbox::new(params.retry_interval.0),
            params,
        }
    }

    pub fn recover(params: Arc<SagaParams>, ctx: Ctx) -> Self {
        let mut me = Orchestrator::new(params);
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
                    me.runs.insert(
                        saga,
                        Run {
                            order,
                            phase: Phase::Forward(Step::Reserve),
                            waiting: None,
                            deadline: None,
                        },
                    );
                }
                OrderRecord::StepOk { saga, step } => {
                    if let Some(next) = step.next() {
                        me.run_mut(saga).phase = Phase::Forward(next);
                    }
                }
                OrderRecord::Compensate { saga, undo } => {
                    me.run_mut(saga).phase = Phase::Backward(undo)
                }
                OrderRecord::Undone { saga, step } => {
                    if let Phase::Backward(undo) = &mut me.run_mut(saga).phase {
                        undo.retain(|s| *s != step);
                    }
                }
                OrderRecord::End { saga, completed } => {
                    ctx.emit(SagaEvent::Ended { saga, completed });
                    me.run_mut(saga).phase = Phase::Ended { completed }
                }
            }
        }
        let open: Vec<SagaId> = me
            .runs
            .iter()
            .filter(|(_, r)| !matches!(r.phase, Phase::Ended { .. }))
            .map(|(s, _)| *s)
            .collect();
        for saga in open {
            me.act(ctx, saga);
        }
        me
    }

    fn run_mut(&mut self, saga: SagaId) -> &mut Run {
        self.runs
            .get_mut(&saga)
            .expect("the log names a saga after its Begin")
    }

    pub fn on_order(&mut self, ctx: Ctx, client: NodeId, request: ClientRequest, order: Order) {
        let saga = match self.admission.admit(ctx, &mut self.log, &request, order) {
            Admitted::Known(saga) => {
                let run = self
                    .runs
                    .get_mut(&saga)
                    .expect("admission names known sagas");
                match run.phase {
                    Phase::Ended { completed } => reply_outcome(ctx, client, &request, completed),
                    _ => run.waiting = Some((client, request)),
                }
                return;
            }
            Admitted::Stale => return,
            Admitted::New(saga) => saga,
        };
        self.runs.insert(
            saga,
            Run {
                order,
                phase: Phase::Forward(Step::Reserve),
                waiting: Some((client, request)),
                deadline: None,
            },
        );
        self.act(ctx, saga);
    }

    /// Sends what the saga's phase calls for.
    fn act(&mut self, ctx: Ctx, saga: SagaId) {
        let run = self.runs.get_mut(&saga).expect("acting on a known saga");
        let order = run.order;
        let message = match &run.phase {
            Phase::Forward(step) => {
                let step = *step;
                let timer = ctx.set_timer(
                    self.params.step_timeout.0,
                    SagaTimer::StepDeadline { saga, step },
                );
                if let Some(old) = run.deadline.replace(timer) {
                    ctx.cancel_timer(old);
                }
                SagaMessage::Do { saga, step, order }
            }
            Phase::Backward(undo) => match undo.first() {
                Some(&step) => SagaMessage::Undo { saga, step, order },
                None => return self.end(ctx, saga, false),
            },
            Phase::Ended { .. } => return,
        };
        let to = match &message {
            SagaMessage::Do { step, .. } | SagaMessage::Undo { step, .. } => step.service(),
            _ => unreachable!("only commands are sent here"),
        };
        self.outbox.put(saga, to, message.clone());
        send(ctx, to, message);
        arm_retry(ctx, &mut self.outbox);
    }

    fn end(&mut self, ctx: Ctx, saga: SagaId, completed: bool) {
        self.log
            .append(ctx.storage(), OrderRecord::End { saga, completed });
        ctx.storage().sync();
        self.outbox.ack(&saga);
        let run = self.run_mut(saga);
        run.phase = Phase::Ended { completed };
        let waiting = run.waiting.take();
        if let Some(timer) = run.deadline.take() {
            ctx.cancel_timer(timer);
        }
        ctx.emit_when_durable(SagaEvent::Ended { saga, completed });
        if let Some((client, request)) = waiting {
            reply_outcome(ctx, client, &request, completed);
        }
    }

    /// Turns back: compensates `undo`, first one first.
    fn turn_back(&mut self, ctx: Ctx, saga: SagaId, mut undo: Vec<Step>) {
        if self.params.skip_refund {
            // The bug: the payment step "needs no compensation".
            undo.retain(|s| *s != Step::Charge);
        }
        self.log.append(
            ctx.storage(),
            OrderRecord::Compensate {
                saga,
                undo: undo.clone(),
            },
        );
        ctx.storage().sync();
        let run = self.run_mut(saga);
        run.phase = Phase::Backward(undo);
        if let Some(timer) = run.deadline.take() {
            ctx.cancel_timer(timer);
        }
        self.act(ctx, saga);
    }

    pub fn on_message(&mut self, ctx: Ctx, message: SagaMessage) {
        match message {
            SagaMessage::Done { saga, step, ok } => {
                let Some(run) = self.runs.get(&saga) else {
                    return;
                };
                if run.phase != Phase::Forward(step) {
                    return; // A late or duplicated answer.
                }
                if !ok {
                    // The refused step did nothing; undo those before it.
                    let undo: Vec<Step> = Step::ALL[..step.index()].iter().rev().copied().collect();
                    return self.turn_back(ctx, saga, undo);
                }
                self.log
                    .append(ctx.storage(), OrderRecord::StepOk { saga, step });
                ctx.storage().sync();
                match step.next() {
                    Some(next) => {
                        self.run_mut(saga).phase = Phase::Forward(next);
                        self.act(ctx, saga);
                    }
                    None => self.end(ctx, saga, true),
                }
            }
            SagaMessage::Undone { saga, step } => {
                let Some(run) = self.runs.get(&saga) else {
                    return;
                };
                let Phase::Backward(undo) = &run.phase else {
                    return;
                };
                if undo.first() != Some(&step) {
                    return;
                }
                self.log
                    .append(ctx.storage(), OrderRecord::Undone { saga, step });
                ctx.storage().sync();
                if let Phase::Backward(undo) = &mut self.run_mut(saga).phase {
                    undo.remove(0);
                }
                self.act(ctx, saga);
            }
            // Commands and choreography are not for the orchestrator.
            _ => {}
        }
    }

    pub fn on_deadline(&mut self, ctx: Ctx, saga: SagaId, step: Step) {
        let Some(run) = self.runs.get_mut(&saga) else {
            return;
        };
        if run.phase != Phase::Forward(step) {
            return;
        }
        run.deadline = None;
        // The step may or may not have happened: compensate it too (a
        // service that never ran it leaves a tombstone instead).
        let undo: Vec<Step> = Step::ALL[..=step.index()].iter().rev().copied().collect();
        self.turn_back(ctx, saga, undo);
    }
}
