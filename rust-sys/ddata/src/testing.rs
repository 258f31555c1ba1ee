//! Test doubles for applications built on ddata (the `testing` feature): a
//! simulated cluster of in-process pump-mode nodes on a manual clock and a
//! seeded network (loss, delay, partitions), and in-memory stores.
//!
//! ```ignore
//! let mut sim = ddata::testing::SimCluster::new(3, 7)?;   // nodes n0, n1, n2
//! sim.run(2000)?;
//! sim.partition(&[&["n0"], &["n1", "n2"]]);
//! sim.replica("n0").update("hits", CrdtType::PNCounter, &Op::increment(1))?;
//! sim.run(1000)?;
//! sim.heal();
//! sim.run(3000)?;                                          // all read 1
//! ```
//!
//! Nothing runs in the background: [`SimCluster::run`] moves the
//! [`ManualClock`] in steps; each step ticks every node, hands what they
//! send to the [`SimNetwork`], and delivers what is due. The network's own
//! generator, seeded, decides losses and delays, so a seed replays a run.
//! The clock starts at the wall-clock time (Unix epoch milliseconds, what
//! the pump's `now_ms` means today) and then moves only when told to.
use std::collections::{BTreeMap, HashMap};

use crate::{Journal, Replica, ReplicaOptions, Result, StateStore, StoreOptions, System, SystemOptions};

/// An in-memory durable state store.
pub fn memory_store() -> Result<StateStore> {
    StateStore::open(&StoreOptions::memory())
}

/// An in-memory journal with snapshots.
pub fn memory_journal() -> Result<Journal> {
    Journal::open(&StoreOptions::memory())
}

/// Milliseconds that move only when advanced.
#[derive(Debug, Clone, Copy)]
pub struct ManualClock {
    now_ms: u64,
}

impl ManualClock {
    /// A clock at `start_ms`.
    pub fn at(start_ms: u64) -> ManualClock {
        ManualClock { now_ms: start_ms }
    }

    /// A clock at the wall-clock time.
    pub fn wall() -> ManualClock {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        ManualClock::at(now)
    }

    /// Moves the clock `ms` forward and returns the new time.
    pub fn advance(&mut self, ms: u64) -> u64 {
        self.now_ms += ms;
        self.now_ms
    }

    /// The current time in ms.
    pub fn now(&self) -> u64 {
        self.now_ms
    }
}

struct InFlight {
    due_ms: u64,
    order: u64,
    from: String,
    to: String,
    bytes: Vec<u8>,
}

/// Messages in flight between named nodes, with seeded loss and delay, and
/// partitions.
pub struct SimNetwork {
    seed: u64,
    state: u64,
    /// Probability in [0, 1] that a message is lost.
    pub drop_rate: f64,
    /// Each message arrives this many milliseconds late, uniformly.
    pub delay_ms: (u64, u64),
    groups: Option<HashMap<String, usize>>,
    in_flight: Vec<InFlight>,
    order: u64,
    /// Messages handed to [`SimNetwork::send`].
    pub sent: u64,
    /// Messages dropped (randomly or by a partition).
    pub dropped: u64,
}

impl SimNetwork {
    /// A connected network with no loss or delay, seeded with `seed`.
    pub fn new(seed: u64) -> SimNetwork {
        SimNetwork {
            seed,
            state: seed ^ 0x9e37_79b9_7f4a_7c15,
            drop_rate: 0.0,
            delay_ms: (0, 0),
            groups: None,
            in_flight: Vec::new(),
            order: 0,
            sent: 0,
            dropped: 0,
        }
    }

    /// The seed (print it when a test fails).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// splitmix64: small, seeded, the same on every platform.
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Only nodes within one group talk; a node in no group talks to nobody.
    pub fn partition(&mut self, groups: &[&[&str]]) {
        let mut m = HashMap::new();
        for (i, g) in groups.iter().enumerate() {
            for n in g.iter() {
                m.insert(n.to_string(), i);
            }
        }
        self.groups = Some(m);
    }

    /// Removes every partition.
    pub fn heal(&mut self) {
        self.groups = None;
    }

    /// Whether `a` and `b` can reach each other now.
    pub fn connected(&self, a: &str, b: &str) -> bool {
        match &self.groups {
            None => true,
            Some(g) => matches!((g.get(a), g.get(b)), (Some(x), Some(y)) if x == y),
        }
    }

    /// Sends `bytes` from `from` to `to` at `now_ms`: dropped, or queued for delivery after the delay.
    pub fn send(&mut self, now_ms: u64, from: &str, to: &str, bytes: Vec<u8>) {
        self.sent += 1;
        let unit = (self.next() >> 11) as f64 / ((1u64 << 53) as f64);
        let lost = self.drop_rate > 0.0 && unit < self.drop_rate;
        if !self.connected(from, to) || lost {
            self.dropped += 1;
            return;
        }
        let (lo, hi) = self.delay_ms;
        let delay = lo + if hi > lo { self.next() % (hi - lo + 1) } else { 0 };
        self.order += 1;
        self.in_flight.push(InFlight {
            due_ms: now_ms + delay,
            order: self.order,
            from: from.to_string(),
            to: to.to_string(),
            bytes,
        });
    }

