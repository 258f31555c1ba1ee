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

use ddata::{Event, Journal, NewEvent, PersistStrategy, Recover};
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
    journal: Arc<Journal>,
    pid: String,
    strategy: PersistStrategy,
    total: i64,
    seq: u64,
    recovered: (Option<u64>, u64),
}

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
    type Args = CounterArgs;
    type Error = ddata::Error;

    async fn on_start(args: CounterArgs, _: ActorRef<Self>) -> Result<Self, ddata::Error> {
        let mut r = Replay {
            total: 0,
            snapshot: None,
            events: 0,
        };
        let seq = args.journal.recover(&args.pid, &mut r)?;
        Ok(CounterActor {
            journal: args.journal,
            pid: args.pid,
            strategy: args.strategy,
            total: r.total,
            seq,
            recovered: (r.snapshot, r.events),
        })
    }

    async fn on_stop(&mut self, _: WeakActorRef<Self>, reason: ActorStopReason) -> Result<(), ddata::Error> {
        if matches!(reason, ActorStopReason::Normal) && self.seq > 0 {
            self.journal.save_snapshot(
                &self.pid,
                self.seq,
                crate::now_ms(),
                self.total.to_string().as_bytes(),
            )?;
        }
        Ok(())
    }
}

impl Message<Add> for CounterActor {
    type Reply = ddata::Result<i64>;
    async fn handle(&mut self, Add(n): Add, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        let next = self.total + n;
        let event = NewEvent::new(n.to_string());
        // Persist first; change the state only once the event is stored.
        let seq = self.journal.persist(
            &self.pid,
            self.seq,
            &event,
            next.to_string().as_bytes(),
            self.strategy,
        )?;
        self.total = next;
        self.seq = seq;
        Ok(next)
    }
}

impl Message<GetTotal> for CounterActor {
    type Reply = (i64, u64);
    async fn handle(&mut self, _: GetTotal, _: &mut Context<Self, Self::Reply>) -> (i64, u64) {
        (self.total, self.seq)
    }
}

impl Message<Recovered> for CounterActor {
    type Reply = (Option<u64>, u64);
    async fn handle(&mut self, _: Recovered, _: &mut Context<Self, Self::Reply>) -> (Option<u64>, u64) {
        self.recovered
    }
}
