//! The three step services (inventory, payment, shipping) as one type: a
//! step applied or refused once per saga, and compensated at most once,
//! with a durable record of each. Both saga styles drive these same
//! services; only who tells them to act differs.
//!
//! Idempotence: a service remembers every saga's outcome, so a retried or
//! duplicated command returns the remembered outcome instead of acting
//! again. A compensation that arrives before its step (the command was
//! delayed, the orchestrator gave up) leaves a tombstone, so the late
//! step is refused rather than applied with no one left to undo it.

use super::messages::{Order, SagaEvent, SagaId, Step, StepOutcome, StepRecord};
use super::params::SagaParams;
use super::Saga;
use crate::cluster::ServerCtx;
use crate::durable_log::DurableLog;
use rand::Rng;
use std::collections::BTreeMap;
use std::sync::Arc;

const LOG_PREFIX: &str = "saga/step/";

#[derive(Debug)]
pub struct StepService {
    pub step: Step,
    params: Arc<SagaParams>,
    log: DurableLog<StepRecord>,
    outcomes: BTreeMap<SagaId, (StepOutcome, Order)>,
    stock: BTreeMap<u32, i64>,
    credit: BTreeMap<u64, i64>,
    shipments: i64,
}

impl StepService {
    /// Heap bytes held (for the run's memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.log.memory_bytes()
            + crate::heap::map_bytes(&self.outcomes)
            + crate::heap::map_bytes(&self.stock)
            + crate::heap::map_bytes(&self.credit)
    }

    pub fn new(step: Step, params: Arc<SagaParams>) -> Self {
        StepService {
            step,
            params,
            log: DurableLog::new(LOG_PREFIX),
            outcomes: BTreeMap::new(),
            stock: BTreeMap::new(),
            credit: BTreeMap::new(),
            shipments: 0,
        }
    }

    /// Rebuilds state by replaying the log.
    pub fn recover(step: Step, params: Arc<SagaParams>, ctx: &mut ServerCtx<'_, '_, Saga>) -> Self {
        let mut me = StepService::new(step, params);
        me.log = DurableLog::load(LOG_PREFIX, ctx.storage());
        for index in 1..=me.log.last_index() {
            let record = me.log.get(index).expect("in range").clone();
            let (saga, step) = (record.saga, me.step);
            match record.outcome {
                StepOutcome::Applied => {
                    me.effect(&record.order, -1);
                    ctx.emit(SagaEvent::StepRestored {
                        saga,
                        step,
                        compensated: false,
                    });
                }
                StepOutcome::Compensated => {
                    me.effect(&record.order, 1);
                    ctx.emit(SagaEvent::StepRestored {
                        saga,
                        step,
                        compensated: true,
                    });
                }
                StepOutcome::Refused | StepOutcome::Cancelled => {}
            }
            me.outcomes
                .insert(record.saga, (record.outcome, record.order));
        }
        me
    }

    /// Every saga's outcome here, for refilling an outbox after a restart.
    pub fn outcomes(&self) -> impl Iterator<Item = (SagaId, StepOutcome, Order)> + '_ {
        self.outcomes
            .iter()
            .map(|(saga, (outcome, order))| (*saga, *outcome, *order))
    }

    /// What this service last did with `saga`.
    pub fn outcome(&self, saga: SagaId) -> Option<StepOutcome> {
        self.outcomes.get(&saga).map(|(outcome, _)| *outcome)
    }

    pub fn stock(&self, item: u32) -> i64 {
        self.stock
            .get(&item)
            .copied()
            .unwrap_or(self.params.initial_stock)
    }

    fn credit(&self, customer: u64) -> i64 {
        self.credit
            .get(&customer)
            .copied()
            .unwrap_or(self.params.initial_credit)
    }

    fn price(&self, order: &Order) -> i64 {
        self.params.unit_price * order.quantity as i64
    }

    /// Takes (`sign` -1) or gives back (+1) what the step takes.
    fn effect(&mut self, order: &Order, sign: i64) {
        match self.step {
            Step::Reserve => {
                let stock = self.stock(order.item) + sign * order.quantity as i64;
                self.stock.insert(order.item, stock);
            }
            Step::Charge => {
                let credit = self.credit(order.customer) + sign * self.price(order);
                self.credit.insert(order.customer, credit);
            }
            Step::Ship => self.shipments -= sign,
        }
    }

    fn record(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Saga>,
        saga: SagaId,
        order: Order,
        outcome: StepOutcome,
    ) {
        self.log.append(
            ctx.storage(),
            StepRecord {
                saga,
                order,
                outcome,
            },
        );
        ctx.storage().sync();
        self.outcomes.insert(saga, (outcome, order));
    }

    /// Runs the step for `saga` once; true if it is (or was) applied.
    pub fn perform(
        &mut self,
        ctx: &mut ServerCtx<'_, '_, Saga>,
        saga: SagaId,
        order: Order,
    ) -> bool {
        if !self.params.no_dedup {
            if let Some((outcome, _)) = self.outcomes.get(&saga) {
                return matches!(outcome, StepOutcome::Applied | StepOutcome::Compensated);
            }
        }
        let ok = match self.step {
            Step::Reserve => self.stock(order.item) >= order.quantity as i64,
            Step::Charge => self.credit(order.customer) >= self.price(&order),
            Step::Ship => !ctx
                .rng()
                .random_bool(self.params.shipping_failure_probability),
        };
        let step = self.step;
        if ok {
            self.record(ctx, saga, order, StepOutcome::Applied);
            self.effect(&order, -1);
            // Counted once durable: a power loss may take the record back.
            ctx.emit_when_durable(SagaEvent::StepApplied { saga, step });
        } else {
            self.record(ctx, saga, order, StepOutcome::Refused);
            ctx.emit(SagaEvent::StepRefused { saga, step });
        }
        ok
    }

    /// Compensates the step for `saga` if it was applied, once; if it never
    /// ran, makes sure it never will.
    pub fn compensate(&mut self, ctx: &mut ServerCtx<'_, '_, Saga>, saga: SagaId, order: Order) {
        match self.outcomes.get(&saga).map(|(outcome, _)| *outcome) {
            Some(StepOutcome::Applied) => {
                let applied = self.outcomes[&saga].1;
                self.record(ctx, saga, applied, StepOutcome::Compensated);
                self.effect(&applied, 1);
                let step = self.step;
                ctx.emit_when_durable(SagaEvent::Compensated { saga, step });
            }
            None => self.record(ctx, saga, order, StepOutcome::Cancelled),
            Some(StepOutcome::Refused | StepOutcome::Compensated | StepOutcome::Cancelled) => {}
        }
    }

    /// Serves a reader: the stock of `item` (inventory only).
    pub fn read_stock(&self, ctx: &mut ServerCtx<'_, '_, Saga>, item: u32) -> i64 {
        debug_assert_eq!(self.step, Step::Reserve, "only the inventory holds stock");
        ctx.emit(SagaEvent::ReadServed { item });
        self.stock(item)
    }
}
