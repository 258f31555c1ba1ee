'use strict';

const test = require('node:test');
const assert = require('node:assert');
const ddata = require('..');

// Two nodes in pump mode, moved by a timer as a host would.
function cluster() {
  const a = new ddata.System({ nodeId: 'a', seeds: ['a'] });
  const b = new ddata.System({ nodeId: 'b', seeds: ['a'] });
  a.tick();
  b.tick();
  const ra = new ddata.Replica(a, { notifyIntervalMs: 20, gossipIntervalMs: 100 });
  const rb = new ddata.Replica(b, { notifyIntervalMs: 20, gossipIntervalMs: 100 });
  const nodes = { a, b };
  const pump = () => {
    for (const [id, sys] of Object.entries(nodes)) {
      sys.tick();
      for (const [to, msg] of sys.outgoing()) if (nodes[to]) nodes[to].deliver(id, msg);
    }
  };
  const timer = setInterval(pump, 5);
  const close = () => {
    clearInterval(timer);
    ra.close();
    rb.close();
    a.close();
    b.close();
  };
  return { a, b, ra, rb, pump, close };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a majority write resolves once the peer has it, and the peer reads it', async () => {
  const c = cluster();
  try {
    let up = false;
    c.a.on('member', (ev) => { if (ev.node === 'b' && ev.state === 'up') up = true; });
    for (let i = 0; i < 100 && !up; i++) await sleep(10);
    assert.ok(up, 'node b never came up');
    await c.ra.write('hits', 'GCounter', { kind: 'increment', amount: 5 }, { consistency: 'all', timeoutMs: 3000 });
    const v = await c.rb.read('hits', { consistency: 'local' });
    assert.strictEqual(v.value, 5);
    assert.ok(v instanceof ddata.GCounter);
  } finally {
    c.close();
  }
});

test('a subscription emits changed events on the EventEmitter', async () => {
  const c = cluster();
  try {
    c.rb.subscribe('cart/', { prefix: true });
    const changed = new Promise((resolve) => c.b.on('changed', (ev) => { if (ev.key === 'cart/1') resolve(ev); }));
    c.rb.update('cart/1', 'ORSet', { kind: 'add', value: 'apple' });
    const ev = await Promise.race([changed, sleep(3000).then(() => null)]);
    assert.ok(ev, 'no changed event');
    assert.deepStrictEqual(c.rb.keys(), ['cart/1']);
    assert.deepStrictEqual(c.rb.get('cart/1').elementStrings(), ['apple']);
  } finally {
    c.close();
  }
});

test('an unreachable majority rejects with TimeoutError but keeps the local write', async () => {
  const a = new ddata.System({ nodeId: 'a', seeds: ['a'] });
  a.tick();
  const r = new ddata.Replica(a);
  const timer = setInterval(() => a.tick(), 5);
  try {
    // Only itself is up, so 'from 2' cannot be reached.
    await assert.rejects(
      r.write('k', 'GCounter', { kind: 'increment', amount: 1 }, { consistency: { from: 2 }, timeoutMs: 50 }),
      (e) => e instanceof ddata.TimeoutError && e.code === 'DD_ETIMEOUT',
    );
    assert.strictEqual(r.get('k').value, 1);
  } finally {
    clearInterval(timer);
    r.close();
    a.close();
  }
});

test('garbage messages are rejected and change nothing', () => {
  const a = new ddata.System({ nodeId: 'a', seeds: ['a'] });
  a.tick();
  const r = new ddata.Replica(a);
  r.update('k', 'GCounter', { kind: 'increment', amount: 2 });
  assert.throws(() => a.deliver('b', Buffer.from([0xde, 0xad, 0xbe, 0xef])), ddata.DdataError);
  assert.strictEqual(r.get('k').value, 2);
  r.close();
  a.close();
});

test('misuse: closed handles, wrong objects and bad options throw', () => {
  assert.throws(() => new ddata.System({}), ddata.InvalidArgumentError);
  assert.throws(() => new ddata.System({ nodeId: 'x', seeds: 'nope' }), ddata.InvalidArgumentError);
  const a = new ddata.System({ nodeId: 'a' });
  const r = new ddata.Replica(a);
  r.close();
  assert.throws(() => r.update('k', 'GCounter', { kind: 'increment', amount: 1 }), ddata.MisuseError);
  r.close();
  a.close();
  assert.throws(() => a.tick(), ddata.MisuseError);
  assert.throws(() => new ddata.Replica({ _native: {} }), ddata.InvalidArgumentError);
});

test('a replica keeps its system alive when the system is closed first', () => {
  const a = new ddata.System({ nodeId: 'a', seeds: ['a'] });
  const r = new ddata.Replica(a);
  a.close();
  r.update('k', 'Flag', { kind: 'enable' });
  assert.strictEqual(r.get('k').enabled, true);
  r.close();
});

test('system and replica options reach the library (downAfterMs, removeAfterMs, tickIntervalMs, maxMessageBytes)', () => {
  const sys = new ddata.System({ nodeId: 'opts', seeds: ['opts'], downAfterMs: 100, removeAfterMs: 200, tickIntervalMs: 5 });
  assert.throws(() => new ddata.Replica(sys, { maxMessageBytes: 10 }), ddata.InvalidArgumentError);
  const rep = new ddata.Replica(sys, { maxMessageBytes: 2048, expiryPrefixes: ['s/'], expireAfterMs: 1000, tombstoneGraceMs: 10 });
  rep.close();
  sys.close();
});

