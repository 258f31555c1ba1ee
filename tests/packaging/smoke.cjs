// Smoke test of an installed ddata-crdt through require(): a counter, a
// journal append and replay, and a sealed state store (tests/packaging/run.sh).
'use strict';
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const ddata = require('ddata-crdt');

const counter = new ddata.GCounter({ actor: 1 });
counter.increment(3);
counter.increment(4);
assert.strictEqual(Number(counter.value), 7);

async function main() {
  const journal = new ddata.Journal({ backend: 'sqlite', path: 'events-cjs.db' });
  await journal.append('order-1', 0, ['created', 'paid']); // a Promise, on the libuv pool
  const payloads = (await journal.replay('order-1').toArray()).map((e) => Buffer.from(e.payload).toString());
  assert.deepStrictEqual(payloads, ['created', 'paid']);
  journal.appendSync('order-2', 0, ['blocking form']);
  assert.strictEqual(journal.replaySync('order-2').length, 1);
  journal.close();

  const ring = new ddata.Keyring();
  ring.addKey(1, crypto.randomBytes(32));
  const store = new ddata.StateStore({ backend: 'sqlite', path: 'state-cjs.db', keyring: ring });
  await store.upsert('cart-1', 0, 'TOP-SECRET-STATE');
  assert.strictEqual(Buffer.from((await store.get('cart-1')).state).toString(), 'TOP-SECRET-STATE');
  store.close();
  assert.ok(!fs.readFileSync('state-cjs.db').includes('TOP-SECRET-STATE'), 'sealed state written in clear');
  console.log('node (require) smoke: ok, ddata ' + ddata.version() + ' from ' + require.resolve('ddata-crdt'));
}
main().catch((e) => { console.error(e); process.exit(1); });