    /// Removes and returns (from, to, bytes) due by now, in arrival order;
    /// a partition made while a message flies drops it.
    pub fn due(&mut self, now_ms: u64) -> Vec<(String, String, Vec<u8>)> {
        self.in_flight.sort_by_key(|m| (m.due_ms, m.order));
        let split = self.in_flight.partition_point(|m| m.due_ms <= now_ms);
        let ready: Vec<InFlight> = self.in_flight.drain(..split).collect();
        let mut out = Vec::new();
        for m in ready {
            if self.connected(&m.from, &m.to) {
                out.push((m.from, m.to, m.bytes));
            } else {
                self.dropped += 1;
            }
        }
        out
    }
}

type Configure = Box<dyn for<'a> Fn(&mut ReplicaOptions<'a>)>;

/// N pump-mode nodes ("n0".."n{N-1}") with replicas, one [`ManualClock`]
/// and one [`SimNetwork`]; every node joins through the first.
pub struct SimCluster {
    names: Vec<String>,
    /// The clock every node reads.
    pub clock: ManualClock,
    /// The network between the nodes.
    pub network: SimNetwork,
    configure: Option<Configure>,
    stores: HashMap<String, StateStore>,
    nodes: BTreeMap<String, Replica>,
    incarnations: HashMap<String, u64>,
}

impl SimCluster {
    /// `nodes` nodes on a network seeded with `seed`.
    pub fn new(nodes: usize, seed: u64) -> Result<SimCluster> {
        SimCluster::with_options(nodes, seed, None)
    }

    /// As [`SimCluster::new`], with `configure` applied to every replica's
    /// options; durable keys get an in-memory store per node, kept across
    /// [`SimCluster::restart`].
    pub fn with_options(nodes: usize, seed: u64, configure: Option<Configure>) -> Result<SimCluster> {
        let names: Vec<String> = (0..nodes).map(|i| format!("n{i}")).collect();
        let mut sim = SimCluster {
            incarnations: names.iter().map(|n| (n.clone(), 0)).collect(),
            names,
            clock: ManualClock::wall(),
            network: SimNetwork::new(seed),
            configure,
            stores: HashMap::new(),
            nodes: BTreeMap::new(),
        };
        for n in sim.names.clone() {
            sim.open(&n)?;
        }
        Ok(sim)
    }

    /// The node names, `n0` first.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The network seed (print it when a test fails).
    pub fn seed(&self) -> u64 {
        self.network.seed()
    }

    fn open(&mut self, name: &str) -> Result<()> {
        let inc = self.incarnations.entry(name.to_string()).or_insert(0);
        *inc += 1;
        let mut so = SystemOptions::new(name).seeds([self.names[0].clone()]);
        so.incarnation = *inc;
        so.seed = self
            .network
            .seed()
            .wrapping_add(self.names.iter().position(|n| n == name).unwrap_or(0) as u64 + 1);
        let system = System::open(&so)?;
        system.tick(self.clock.now())?;
        let mut probe = ReplicaOptions::default();
        if let Some(f) = &self.configure {
            f(&mut probe);
        }
        if !probe.durable_keys.is_empty() && !self.stores.contains_key(name) {
            self.stores.insert(name.to_string(), memory_store()?);
        }
        let mut ro = ReplicaOptions::default();
        if let Some(f) = &self.configure {
            f(&mut ro);
        }
        if ro.store.is_none() && !ro.durable_keys.is_empty() {
            ro.store = self.stores.get(name);
        }
        let replica = Replica::open(&system, &ro)?;
        self.nodes.insert(name.to_string(), replica);
        Ok(())
    }

    /// The replica of a running node. Panics on an unknown or stopped node.
    pub fn replica(&self, name: &str) -> &Replica {
        self.nodes
            .get(name)
            .unwrap_or_else(|| panic!("no running node {name}"))
    }

    /// Splits the nodes into `groups`; nodes in different groups cannot talk.
    pub fn partition(&mut self, groups: &[&[&str]]) {
        self.network.partition(groups);
    }

    /// Removes every partition.
    pub fn heal(&mut self) {
        self.network.heal();
    }

    /// Closes a node (a crash: its in-memory store survives).
    pub fn stop(&mut self, name: &str) {
        self.nodes.remove(name);
    }

    /// Opens the node again (stopping it first): a new incarnation on the
    /// same store.
    pub fn restart(&mut self, name: &str) -> Result<()> {
        self.stop(name);
        self.open(name)
    }

    /// Advances the clock by `ms`, ticks every node and delivers what is due.
    pub fn step(&mut self, ms: u64) -> Result<()> {
        let now = self.clock.advance(ms);
        for (name, rep) in &self.nodes {
            rep.system().tick(now)?;
            for (to, bytes) in rep.system().outgoing()? {
                self.network.send(now, name, &to, bytes);
            }
        }
        for (from, to, bytes) in self.network.due(now) {
            if let Some(target) = self.nodes.get(&to) {
                if target.system().deliver(now, &from, &bytes).is_err() {
                    self.network.dropped += 1; // refused: lost, as on a real network
                }
            }
        }
        Ok(())
    }

    /// Advances the clock by `ms` in steps of 50 ms.
    pub fn run(&mut self, ms: u64) -> Result<()> {
        for _ in 0..(ms / 50).max(1) {
            self.step(50)?;
        }
        Ok(())
    }

    /// `read(replica)` for every running node, by name.
    pub fn values<T>(&self, mut read: impl FnMut(&Replica) -> T) -> BTreeMap<String, T> {
        self.nodes.iter().map(|(n, r)| (n.clone(), read(r))).collect()
    }
}
