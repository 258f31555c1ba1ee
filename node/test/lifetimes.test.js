'use strict';

// Finalizers run in any order: a replica may be collected after or before
// its system, a Crdt after the map it came from, a journal with nothing
// closed. None of it may crash, leak a live handle into a freed one, or
// break objects that are still reachable.
const test = require('node:test');
const assert = require('node:assert');
const ddata = require('..');

const gcAvailable = typeof global.gc === 'function';

async function collect() {
  for (let i = 0; i < 3; i++) {
    global.gc();
    await new Promise((r) => setImmediate(r));
  }
}

test('dropped systems, replicas, stores and values are finalized in any order', { skip: !gcAvailable }, async () => {
  for (let i = 0; i < 50; i++) {
    const sys = new ddata.System({ nodeId: 'n' + i, seeds: ['n' + i] });
    const rep = new ddata.Replica(sys);
    rep.update('k', 'PNCounterMap', { kind: 'increment', key: 'x', amount: i });
    if (i % 3 === 0) sys.close(); // parent closed first, child dropped
    if (i % 3 === 1) rep.close(); // child closed, parent dropped
    const j = new ddata.Journal();
    j.appendSync('p', 0, ['e']);
    const s = new ddata.StateStore();
    s.upsertSync('k', 0, 'v');
  }
  await collect();
});

test('a value taken from a replica outlives the replica and its system', { skip: !gcAvailable }, async () => {
  let v;
  {
    const sys = new ddata.System({ nodeId: 'a', seeds: ['a'] });
    const rep = new ddata.Replica(sys);
    rep.update('k', 'ORSet', { kind: 'add', value: 'kept' });
    v = rep.get('k');
    rep.close();
    sys.close();
  }
  await collect();
  assert.deepStrictEqual(v.elementStrings(), ['kept']);
});

test('a replica made from a temporary system keeps working after GC', { skip: !gcAvailable }, async () => {
  const make = () => new ddata.Replica(new ddata.System({ nodeId: 'z', seeds: ['z'] }));
  const rep = make();
  await collect();
  rep.update('k', 'GCounter', { kind: 'increment', amount: 4 });
  assert.strictEqual(rep.get('k').value, 4);
  rep.close();
});
