// ddata/testing: test doubles for applications built on ddata. A simulated
// cluster of in-process pump-mode nodes on a manual clock and a seeded
// network (loss, delay, partitions), and in-memory stores:
//
//   const { SimCluster } = require('ddata-crdt/testing');
//   const sim = new SimCluster({ nodes: 3, seed: 7 });
//   sim.run(2000);
//   sim.partition(['n0'], ['n1', 'n2']);
//   ...
//   sim.heal(); sim.run(3000); sim.close();
//
// Nothing runs in the background: run(ms) moves the clock in steps; each
// step ticks every node, hands what they send to the network, and delivers
// what is due. The network's own generator (seeded) decides losses and
// delays, so the same seed replays the same run. The clock starts at the
// wall-clock time (Unix epoch ms, what the pump's nowMs means today).
'use strict';

const { System, Replica } = require('./system');
const { Journal, StateStore } = require('./store');

// mulberry32: a small seeded generator, so runs replay by seed.
function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class ManualClock {
  constructor(startMs = Date.now()) {
    this.nowMs = startMs;
  }

  advance(ms) {
    if (ms < 0) throw new RangeError('a clock does not go back');
    this.nowMs += ms;
    return this.nowMs;
  }

  now() {
    return this.nowMs;
  }
}

class SimNetwork {
  constructor({ seed = Math.floor(Math.random() * 2 ** 32), dropRate = 0, delayMs = [0, 0] } = {}) {
    this.seed = seed;
    this.random = seededRandom(seed);
    this.dropRate = dropRate;
    this.delayMs = delayMs;
    this.groups = null;
    this.inFlight = [];
    this.order = 0;
    this.sent = 0;
    this.dropped = 0;
  }

  // Only nodes within one group talk; a node in no group talks to nobody.
  partition(...groups) {
    this.groups = new Map();
    groups.forEach((g, i) => g.forEach((n) => this.groups.set(n, i)));
  }

  heal() {
    this.groups = null;
  }

  connected(a, b) {
    const g = this.groups;
    return g === null || (g.has(a) && g.has(b) && g.get(a) === g.get(b));
  }

  send(nowMs, from, to, bytes) {
    this.sent++;
    if (!this.connected(from, to) || (this.dropRate > 0 && this.random() < this.dropRate)) {
      this.dropped++;
      return;
    }
    const [lo, hi] = this.delayMs;
    const due = nowMs + lo + Math.floor(this.random() * (hi - lo + 1));
    this.inFlight.push({ due, order: this.order++, from, to, bytes });
  }

  // Removes and returns the messages due by now, in arrival order; a
  // partition made while one flies drops it.
  due(nowMs) {
    this.inFlight.sort((x, y) => x.due - y.due || x.order - y.order);
    const ready = this.inFlight.filter((m) => m.due <= nowMs);
    this.inFlight = this.inFlight.filter((m) => m.due > nowMs);
    return ready.filter((m) => {
      if (this.connected(m.from, m.to)) return true;
      this.dropped++;
      return false;
    });
  }
}

function memoryStore(options = {}) {
  return new StateStore({ ...options, backend: 'memory' });
}

function memoryJournal(options = {}) {
  return new Journal({ ...options, backend: 'memory' });
}

// N pump-mode nodes ("n0".."n{N-1}", or `names`), each with a Replica; all
// join through the first. `replica` options go to every replica; with
// durableKeys each node gets an in-memory store kept across restart().
class SimCluster {
  constructor({ nodes = 3, names, seed, dropRate = 0, delayMs = [0, 0], clock, replica = {} } = {}) {
    this.names = names ? names.slice() : Array.from({ length: nodes }, (_, i) => 'n' + i);
    this.clock = clock || new ManualClock();
    this.network = new SimNetwork({ seed, dropRate, delayMs });
    this.replicaOptions = replica;
    this.stores = new Map();
    this.systems = new Map();
    this.replicas = new Map();
    this.incarnations = new Map(this.names.map((n) => [n, 0]));
    for (const n of this.names) this._open(n);
  }

  get seed() {
    return this.network.seed;
  }

  _open(name) {
    const incarnation = this.incarnations.get(name) + 1;
    this.incarnations.set(name, incarnation);
    const system = new System({ nodeId: name, incarnation, seed: this.seed + this.names.indexOf(name) + 1,
      seeds: [this.names[0]] });
    const options = { ...this.replicaOptions };
    if (options.durableKeys && !options.store) {
      if (!this.stores.has(name)) this.stores.set(name, memoryStore());
      options.store = this.stores.get(name);
    }
    system.tick(this.clock.now());
    this.systems.set(name, system);
    this.replicas.set(name, new Replica(system, options));
  }

  system(name) {
    return this.systems.get(name);
  }

  replica(name) {
    return this.replicas.get(name);
  }

  partition(...groups) {
    this.network.partition(...groups);
  }

  heal() {
    this.network.heal();
  }

  // Closes a node (a crash: its in-memory store survives).
  stop(name) {
    this.replicas.get(name).close();
    this.systems.get(name).close();
    this.replicas.delete(name);
    this.systems.delete(name);
  }

  // Opens the node again (stopping it first if running): a new
  // incarnation on the same store.
  restart(name) {
    if (this.systems.has(name)) this.stop(name);
    this._open(name);
  }

  step(ms = 50) {
    const now = this.clock.advance(ms);
    for (const [name, system] of this.systems) {
      system.tick(now);
      for (const [to, bytes] of system.outgoing()) this.network.send(now, name, to, bytes);
    }
    for (const m of this.network.due(now)) {
      const target = this.systems.get(m.to);
      if (!target) continue;
      try {
        target.deliver(m.from, m.bytes, now);
      } catch (e) {
        this.network.dropped++; // a refused message is lost, as on a real network
      }
    }
  }

  run(ms, stepMs = 50) {
    for (let i = 0; i < Math.max(1, Math.floor(ms / stepMs)); i++) this.step(stepMs);
  }

  // {node: read(replica, key)} over the running nodes.
  values(key, read) {
    const out = {};
    for (const [n, r] of this.replicas) out[n] = read(r, key);
    return out;
  }

  close() {
    for (const n of [...this.systems.keys()]) this.stop(n);
    for (const s of this.stores.values()) s.close();
    this.stores.clear();
  }
}

module.exports = { ManualClock, SimNetwork, SimCluster, memoryStore, memoryJournal };
