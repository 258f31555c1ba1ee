'use strict';

// The conformance runner: plays tests/conformance/crdt/*.json (format in
// tests/conformance/SCHEMA.md) through this package, one node:test per
// case. Cases in tests/conformance/known_failures_node.txt must fail, and a
// listed case that passes fails the run, so the list only shrinks.
// owned/*.json (tests/conformance/owned/README.md) runs through
// ddata.Owned (test/owned_runner.js); store/*.json
// (tests/conformance/store/README.md) through ddata.StateStore and
// ddata.Journal (test-support/store_runner.js).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const ddata = require('..');
const { runOwnedCase } = require('../test-support/owned_runner');
const { runStoreCase } = require('../test-support/store_runner');
const { runReplicatorCase } = require('../test-support/replicator_runner');

const root = process.env.DDATA_CONFORMANCE_DIR || path.resolve(__dirname, '../../tests/conformance');
const knownFile = path.join(root, 'known_failures_node.txt');

function readKnown() {
  if (!fs.existsSync(knownFile)) return new Set();
  return new Set(fs.readFileSync(knownFile, 'utf8').split('\n').map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#')));
}

function bytes(v) {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (typeof v === 'object' && typeof v.$bytes === 'string') return Buffer.from(v.$bytes, 'base64');
  throw new Error('bad byte string ' + JSON.stringify(v));
}

function convertOp(op) {
  const out = { kind: op.kind };
  if (op.amount !== undefined) out.amount = op.amount;
  if (op.key !== undefined) out.key = bytes(op.key);
  if (op.value !== undefined) out.value = bytes(op.value);
  if (op.value_type !== undefined) out.valueType = op.value_type;
  if (op.nested !== undefined) out.nested = convertOp(op.nested);
  return out;
}

function statusOf(fn) {
  try {
    fn();
    return 'DD_OK';
  } catch (e) {
    if (e instanceof ddata.DdataError) return e.code;
    throw e;
  }
}

function checkRoundTrips(v, where) {
  const decoded = ddata.Crdt.decode(v.encode(), undefined, 2 ** 52);
  assert.ok(decoded.equals(v), where + ': encode/decode changed the value');
  const fromJson = ddata.Crdt.fromJson(v.toJson());
  assert.ok(fromJson.equals(v), where + ': to_json/from_json changed the value');
}

function runScenario(c) {
  const n = c.replicas || 1;
  const reps = [];
  for (let i = 0; i < n; i++) reps.push(ddata.Crdt.create(c.type));
  c.steps.forEach((step, idx) => {
    const where = `step ${idx + 1}`;
    if (step.op) {
      const r = step.replica || 0;
      const actor = step.actor !== undefined ? step.actor : r + 1;
      const now = step.now !== undefined ? step.now : 1000 + idx + 1;
      const want = step.delta_to && step.delta_to.length > 0;
      let delta;
      const status = statusOf(() => {
        delta = reps[r].apply(convertOp(step.op), { nowMs: now, delta: want, actor });
      });
      assert.strictEqual(status, step.expect_status || 'DD_OK', where + ': status');
      if (status === 'DD_OK' && want) for (const to of step.delta_to) reps[to].merge(delta);
    } else if (step.merge) {
      reps[step.merge.into].merge(reps[step.merge.from]);
    } else if (step.expect) {
      const e = step.expect;
      const v = reps[e.replica || 0];
      if (e.value !== undefined) assert.deepStrictEqual(v.toValue(), e.value, where + ': value');
      if (e.equal_to !== undefined) assert.ok(v.equals(reps[e.equal_to]), where + ': equal_to');
      checkRoundTrips(v, where);
    } else {
      throw new Error(where + ': unknown step ' + JSON.stringify(step));
    }
  });
}

const LIMIT_NAMES = {
  max_bytes: 'maxBytes', max_elements: 'maxElements', max_depth: 'maxDepth',
  max_value_bytes: 'maxValueBytes', max_clock_skew_ms: 'maxClockSkewMs',
};

function runDecode(c) {
  const limits = {};
  for (const [k, v] of Object.entries(c.decode.limits || {})) limits[LIMIT_NAMES[k]] = v;
  const status = statusOf(() => ddata.Crdt.decode(Buffer.from(c.decode.hex, 'hex'), limits, c.decode.now || 0));
  assert.strictEqual(status, c.expect_status || 'DD_OK');
}

function runCase(file, c) {
  if (file.startsWith('owned/')) return runOwnedCase(c);
  if (file.startsWith('store/')) return runStoreCase(c);
  if (file.startsWith('replicator/')) return runReplicatorCase(c);
  if (c.decode) runDecode(c);
  else runScenario(c);
}

const known = readKnown();
const seen = new Set();
for (const dir of ['crdt', 'owned', 'store', 'replicator']) {
  const d = path.join(root, dir);
  if (!fs.existsSync(d)) continue;
  for (const name of fs.readdirSync(d).filter((f) => f.endsWith('.json')).sort()) {
    const doc = JSON.parse(fs.readFileSync(path.join(d, name), 'utf8'));
    for (const c of doc.cases) {
      const id = `${name}:${c.name}`;
      seen.add(id);
      test(`conformance ${dir}/${id}`, () => {
        let error = null;
        try {
          runCase(`${dir}/${name}`, c);
        } catch (e) {
          error = e;
        }
        if (known.has(id)) {
          assert.ok(error, `${id} passes but is listed in known_failures_node.txt: remove it`);
        } else if (error) {
          throw error;
        }
      });
    }
  }
}

test('known_failures_node.txt names only existing cases', () => {
  for (const id of known) assert.ok(seen.has(id), `${id} is listed but no such case exists`);
});
