//! What the actor adapter examples (`ractor-adapter`, `kameo-adapter`)
//! share, so that each of them shows only what its framework changes: the
//! node an actor owns, the event-sourced counter's recovery from journal
//! and snapshot, and the clock every node is ticked with.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ddata::{
    Event, Journal, NewEvent, PersistStrategy, Recover, Replica, ReplicaOptions, System, SystemEvent,
    SystemOptions,
};

/// Milliseconds since the Unix epoch: the clock every node is ticked with.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// How a replica actor starts: the node it opens and how often it ticks it.
pub struct ReplicaArgs {
    pub node_id: String,
    /// Node ids to join through (may include this node).
    pub seeds: Vec<String>,
    pub tick_every: Duration,
}

/// What a replica actor owns, whatever its framework: the node and its
/// replica, the address of each peer actor (`P`) and the subscriptions,
/// each with where its notes go (`S`).
pub struct ReplicaNode<P, S> {
    pub node_id: String,
    pub system: System,
    pub replica: Replica,
    pub peers: HashMap<String, P>,
    pub subscribers: Vec<(Vec<u8>, bool, S)>,
}

impl<P, S> ReplicaNode<P, S> {
    /// Opens the node `args` describes (see [`open_node`]), with no peers
    /// and no subscriptions yet.
    pub fn open(args: ReplicaArgs) -> ddata::Result<Self> {
        let (system, replica) = open_node(&args.node_id, args.seeds)?;
        Ok(ReplicaNode {
            node_id: args.node_id,
            system,
            replica,
            peers: HashMap::new(),
            subscribers: Vec::new(),
        })
    }

    /// The I/O pump: hands each message the engine wants sent to a known
    /// peer to `send` (a peer that is unknown loses it; gossip repairs
    /// that), and each changed key a subscription asked for to `notify`.
    /// The framework's part is only how `send` and `notify` deliver.
    pub fn pump(&self, mut send: impl FnMut(&P, Vec<u8>), mut notify: impl FnMut(&S, &[u8])) {
        while let Ok(Some((to, bytes))) = self.system.next_outgoing() {
            if let Some(peer) = self.peers.get(&to) {
                send(peer, bytes);
            }
        }
        while let Ok(Some(ev)) = self.system.next_event() {
            if let SystemEvent::Changed { key } = ev {
                for (k, prefix, to) in &self.subscribers {
                    if subscribed(&key, k, *prefix) {
                        notify(to, &key);
                    }
                }
            }
        }
    }
}

/// Whether a change to `key` is one a subscription to `subscribed_key`
/// asked for: that key exactly, or with `prefix` every key starting with it.
fn subscribed(key: &[u8], subscribed_key: &[u8], prefix: bool) -> bool {
    if prefix {
        key.starts_with(subscribed_key)
    } else {
        key == subscribed_key
    }
}

/// A pump-mode node `node_id` seeded with `seeds`, ticked once, and its
/// replica (change notifications every 50 ms, gossip every 200 ms): what a
/// replica actor owns. The actor carries the node's messages itself.
pub fn open_node(node_id: &str, seeds: Vec<String>) -> ddata::Result<(System, Replica)> {
    let system = System::open(&SystemOptions::new(node_id).seeds(seeds))?;
    system.tick(now_ms())?;
    let opts = ReplicaOptions {
        notify_interval_ms: 50,
        gossip_interval_ms: 200,
        ..Default::default()
    };
    let replica = Replica::open(&system, &opts)?;
    Ok((system, replica))
}

/// A counter record (an event's payload or a snapshot's state): the
/// integer as decimal text.
fn decode(bytes: &[u8]) -> ddata::Result<i64> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ddata::Error::new(ddata::Status::Corrupt, "counter record is not an integer"))
}

/// What recovery reads back: the total (the latest snapshot plus every
/// event after it), the snapshot it started from and how many events
/// were replayed on top of it.
#[derive(Default)]
struct CounterReplay {
    total: i64,
    snapshot: Option<u64>,
    events: u64,
}

impl Recover for CounterReplay {
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

/// The state of the persistent counter actor: a running total, persisted
/// as one event per addition (its amount) with the total after it as the
/// snapshot state, in the journal under `pid`.
pub struct PersistentCounter {
    journal: Arc<Journal>,
    pid: String,
    total: i64,
    seq: u64,
    recovered: (Option<u64>, u64),
}

impl PersistentCounter {
    /// Recovers counter `pid` from `journal`: its latest snapshot, then the
    /// events after it.
    pub fn recover(journal: Arc<Journal>, pid: String) -> ddata::Result<PersistentCounter> {
        let mut r = CounterReplay::default();
        let seq = journal.recover(&pid, &mut r)?;
        Ok(PersistentCounter {
            journal,
            pid,
            total: r.total,
            seq,
            recovered: (r.snapshot, r.events),
        })
    }

    /// (total, last sequence number).
    pub fn total(&self) -> (i64, u64) {
        (self.total, self.seq)
    }

    /// How this start recovered: (snapshot seq if any, events replayed).
    pub fn recovered(&self) -> (Option<u64>, u64) {
        self.recovered
    }

    /// Adds `n`: persists the event first (snapshotting as `strategy`
    /// says) and changes the total only once it is stored, so a failed
    /// write (a conflict with another writer, a full disk) leaves the
    /// counter exactly as it was. The new total.
    pub fn add(&mut self, n: i64, strategy: PersistStrategy) -> ddata::Result<i64> {
        let next = self.total + n;
        let event = NewEvent::new(n.to_string());
        self.seq =
            self.journal
                .persist(&self.pid, self.seq, &event, next.to_string().as_bytes(), strategy)?;
        self.total = next;
        Ok(next)
    }

    /// Saves the total as a snapshot at the last sequence number (nothing
    /// for a counter without events), so the next start replays nothing.
    pub fn save_snapshot(&self) -> ddata::Result<()> {
        if self.seq > 0 {
            self.journal
                .save_snapshot(&self.pid, self.seq, now_ms(), self.total.to_string().as_bytes())?;
        }
        Ok(())
    }
}
