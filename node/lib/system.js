// System (a node) and Replica (its replicated key-value store).
//
// Events: the library queues them and signals its event fd; System is an
// EventEmitter fed from that fd on libuv's loop (lib/events.js), emitting
// 'member', 'changed', 'deleted', 'expired' and 'overflow'. Consistency-
// level writes and reads return Promises settled by their 'requestDone'
// event: resolved on DD_OK, rejected with TimeoutError on DD_ETIMEOUT (a
// timed-out write still applied locally and keeps spreading by gossip).
//
// Pump mode (the default): call tick() regularly, hand received bytes to
// deliver() and send what outgoing() returns; with {tcpListen} the library
// carries its own messages.
'use strict';

const native = require('./native');
const { FdEventEmitter } = require('./events');
const { makeError } = require('./errors');
const { retype, typeNumber, normalizeOp } = require('./crdt');

const Consistency = Object.freeze({ local: 0, from: 1, majority: 2, majorityPlus: 3, all: 4 });

function level(c) {
  if (c === undefined) return Consistency.majority;
  if (typeof c === 'number') return c;
  const v = Consistency[c];
  if (v === undefined) throw makeError(-1, `unknown consistency '${c}'`);
  return v;
}

// The one clock tick() and deliver() use without nowMs (issue 17.1).
function monotonicMs() {
  return Math.floor(performance.now());
}

class System extends FdEventEmitter {
  constructor(options) {
    const handle = new native.System(options);
    super(handle.eventFd(), () => this._drainEvents());
    this._native = handle;
    this._pending = new Map();
  }

  _drainEvents() {
    const out = [];
    if (this._closed) return out;
    for (let ev = this._native.nextEvent(); ev !== undefined; ev = this._native.nextEvent()) {
      if (ev.kind === 'requestDone') this._settle(ev);
      else out.push([ev.kind, ev]);
    }
    // Log records ride the same fd: each is emitted as 'log'
    // ({event, level, fields, timeMs}); the library itself prints nothing.
    for (let s = this._native.nextLog(); s !== undefined; s = this._native.nextLog()) {
      const r = JSON.parse(s);
      out.push(['log', { event: r.event, level: r.level, fields: r.fields, timeMs: r.time_ms }]);
    }
    return out;
  }

  _settle(ev) {
    const key = String(ev.requestId);
    const p = this._pending.get(key);
    if (!p) return;
    this._pending.delete(key);
    if (this._pending.size === 0 && this._watcher && !this._hasUserListeners()) this._watcher.ref(false);
    if (ev.status === 0) p.resolve();
    else p.reject(makeError(ev.status, `request ${key} finished with ${native.statusName(ev.status)}`));
  }

  // A Promise for request `id` (pending requests keep the process alive).
  _await(id) {
    return new Promise((resolve, reject) => {
      this._pending.set(String(id), { resolve, reject });
      if (this._watcher) this._watcher.ref(true);
      // The event may already be queued: drain now rather than wait for
      // the next readiness edge.
      setImmediate(() => {
        for (const [name, payload] of this._drainEvents()) this.emit(name, payload);
      });
    });
  }

  get incarnation() {
    return this._native.incarnation();
  }

  // Leaves the cluster cleanly (dd_system_leave): the others see this node
  // 'removed' at once instead of after downAfterMs. A TCP node waits up to
  // timeoutMs for their acks (the Promise rejects with a Timeout if some
  // did not answer; it has left all the same); in pump mode it resolves at
  // once and the announcement leaves through outgoing().
  leave(timeoutMs = 5000) {
    return this._native.leave(timeoutMs);
  }

  leaveSync(timeoutMs = 5000) {
    return this._native.leaveSync(timeoutMs);
  }

  // The bound "ip:port" of a TCP node (give it to others as a seed).
  get listenAddress() {
    return this._native.listenAddress();
  }

  // This node's static X25519 public key (a Buffer), for peers' allow-lists.
  get publicKey() {
    return this._native.publicKey();
  }

  // Replaces the allow-list: [key, ...] or [{ key, nodeId }, ...]; [] = none.
  // Links of peers no longer admitted close.
  setPeerKeys(keys) {
    this._native.setPeerKeys(keys);
  }

  // Metrics in the Prometheus text exposition format (a string).
  metricsText() {
    return this._native.metricsText();
  }

  // Per-peer and engine statistics (dd_system_stats_json), parsed.
  stats() {
    return JSON.parse(this._native.statsJson());
  }

  // nowMs: the host's monotonic clock in ms, any origin (0 is a time);
  // omitted, Math.floor(performance.now()). A time before the last throws
  // InvalidArgumentError (the clock went backwards).
  tick(nowMs = monotonicMs()) {
    this._native.tick(nowMs);
  }

  deliver(from, bytes, nowMs = monotonicMs()) {
    this._native.deliver(nowMs, from, bytes);
  }

  // Every queued outgoing message as [toNodeId, Buffer].
  outgoing() {
    const out = [];
    for (let m = this._native.nextOutgoing(); m !== undefined; m = this._native.nextOutgoing()) out.push(m);
    return out;
  }

  close() {
    if (this._closed) return;
    this._closed = true;
    super.close();
    for (const p of this._pending.values()) p.reject(makeError(-3, 'system closed with the request pending'));
    this._pending.clear();
    this._native.close();
  }
}

class Replica {
  constructor(system, options = {}) {
    const opts = { ...options };
    if (opts.store) opts.store = opts.store._native || opts.store;
    this._native = new native.Replica(system._native, opts);
    this.system = system;
  }

  update(key, type, op) {
    this._native.update(key, typeNumber(type), normalizeOp(op));
  }

  // A copy of the value at key (a typed Crdt), or undefined.
  get(key) {
    const v = this._native.get(key);
    return v === undefined ? undefined : retype(v);
  }

  delete(key) {
    this._native.delete(key);
  }

  keys() {
    return this._native.keys();
  }

  get size() {
    return this._native.keyCount();
  }

  // 'changed' / 'deleted' / 'expired' events for key (or every key with
  // that prefix) arrive on the system.
  subscribe(key, { prefix = false } = {}) {
    this._native.subscribe(key, prefix);
  }

  // Applies at once locally, then resolves when `consistency` replicas
  // have it ('local', 'majority', 'all', {from: n}, {majorityPlus: n}).
  write(key, type, op, { consistency, timeoutMs = 5000 } = {}) {
    const [lvl, n] = levelAndN(consistency);
    const id = this._native.write(key, typeNumber(type), normalizeOp(op), lvl, n, timeoutMs);
    return this.system._await(id);
  }

  // Resolves with the merged value (or undefined) once `consistency`
  // replicas answered.
  async read(key, { consistency, timeoutMs = 5000 } = {}) {
    const [lvl, n] = levelAndN(consistency);
    await this.system._await(this._native.read(key, lvl, n, timeoutMs));
    return this.get(key);
  }

  flush() {
    this._native.flush();
  }

  close() {
    this._native.close();
  }
}

function levelAndN(c) {
  if (c !== null && typeof c === 'object') {
    if (c.from !== undefined) return [Consistency.from, c.from];
    if (c.majorityPlus !== undefined) return [Consistency.majorityPlus, c.majorityPlus];
  }
  return [level(c), 0];
}

// Writes a node key file (mode 0600, never overwriting one); returns its public key.
function generateNodeKey(path) {
  return native.generateNodeKey(path);
}

module.exports = { System, Replica, Consistency, generateNodeKey };
