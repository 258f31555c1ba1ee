// `import` works as well as `require`: the ES module wrapper exports every
// name of the CommonJS package, and both load the same addon instance.
import test from 'node:test';
import assert from 'node:assert';
import { createRequire } from 'node:module';
import ddata, { GCounter, StateStore, System, ANY_REVISION } from 'ddata-crdt';
import * as esm from 'ddata-crdt';

const require = createRequire(import.meta.url);

test('import { System } from "ddata-crdt" gives the same objects as require', () => {
  const cjs = require('ddata-crdt');
  assert.strictEqual(System, cjs.System);
  assert.strictEqual(ddata, cjs);
  for (const name of Object.keys(cjs)) assert.strictEqual(esm[name], cjs[name], 'missing ESM export ' + name);
});

test('the ESM exports work', async () => {
  const c = new GCounter({ actor: 1 });
  c.increment(2);
  assert.strictEqual(c.value, 2);
  const s = new StateStore();
  assert.strictEqual(await s.upsert('k', ANY_REVISION, 'v'), 1);
  s.close();
});
