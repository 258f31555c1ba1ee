// The ES module entry exports every name the CommonJS entry does.
import { test } from 'node:test';
import assert from 'node:assert';
import { createRequire } from 'node:module';
import * as esm from '../lib/index.mjs';

const cjs = createRequire(import.meta.url)('../lib/index.js');

test('esm entry exports every name of the commonjs entry', () => {
  const named = Object.keys(esm).filter((k) => k !== 'default').sort();
  assert.deepStrictEqual(named, Object.keys(cjs).sort());
  assert.strictEqual(esm.default, cjs);
});
