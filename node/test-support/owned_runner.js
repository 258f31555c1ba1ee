'use strict';

// Plays one owned-state case (tests/conformance/owned/README.md) through
// ddata.Owned: nodes by id, memory state stores kept by name across
// close/open (a restart), a pump that moves queued messages in order.
const assert = require('node:assert');
const ddata = require('..');
const { bytes } = require('./vectors');

function statusOf(fn) {
  try {
    return ['DD_OK', fn()];
  } catch (e) {
    if (e instanceof ddata.DdataError) return [e.code, undefined, e];
    throw e;
  }
}

function expectStatus(step, fn) {
  const [got, value, err] = statusOf(fn);
  const want = step.expect_status || 'DD_OK';
  assert.strictEqual(got, want, `returned ${got}${err ? ' (' + err.message + ')' : ''}, expected ${want}`);
  return value;
}

const URGENCY = { default: 0, immediate: 1, delayed: 2, suppressed: 3 };
const EVENT_KIND = {
  view_changed: 'viewChanged', view_removed: 'viewRemoved', query_done: 'queryDone',
  version_mismatch: 'versionMismatch', compact_wanted: 'compactWanted',
};

function typeOptions(t) {
  return {
    strategy: t.strategy || 'active_push',
    onMismatch: t.on_mismatch || 'keep_stale',
    wireVersion: t.wire_version, storageVersion: t.storage_version, compactEvery: t.compact_every,
    feedIntervalMs: t.feed_interval_ms, syncIntervalMs: t.sync_interval_ms,
    pullRetryMs: t.pull_retry_ms, pullTimeoutMs: t.pull_timeout_ms,
  };
}

function runOwnedCase(c) {
  const nodes = new Map(); // id -> Owned | null, in open order
  const stores = new Map();
  const lastRequest = new Map();
  const node = (id) => {
    const h = nodes.get(id);
    if (!h) throw new Error(`node ${id} is not open`);
    return h;
  };
  const openIds = () => [...nodes.entries()].filter(([, h]) => h).map(([id]) => id);
  const pump = () => {
    for (let round = 0; round < 100; round++) {
      let moved = 0;
      for (const id of openIds()) {
        for (const [to, msg] of node(id).outgoing()) {
          const dst = nodes.get(Number(to));
          if (dst) statusOf(() => dst.deliver(id, msg));
          moved++;
        }
      }
      if (!moved) return;
    }
    throw new Error('pump: still sending after 100 rounds');
  };
  try {
    c.steps.forEach((step, i) => {
      const id = step.node || 0;
      try {
        switch (step.op) {
          case 'open': {
            if (nodes.get(id)) throw new Error(`node ${id} is open`);
            let store;
            if (step.store !== undefined) {
              if (!stores.has(step.store)) stores.set(step.store, new ddata.StateStore());
              store = stores.get(step.store);
            }
            const h = new ddata.Owned({ nodeId: id, incarnation: step.incarnation || 1, store });
            nodes.delete(id);
            nodes.set(id, h);
            for (const [name, t] of Object.entries(step.types || c.types || {})) h.register(name, typeOptions(t));
            break;
          }
          case 'pump': pump(); break;
          case 'mesh':
            for (const a of openIds()) for (const b of openIds()) if (a !== b) statusOf(() => node(a).memberUp(b, step.incarnation || 1));
            break;
          case 'close': node(id).close(); nodes.set(id, null); break;
          case 'member_up': expectStatus(step, () => node(id).memberUp(step.peer || 0, step.incarnation || 1)); break;
          case 'member_left': expectStatus(step, () => node(id).memberLeft(step.peer || 0)); break;
          case 'tick': expectStatus(step, () => node(id).tick(step.now_ms || 0)); break;
          case 'drop': node(id).outgoing(); break;
          case 'publish': {
            const u = URGENCY[step.urgency || 'default'];
            const gen = expectStatus(step, () => node(id).publish(step.type || '', bytes(step.data),
              { full: !!step.full, urgency: u === undefined ? 99 : u, delayMs: step.delay_ms || 0 }));
            if (gen && step.expect) {
              if (step.expect.incarnation !== undefined) assert.strictEqual(gen.incarnation, step.expect.incarnation, 'incarnation');
              if (step.expect.age !== undefined) assert.strictEqual(gen.age, step.expect.age, 'age');
            }
            break;
          }
          case 'deliver': expectStatus(step, () => node(id).deliver(step.from || 0, Buffer.from(step.hex || '', 'hex'))); break;
          case 'read': {
            const v = expectStatus(step, () => node(id).read(step.type || '', step.of || 0));
            const e = step.expect;
            if (v && e) {
              for (const [k, name] of [['incarnation', 'incarnation'], ['age', 'age'], ['base_age', 'baseAge'], ['version_mismatch', 'versionMismatch']]) {
                if (e[k] !== undefined) assert.strictEqual(v[name], e[k], k);
              }
              if (e.base !== undefined) assert.ok(v.base.equals(bytes(e.base)), 'base differs');
              if (e.deltas !== undefined) {
                assert.strictEqual(v.deltas.length, e.deltas.length, 'delta count');
                e.deltas.forEach((d, j) => assert.ok(v.deltas[j].equals(bytes(d)), `delta ${j} differs`));
              }
            }
            break;
          }
          case 'query': {
            const req = expectStatus(step, () => node(id).query(step.type || '', step.of || 0, step.max_staleness_ms));
            if (req !== undefined) {
              lastRequest.set(id, req);
              if (step.pending !== undefined) assert.strictEqual(req !== 0, step.pending, req ? 'query is pending' : 'query was fresh');
            }
            break;
          }
          case 'expect_event':
          case 'expect_no_event': {
            const kind = EVENT_KIND[step.kind];
            if (!kind) throw new Error(`unknown event kind ${step.kind}`);
            let found = false;
            for (let ev = node(id).nextEvent(); !found && ev !== undefined; ev = found ? undefined : node(id).nextEvent()) {
              if (ev.kind !== kind) continue;
              if (step.of !== undefined && ev.nodeId !== step.of) continue;
              if (step.type !== undefined && ev.type !== step.type) continue;
              if (step.age !== undefined && ev.age !== step.age) continue;
              if (step.incarnation !== undefined && ev.incarnation !== step.incarnation) continue;
              if (step.peer_version !== undefined && ev.peerVersion !== step.peer_version) continue;
              if (kind === 'queryDone') {
                if (ev.requestId !== lastRequest.get(id)) continue;
                assert.strictEqual(ddata.statusName(ev.status), step.status || 'DD_OK', 'query status');
              }
              found = true;
            }
            const want = step.op === 'expect_event';
            assert.strictEqual(found, want, `event ${step.kind} ${want ? 'missing' : 'present'}`);
            break;
          }
          case 'nodes': assert.deepStrictEqual(node(id).nodes(), step.expect || []); break;
          default: throw new Error(`unknown op '${step.op}'`);
        }
      } catch (e) {
        e.message = `step ${i + 1} (${step.op}): ${e.message}`;
        throw e;
      }
    });
  } finally {
    for (const h of nodes.values()) if (h) h.close();
    for (const s of stores.values()) s.close();
  }
}

module.exports = { runOwnedCase };
