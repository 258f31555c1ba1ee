'use strict';

const test = require('node:test');
const assert = require('node:assert');
const ddata = require('..');

test('an owner publishes and a reader folds base plus deltas', () => {
  const a = new ddata.Owned({ nodeId: 1 });
  const b = new ddata.Owned({ nodeId: 2 });
  try {
    for (const n of [a, b]) n.register('load', { strategy: 'active_push' });
    a.tick(1000);
    b.tick(1000);
    a.memberUp(2, 1);
    b.memberUp(1, 1);
    a.publish('load', 'base', { full: true });
    const gen = a.publish('load', '+1');
    assert.strictEqual(gen.age, 2);
    for (const [to, msg] of a.outgoing()) if (to === 2) b.deliver(1, msg);
    const v = b.read('load', 1);
    assert.strictEqual(v.age, 2);
    assert.strictEqual(v.base.toString() + v.deltas.map(String).join(''), 'base+1');
    assert.deepStrictEqual(a.nodes(), [2]);
  } finally {
    a.close();
    b.close();
  }
});

test('garbage and misuse throw with a status and change nothing', () => {
  const a = new ddata.Owned({ nodeId: 1 });
  a.register('load');
  a.publish('load', 'v1', { full: true });
  a.memberUp(2, 1);
  assert.throws(() => a.deliver(2, Buffer.from([1, 2, 3])), ddata.DdataError);
  assert.strictEqual(a.read('load', 1).base.toString(), 'v1');
  assert.throws(() => a.register('x', { strategy: 'nope' }), ddata.InvalidArgumentError);
  assert.throws(() => a.read('missing', 1), ddata.DdataError);
  a.close();
  a.close();
  assert.throws(() => a.tick(1), ddata.MisuseError);
  assert.throws(() => new ddata.Owned({}), ddata.InvalidArgumentError);
});

test('owned state attached to a TCP system reaches the other node', async () => {
  const secret = Buffer.alloc(32, 7);
  const a = new ddata.System({ nodeId: 'a', tcpListen: '127.0.0.1:0', secret });
  const b = new ddata.System({ nodeId: 'b', tcpListen: '127.0.0.1:0', secret, seeds: [a.listenAddress] });
  const ra = new ddata.Replica(a);
  const rb = new ddata.Replica(b);
  const oa = new ddata.Owned({ system: a });
  const ob = new ddata.Owned({ system: b });
  try {
    for (const o of [oa, ob]) o.register('load', { strategy: 'active_push' });
    assert.throws(() => oa.outgoing(), ddata.MisuseError);
    oa.publish('load', '42', { full: true });
    const ida = ddata.Owned.nodeOf('a');
    let view;
    for (let i = 0; i < 500 && !view; i++) {
      try {
        view = ob.read('load', ida);
      } catch (e) {
        if (!(e instanceof ddata.NotFoundError)) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    assert.ok(view, 'b never saw a\'s view');
    assert.strictEqual(Buffer.from(view.base).toString(), '42');
    assert.ok(Array.isArray(a.stats().peers));
  } finally {
    for (const x of [oa, ob, ra, rb, a, b]) x.close();
  }
});

test('owned events reach listeners through the event fd', async () => {
  const a = new ddata.Owned({ nodeId: 1 });
  const b = new ddata.Owned({ nodeId: 2 });
  try {
    for (const n of [a, b]) n.register('load', { strategy: 'active_push' });
    a.memberUp(2, 1);
    b.memberUp(1, 1);
    const seen = new Promise((resolve) => b.once('viewChanged', resolve));
    a.publish('load', 'v1', { full: true });
    for (const [to, msg] of a.outgoing()) if (to === 2) b.deliver(1, msg);
    const ev = await seen;                      // delivered by libuv, not by a call here
    assert.strictEqual(Number(ev.nodeId), 1);
  } finally {
    a.close();
    b.close();
  }
});