// Issue 17.1: a host clock starting at 0 schedules everything; it ended
// at [6, 6, 3] when 0 meant "use the wall clock".
test('a three-node pump cluster ticking 0, 100, 200, ... converges', () => {
  const ids = ['a', 'b', 'c'];
  const nodes = {};
  const reps = {};
  for (const id of ids) {
    nodes[id] = new ddata.System({ nodeId: id, seeds: ['a'] });
    nodes[id].tick(0);
    reps[id] = new ddata.Replica(nodes[id]);
  }
  for (const id of ids) reps[id].update('hits', 'GCounter', { kind: 'increment', amount: 2 });
  for (let now = 100; now <= 6000; now += 100) {
    for (const [id, sys] of Object.entries(nodes)) {
      sys.tick(now);
      for (const [to, msg] of sys.outgoing()) if (nodes[to]) nodes[to].deliver(id, msg, now);
    }
  }
  assert.deepStrictEqual(ids.map((id) => reps[id].get('hits').value), [6, 6, 6]);
  for (const id of ids) { reps[id].close(); nodes[id].close(); }
});

test('a pump time going backwards throws InvalidArgumentError', () => {
  const a = new ddata.System({ nodeId: 'a', seeds: ['a'] });
  const r = new ddata.Replica(a);
  try {
    a.tick(1000);
    assert.throws(() => a.tick(999), (e) => e instanceof ddata.InvalidArgumentError && /backwards/.test(e.message));
    a.tick(1000);
  } finally {
    r.close();
    a.close();
  }
});

// Issue 17.2: the replica keeps its records under its prefix and leaves the
// rest of the store alone, so one store serves it and the application.
test('a replica shares its store with the application', () => {
  const store = new ddata.StateStore();
  store.upsertSync('app/user/1', 0, 'x');
  const a = new ddata.System({ nodeId: 'a', seeds: ['a'] });
  const r = new ddata.Replica(a, { store, durableKeys: ['*'] });
  r.update('hits', 'GCounter', { kind: 'increment', amount: 3 });
  r.close();
  a.close();
  assert.deepStrictEqual(store.keysSync().map((k) => k.key.toString()), ['app/user/1', 'dd/replica/hits']);
  const b = new ddata.System({ nodeId: 'a', seeds: ['a'] });
  const r2 = new ddata.Replica(b, { store, durableKeys: ['*'] });
  assert.strictEqual(r2.get('hits').value, 3);
  assert.strictEqual(r2.get('app/user/1'), undefined);
  r2.close();
  b.close();
  const c = new ddata.System({ nodeId: 'c', seeds: ['c'] });
  assert.throws(() => new ddata.Replica(c, { store, storePrefix: 5 }), ddata.InvalidArgumentError);
  const r3 = new ddata.Replica(c, { store, durableKeys: ['*'], storePrefix: 'other/' });
  assert.strictEqual(r3.get('hits'), undefined);
  r3.close();
  c.close();
  store.close();
});

test('leaveSync in pump mode: the peer sees the node removed, and writes then throw MisuseError', async () => {
  const c = cluster();
  try {
    const seen = [];
    c.a.on('member', (ev) => { if (ev.node === 'b') seen.push(ev.state); });
    for (let i = 0; i < 100 && !seen.includes('up'); i++) await sleep(10);
    assert.ok(seen.includes('up'), 'node b never came up');
    c.b.leaveSync(60000); // pump mode: returns at once
    for (let i = 0; i < 100 && !seen.includes('removed'); i++) await sleep(10);
    assert.strictEqual(seen[seen.length - 1], 'removed');
    assert.ok(!seen.includes('down') && !seen.includes('unreachable'));
    assert.throws(() => c.rb.update('x', 'GCounter', { kind: 'increment', amount: 1 }), ddata.MisuseError);
    await assert.rejects(c.b.leave(1000), ddata.MisuseError);
  } finally {
    c.close();
  }
});

test('leave over TCP resolves once the peer acknowledged, and the peer sees it removed', async () => {
  const secret = Buffer.alloc(32, 5);
  const a = new ddata.System({ nodeId: 'ta', tcpListen: '127.0.0.1:0', secret, downAfterMs: 60000 });
  const b = new ddata.System({ nodeId: 'tb', tcpListen: '127.0.0.1:0', secret, downAfterMs: 60000, seeds: [a.listenAddress] });
  const ra = new ddata.Replica(a, { gossipIntervalMs: 100 });
  const rb = new ddata.Replica(b, { gossipIntervalMs: 100 });
  try {
    const seen = [];
    a.on('member', (ev) => { if (ev.node === 'tb') seen.push(ev.state); });
    for (let i = 0; i < 500 && !seen.includes('up'); i++) await sleep(10);
    assert.ok(seen.includes('up'), 'node tb never came up');
    await b.leave(5000);
    for (let i = 0; i < 500 && !seen.includes('removed'); i++) await sleep(10);
    assert.strictEqual(seen[seen.length - 1], 'removed');
    assert.ok(!seen.includes('down') && !seen.includes('unreachable'));
  } finally {
    ra.close();
    rb.close();
    a.close();
    b.close();
  }
});
