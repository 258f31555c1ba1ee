// Node-owned state (dd_owned): each node is the only writer of its own
// instance of a registered type; every other node holds a read-only view
// (a base plus deltas the application folds). Pump mode: tick(), deliver()
// and outgoing() as for System. Owned is an EventEmitter on the engine's
// event fd ('viewChanged', 'viewRemoved', 'queryDone', 'versionMismatch',
// 'compactWanted'); nextEvent() drains synchronously instead.
'use strict';

const native = require('./native');
const { FdEventEmitter } = require('./events');
const { makeError } = require('./errors');

const Strategy = Object.freeze({ activePush: 1, feedLazyPull: 2, feedWithPeriodicSync: 3, periodicOnly: 4 });
const OnMismatch = Object.freeze({ keepStale: 1, dropAndWait: 2 });
const Urgency = Object.freeze({ default: 0, immediate: 1, delayed: 2, suppressed: 3 });

function enumValue(table, v, what) {
  if (v === undefined || typeof v === 'number') return v;
  const camel = String(v).replace(/_([a-z])/g, (_, c) => c.toUpperCase());
  if (table[camel] === undefined) throw makeError(-1, `unknown ${what} '${v}'`);
  return table[camel];
}

class Owned extends FdEventEmitter {
  // {nodeId, incarnation = 1, store?: StateStore, system?: System, limits?,
  // maxQueued?}. With a TCP system, the system's driver carries the messages
  // and membership, and nodeId/incarnation come from the system.
  constructor({ nodeId, incarnation = 1, store, system, limits, maxQueued } = {}) {
    const handle = new native.Owned(nodeId ?? (system ? 0 : undefined), incarnation, store ? store._native : undefined,
      system ? system._native : undefined, { limits, maxQueued });
    super(handle.eventFd(), () => this._drainEvents());
    this._native = handle;
  }

  _drainEvents() {
    const out = [];
    if (this._closed) return out;
    for (let ev = this._native.nextEvent(); ev !== undefined; ev = this._native.nextEvent()) out.push([ev.kind, ev]);
    return out;
  }

  // The id views use for a system's node id (a string).
  static nodeOf(nodeId) {
    return native.Owned.nodeOf(nodeId);
  }

  register(type, options = {}) {
    this._native.register(type, {
      ...options,
      strategy: enumValue(Strategy, options.strategy, 'strategy'),
      onMismatch: enumValue(OnMismatch, options.onMismatch, 'mismatch policy'),
    });
  }

  // Persists, then publishes; returns the new generation {incarnation, age}.
  publish(type, data, { full = false, urgency = 'default', delayMs = 0 } = {}) {
    const [incarnation, age] = this._native.publish(type, full, data, enumValue(Urgency, urgency, 'urgency'), delayMs);
    return { incarnation, age };
  }

  tick(nowMs) {
    this._native.tick(nowMs);
  }

  deliver(fromNode, bytes) {
    this._native.deliver(fromNode, bytes);
  }

  outgoing() {
    const out = [];
    for (let m = this._native.nextOutgoing(); m !== undefined; m = this._native.nextOutgoing()) out.push(m);
    return out;
  }

  memberUp(node, incarnation) {
    this._native.memberUp(node, incarnation);
  }

  memberLeft(node) {
    this._native.memberLeft(node);
  }

  // 0 when the view may be read now; otherwise the request id of the pull
  // whose 'queryDone' event reports the outcome.
  query(type, node, maxStalenessMs) {
    return this._native.query(type, node, maxStalenessMs);
  }

  read(type, node) {
    return this._native.read(type, node);
  }

  nodes() {
    return this._native.nodes();
  }

  nextEvent() {
    return this._native.nextEvent();
  }

  close() {
    if (this._closed) return;
    this._closed = true;
    super.close();
    this._native.close();
  }
}

module.exports = { Owned, Strategy, OnMismatch, Urgency };
