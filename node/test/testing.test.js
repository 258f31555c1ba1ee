'use strict';

// ddata/testing: the simulated cluster, clock, network and stores that
// applications use in their own tests.
const test = require('node:test');
const assert = require('node:assert');
const { ManualClock, SimCluster, SimNetwork, memoryStore } = require('ddata-crdt/testing');

const counters = (sim, key) => sim.values(key, (r, k) => {
  const v = r.get(k);
  return v === undefined ? 0 : Number(v.value);
});

test('a partition heals and the cluster converges', () => {
  const sim = new SimCluster({ nodes: 3, seed: 11 });
  try {
    sim.run(2000);
    sim.partition(['n0'], ['n1', 'n2']);
    sim.replica('n0').update('hits', 'PNCounter', { kind: 'increment', amount: 1 });
    sim.replica('n1').update('hits', 'PNCounter', { kind: 'increment', amount: 2 });
    sim.run(2000);
    assert.deepStrictEqual(counters(sim, 'hits'), { n0: 1, n1: 2, n2: 2 }, `seed ${sim.seed}`);
    sim.heal();
    sim.run(4000);
    assert.deepStrictEqual(counters(sim, 'hits'), { n0: 3, n1: 3, n2: 3 }, `seed ${sim.seed}`);
  } finally {
    sim.close();
  }
});

test('a lossy, delaying network converges and replays by seed', () => {
  const play = (seed) => {
    const sim = new SimCluster({ nodes: 3, seed, dropRate: 0.3, delayMs: [10, 200] });
    try {
      sim.run(3000);
      sim.names.forEach((n, i) => sim.replica(n).update('s', 'ORSet', { kind: 'add', value: 'e' + i }));
      sim.run(8000);
      return [sim.values('s', (r, k) => r.get(k).elements().map(String)), sim.network.dropped];
    } finally {
      sim.close();
    }
  };
  const [first, dropped] = play(5);
  assert.ok(dropped > 0);
  for (const v of Object.values(first)) assert.deepStrictEqual(v, ['e0', 'e1', 'e2']);
  assert.deepStrictEqual(play(5), [first, dropped]);
});

test('a restarted node keeps durable keys from its memory store', () => {
  const sim = new SimCluster({ nodes: 1, replica: { durableKeys: ['cart*'] } });
  try {
    sim.replica('n0').update('cart-1', 'ORSet', { kind: 'add', value: 'apple' });
    sim.replica('n0').update('volatile', 'GCounter', { kind: 'increment', amount: 1 });
    sim.restart('n0');
    assert.deepStrictEqual(sim.replica('n0').get('cart-1').elements().map(String), ['apple']);
    assert.strictEqual(sim.replica('n0').get('volatile'), undefined);
  } finally {
    sim.close();
  }
});

test('manual clock, network and memory store parts', async () => {
  const clock = new ManualClock(1000);
  assert.strictEqual(clock.advance(5), 1005);
  assert.throws(() => clock.advance(-1), RangeError);
  const net = new SimNetwork({ seed: 1 });
  net.partition(['a'], ['b']);
  net.send(0, 'a', 'b', Buffer.from('x'));
  net.heal();
  net.send(0, 'a', 'b', Buffer.from('y'));
  assert.deepStrictEqual(net.due(0).map((m) => m.bytes.toString()), ['y']);
  assert.strictEqual(net.dropped, 1);
  const s = memoryStore();
  assert.strictEqual(await s.upsert('k', 0, 'v'), 1);
  s.close();
});
