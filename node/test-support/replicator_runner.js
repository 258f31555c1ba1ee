'use strict';

// Plays one replicator case (tests/conformance/replicator/README.md)
// through ddata.System and ddata.Replica in pump mode: one explicit clock,
// messages moved, dropped or reordered as the steps say. Events are read
// straight from the queue (the EventEmitter would deliver them later, on
// the loop), and consistency-level requests are started through the
// native calls so their completion stays an event the case can expect.
const assert = require('node:assert');
const ddata = require('..');
const { bytes } = require('./vectors');

const LEVELS = { local: 0, from: 1, majority: 2, majority_plus: 3, all: 4 };
const KINDS = { changed: 'changed', deleted: 'deleted', expired: 'expired', requestDone: 'request_done', overflow: 'overflow' };
const REPLICA = {
  gossip_interval_ms: 'gossipIntervalMs', gossip_fanout: 'gossipFanout', notify_interval_ms: 'notifyIntervalMs',
  tombstone_grace_ms: 'tombstoneGraceMs', expire_after_ms: 'expireAfterMs', expiry_prefixes: 'expiryPrefixes',
  durable_keys: 'durableKeys',
};

function apply(spec) {
  const op = { kind: spec.kind };
  if (spec.amount !== undefined) op.amount = spec.amount;
  if (spec.key !== undefined) op.key = bytes(spec.key);
  if (spec.value !== undefined) op.value = bytes(spec.value);
  return op;
}

class Cluster {
  constructor(c) {
    this.c = c;
    this.names = c.nodes.slice();
    this.now = Date.now(); // Unix epoch ms, then only as the steps say
    this.incarnation = Object.fromEntries(this.names.map((n) => [n, 1]));
    this.stores = {};
    this.systems = {};
    this.replicas = {};
    this.held = [];
    for (const n of this.names) this.open(n);
  }

  open(name) {
    const sys = new ddata.System({ nodeId: name, incarnation: this.incarnation[name],
      seed: this.names.indexOf(name) + 1, seeds: [this.names[0]] });
    const opts = {};
    for (const [k, v] of Object.entries(this.c.replica || {})) if (REPLICA[k]) opts[REPLICA[k]] = v;
    if (opts.durableKeys) {
      if (!this.stores[name]) this.stores[name] = new ddata.StateStore();
      opts.store = this.stores[name];
    }
    this.systems[name] = sys;
    this.replicas[name] = new ddata.Replica(sys, opts);
  }

  closeNode(name) {
    this.replicas[name].close();
    this.systems[name].close();
    delete this.replicas[name];
    delete this.systems[name];
  }

  close() {
    for (const n of Object.keys(this.systems)) this.closeNode(n);
    for (const s of Object.values(this.stores)) s.close();
  }

  deliver(from, to, msg) {
    if (!this.systems[to]) return;
    try {
      this.systems[to].deliver(from, msg, this.now);
    } catch (e) {
      if (!(e instanceof ddata.DdataError)) throw e; // a refused message is the network's loss
    }
  }

  pump(cut) {
    for (let round = 0; round < 1000; round++) {
      let moved = false;
      for (const name of this.names) {
        const sys = this.systems[name];
        if (!sys) continue;
        for (const [to, msg] of sys.outgoing()) {
          moved = true;
          if (!cut.has(name) && !cut.has(to)) this.deliver(name, to, msg);
        }
      }
      if (!moved) return;
    }
    throw new Error('messages never stopped');
  }

  run(s) {
    const step = s.step_ms || 100;
    const cut = new Set(s.cut || []);
    for (let t = 0; t < (s.ms || 0); t += step) {
      this.now += step;
      for (const sys of Object.values(this.systems)) sys.tick(this.now);
      this.pump(cut);
    }
  }

  step(s) {
    if (s.op === 'run') return this.run(s);
    if (s.op === 'release') {
      for (const i of s.order) this.deliver(...this.held[i]);
      this.held = [];
      return undefined;
    }
    const name = s.node;
    if (s.op === 'restart') {
      this.closeNode(name);
      this.incarnation[name]++;
      return this.open(name);
    }
    const sys = this.systems[name];
    const rep = this.replicas[name];
    if (s.op === 'hold') {
      for (const [to, msg] of sys.outgoing()) this.held.push([name, to, msg]);
      return undefined;
    }
    if (s.op === 'expect_events') {
      const got = [];
      for (let ev = sys._native.nextEvent(); ev !== undefined; ev = sys._native.nextEvent())
        if (ev.kind !== 'member') got.push(ev);
      assert.strictEqual(got.length, s.events.length, `${name}: events ${JSON.stringify(got)}`);
      s.events.forEach((w, i) => {
        const e = got[i];
        assert.strictEqual(KINDS[e.kind], w.kind, `${name}: event ${i}`);
        if (w.key !== undefined) assert.strictEqual(e.key, bytes(w.key).toString(), `${name}: event ${i} key`);
        if (w.status !== undefined) assert.strictEqual(ddata.statusName(e.status), w.status, `${name}: event ${i} status`);
      });
      return undefined;
    }
    if (s.op === 'expect_keys') {
      assert.deepStrictEqual(rep.keys().map((k) => Buffer.from(k).toString()), s.keys.map((k) => bytes(k).toString()));
      return undefined;
    }
    const key = bytes(s.key);
    switch (s.op) {
      case 'expect': {
        let v;
        let deleted = false;
        try {
          v = rep.get(key);
        } catch (e) {
          if (!(e instanceof ddata.DeletedError)) throw e;
          deleted = true;
        }
        // ABI.md, "Missing items": a binding reads a deleted key as absent.
        if (s.value === '$deleted') assert.ok(deleted || v === undefined, `${name}: ${key} is not deleted`);
        else if (s.value === null) assert.ok(!deleted && v === undefined, `${name}: ${key} is present`);
        else {
          assert.ok(v !== undefined, `${name}: ${key} is absent`);
          assert.deepStrictEqual(JSON.parse(v.valueJson()), s.value, `${name}: ${key}`);
        }
        return undefined;
      }
      case 'delete': return rep.delete(key);
      case 'subscribe': return rep.subscribe(key, { prefix: !!s.prefix });
      case 'update': return rep.update(key, s.type, apply(s.apply));
      case 'write':
        return rep._native.write(key, ddata.typeNumber(s.type), ddata.normalizeOp(apply(s.apply)),
          LEVELS[s.consistency], s.n || 0, s.timeout_ms || 5000);
      case 'read': return rep._native.read(key, LEVELS[s.consistency], s.n || 0, s.timeout_ms || 5000);
      default: throw new Error('unknown op ' + s.op);
    }
  }
}

function runReplicatorCase(c) {
  const cluster = new Cluster(c);
  try {
    c.steps.forEach((s, i) => {
      let status = 'DD_OK';
      let error;
      try {
        cluster.step(s);
      } catch (e) {
        if (!(e instanceof ddata.DdataError)) throw new Error(`step ${i} (${s.op}): ${e.message}`);
        status = e.code;
        error = e;
      }
      assert.strictEqual(status, s.expect_status || 'DD_OK',
        `step ${i} (${s.op}): ${status}${error ? ' (' + error.message + ')' : ''}`);
    });
  } finally {
    cluster.close();
  }
}

module.exports = { runReplicatorCase };
