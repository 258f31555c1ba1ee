// The same smoke test through ESM import (tests/packaging/run.sh).
import assert from 'node:assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import ddata from 'ddata-crdt';
import { GCounter, Journal, Keyring, StateStore } from 'ddata-crdt';

assert.strictEqual(typeof ddata.version, 'function');
const counter = new GCounter({ actor: 1 });
counter.increment(3);
counter.increment(4);
assert.strictEqual(Number(counter.value), 7);

const journal = new Journal({ backend: 'sqlite', path: 'events-esm.db' });
await journal.append('order-1', 0, ['created', 'paid']);
const payloads = (await journal.replay('order-1').toArray()).map((e) => Buffer.from(e.payload).toString());
assert.deepStrictEqual(payloads, ['created', 'paid']);
journal.close();

const ring = new Keyring();
ring.addKey(1, crypto.randomBytes(32));
const store = new StateStore({ backend: 'sqlite', path: 'state-esm.db', keyring: ring });
await store.upsert('cart-1', 0, 'TOP-SECRET-STATE');
assert.strictEqual(Buffer.from((await store.get('cart-1')).state).toString(), 'TOP-SECRET-STATE');
store.close();
assert.ok(!fs.readFileSync('state-esm.db').includes('TOP-SECRET-STATE'), 'sealed state written in clear');
console.log('node (import) smoke: ok, ddata ' + ddata.version());
