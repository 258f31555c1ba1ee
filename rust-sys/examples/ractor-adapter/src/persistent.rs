//! An event-sourced counter actor over a ddata journal.
//!
//! `pre_start` recovers the state from the latest snapshot plus the events
//! after it; `Add` persists the event (with the state after it, which the
//! Full strategy snapshots every `snapshot_every` events) and only then
//! changes the state, so a failed write (a conflict with another writer, a
//! full disk) leaves the actor exactly as it was; `post_stop` saves a
//! snapshot so the next start replays nothing.
use std::sync::Arc;

use ddata::{Journal, PersistStrategy};
use ddata_actor_example_support::PersistentCounter;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

pub enum CounterMsg {
    /// Add `n`; replies with the new total, or the persistence error.
    Add(i64, RpcReplyPort<ddata::Result<i64>>),
    Get(RpcReplyPort<(i64, u64)>),
}

pub struct CounterArgs {
    pub journal: Arc<Journal>,
    pub pid: String,
    pub snapshot_every: u64,
}

pub struct CounterState {
    counter: PersistentCounter,
    snapshot_every: u64,
    /// How this start recovered: (snapshot seq if any, events replayed).
    pub recovered: (Option<u64>, u64),
}

pub struct CounterActor;

impl Actor for CounterActor {
    type Msg = CounterMsg;
    type State = CounterState;
    type Arguments = CounterArgs;

    async fn pre_start(
        &self,
        _: ActorRef<CounterMsg>,
        args: CounterArgs,
    ) -> Result<CounterState, ActorProcessingErr> {
        let counter = PersistentCounter::recover(args.journal, args.pid)?;
        Ok(CounterState {
            recovered: counter.recovered(),
            counter,
            snapshot_every: args.snapshot_every,
        })
    }

    async fn handle(
        &self,
        _: ActorRef<CounterMsg>,
        msg: CounterMsg,
        state: &mut CounterState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            CounterMsg::Add(n, reply) => {
                let strategy = PersistStrategy::Full {
                    snapshot_every: state.snapshot_every,
                    compact: false,
                };
                // An error leaves the counter as it was: nothing to roll back.
                let _ = reply.send(state.counter.add(n, strategy));
            }
            CounterMsg::Get(reply) => {
                let _ = reply.send(state.counter.total());
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _: ActorRef<CounterMsg>,
        state: &mut CounterState,
    ) -> Result<(), ActorProcessingErr> {
        state.counter.save_snapshot()?;
        Ok(())
    }
}
