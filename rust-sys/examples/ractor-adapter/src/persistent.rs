//! An event-sourced counter actor over a ddata journal.
//!
//! `pre_start` recovers the state from the latest snapshot plus the events
//! after it; `Add` persists the event (with the state after it, which the
//! Full strategy snapshots every `snapshot_every` events) and only then
//! changes the state, so a failed write (a conflict with another writer, a
//! full disk) leaves the actor exactly as it was; `post_stop` saves a
//! snapshot so the next start replays nothing.
use std::sync::Arc;

use ddata::{Event, Journal, NewEvent, PersistStrategy, Recover};
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
    journal: Arc<Journal>,
    pid: String,
    snapshot_every: u64,
    total: i64,
    seq: u64,
    /// How this start recovered: (snapshot seq if any, events replayed).
    pub recovered: (Option<u64>, u64),
}

pub struct CounterActor;

fn decode(bytes: &[u8]) -> ddata::Result<i64> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ddata::Error::new(ddata::Status::Corrupt, "counter record is not an integer"))
}

struct Replay {
    total: i64,
    snapshot: Option<u64>,
    events: u64,
}

impl Recover for Replay {
    fn snapshot(&mut self, seq: u64, state: &[u8]) -> ddata::Result<()> {
        self.total = decode(state)?;
        self.snapshot = Some(seq);
        Ok(())
    }
    fn event(&mut self, ev: &Event) -> ddata::Result<()> {
        self.total += decode(&ev.payload)?;
        self.events += 1;
        Ok(())
    }
}

impl Actor for CounterActor {
    type Msg = CounterMsg;
    type State = CounterState;
    type Arguments = CounterArgs;

    async fn pre_start(
        &self,
        _: ActorRef<CounterMsg>,
        args: CounterArgs,
    ) -> Result<CounterState, ActorProcessingErr> {
        let mut r = Replay {
            total: 0,
            snapshot: None,
            events: 0,
        };
        let seq = args.journal.recover(&args.pid, &mut r)?;
        Ok(CounterState {
            journal: args.journal,
            pid: args.pid,
            snapshot_every: args.snapshot_every,
            total: r.total,
            seq,
            recovered: (r.snapshot, r.events),
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
                let next = state.total + n;
                let strategy = PersistStrategy::Full {
                    snapshot_every: state.snapshot_every,
                    compact: false,
                };
                let event = NewEvent::new(n.to_string());
                let result = state.journal.persist(
                    &state.pid,
                    state.seq,
                    &event,
                    next.to_string().as_bytes(),
                    strategy,
                );
                let _ = reply.send(match result {
                    Ok(seq) => {
                        state.total = next;
                        state.seq = seq;
                        Ok(next)
                    }
                    Err(e) => Err(e), // rollback: nothing changed
                });
            }
            CounterMsg::Get(reply) => {
                let _ = reply.send((state.total, state.seq));
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _: ActorRef<CounterMsg>,
        state: &mut CounterState,
    ) -> Result<(), ActorProcessingErr> {
        if state.seq > 0 {
            state.journal.save_snapshot(
                &state.pid,
                state.seq,
                crate::now_ms(),
                state.total.to_string().as_bytes(),
            )?;
        }
        Ok(())
    }
}
