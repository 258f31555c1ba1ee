//! An event-sourced counter actor over a ddata journal, in kameo.
//!
//! `on_start` recovers the state from the latest snapshot plus the events
//! after it; `Add` persists the event (with the state after it, which the
//! Full strategy snapshots every `snapshot_every` events and the Light
//! strategy with every event) and only then changes the state, so a failed
//! write (a conflict with another writer, a full disk) leaves the actor
//! exactly as it was; a graceful stop saves a last snapshot, a kill does
//! not (the next start replays the tail after the last periodic snapshot).
use std::sync::Arc;

use ddata::{Journal, PersistStrategy};
use ddata_actor_example_support::PersistentCounter;
use kameo::prelude::*;

/// Add `n`; replies with the new total, or the persistence error.
pub struct Add(pub i64);
/// (total, last sequence number).
pub struct GetTotal;
/// How this start recovered: (snapshot seq if any, events replayed).
pub struct Recovered;

pub struct CounterArgs {
    pub journal: Arc<Journal>,
    pub pid: String,
    pub strategy: PersistStrategy,
}

pub struct CounterActor {
    counter: PersistentCounter,
    strategy: PersistStrategy,
}

impl Actor for CounterActor {
    type Args = CounterArgs;
    type Error = ddata::Error;

    async fn on_start(args: CounterArgs, _: ActorRef<Self>) -> Result<Self, ddata::Error> {
        Ok(CounterActor {
            counter: PersistentCounter::recover(args.journal, args.pid)?,
            strategy: args.strategy,
        })
    }

    async fn on_stop(&mut self, _: WeakActorRef<Self>, reason: ActorStopReason) -> Result<(), ddata::Error> {
        if matches!(reason, ActorStopReason::Normal) {
            self.counter.save_snapshot()?;
        }
        Ok(())
    }
}

impl Message<Add> for CounterActor {
    type Reply = ddata::Result<i64>;
    async fn handle(&mut self, Add(n): Add, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.counter.add(n, self.strategy)
    }
}

impl Message<GetTotal> for CounterActor {
    type Reply = (i64, u64);
    async fn handle(&mut self, _: GetTotal, _: &mut Context<Self, Self::Reply>) -> (i64, u64) {
        self.counter.total()
    }
}

impl Message<Recovered> for CounterActor {
    type Reply = (Option<u64>, u64);
    async fn handle(&mut self, _: Recovered, _: &mut Context<Self, Self::Reply>) -> (Option<u64>, u64) {
        self.counter.recovered()
    }
}
