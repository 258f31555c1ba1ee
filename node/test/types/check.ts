// Compiled by test/types.test.js with `tsc --strict --noEmit`: index.d.ts
// must type-check, and these uses of it must agree with it.
import * as ddata from 'ddata-crdt';
import { ANY_REVISION, Journal, StateStore, System } from 'ddata-crdt';
import { SimCluster, memoryStore } from 'ddata-crdt/testing';

async function stores(): Promise<number> {
  const journal = new Journal({ backend: 'memory' });
  await journal.append('order-1', 0, ['created', { payload: 'paid', tags: ['order'] }]);
  journal.appendSync('order-1', 2, [Buffer.from('shipped')]);
  let n = 0;
  for await (const ev of journal.replay('order-1')) n += ev.payload.length;
  const all: ddata.JournalEvent[] = await journal.replay('order-1').toArray();
  const last = await journal.recover('order-1', { onEvent: (ev) => { n += Number(ev.seq); } });
  const snap = await journal.loadSnapshot('order-1');
  if (snap !== undefined) n += snap.state.length;
  journal.close();

  const store = new StateStore();
  const rev = await store.upsert('k', 0, 'v');
  await store.upsert('k', ANY_REVISION, 'w');
  const got = await store.get('k');
  for await (const r of store.keys('')) n += r.key.length;
  await store.delete('k', Number(rev) + 1);
  store.close();
  return n + all.length + Number(last) + (got ? got.state.length : 0);
}

function counters(): number {
  const c = new ddata.GCounter({ actor: 1 });
  c.increment(2);
  const sys = new System({ nodeId: 'a', seeds: ['a'] });
  sys.close();
  return Number(c.value);
}

function simulated(): Record<string, number> {
  const sim = new SimCluster({ nodes: 3, seed: 1, replica: { expiryPrefixes: ['s/'], expireAfterMs: 1000 } });
  sim.partition(['n0'], ['n1', 'n2']);
  sim.run(100);
  sim.heal();
  const out = sim.values('k', (r, k) => (r.get(k) === undefined ? 0 : 1));
  sim.close();
  memoryStore().close();
  return out;
}

export { stores, counters, simulated };
