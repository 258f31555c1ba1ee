'use strict';

const test = require('node:test');
const assert = require('node:assert');
const ddata = require('..');

test('version strings agree with the version number', () => {
  const [maj, min, pat] = ddata.version().split('.').map(Number);
  assert.strictEqual(ddata.versionNumber(), maj * 1000000 + min * 1000 + pat);
  assert.ok(ddata.abiVersion() >= 1);
});

test('package version records the library version', () => {
  assert.strictEqual(require('../package.json').version, ddata.version());
});

test('status names are distinct for every code', () => {
  const names = new Set();
  for (let code = 0; code >= -15; code--) names.add(ddata.statusName(code));
  assert.strictEqual(names.size, 16);
  assert.strictEqual(ddata.statusName(-5), 'DD_ECONFLICT');
  assert.strictEqual(ddata.statusName(-999), 'DD_E?');
});

test('error classes carry status and code and subclass DdataError', () => {
  const e = ddata.makeError(-5, 'journal x: expected 3, found 4');
  assert.ok(e instanceof ddata.ConflictError);
  assert.ok(e instanceof ddata.DdataError);
  assert.ok(e instanceof Error);
  assert.strictEqual(e.status, -5);
  assert.strictEqual(e.code, 'DD_ECONFLICT');
  assert.strictEqual(e.name, 'ConflictError');
  assert.match(e.message, /expected 3/);
});

test('an unknown status gives the base class', () => {
  const e = ddata.makeError(-77, 'odd');
  assert.strictEqual(e.constructor, ddata.DdataError);
});

test('bad arguments to the addon throw InvalidArgumentError', () => {
  assert.throws(() => ddata.statusName('x'), ddata.InvalidArgumentError);
});

test('init is idempotent', () => {
  ddata.init();
  ddata.init();
});

test('random actors are non-zero and distinct bigints; DD_ECALLBACK has its class', () => {
  const a = ddata.randomActor();
  const b = ddata.randomActor();
  assert.strictEqual(typeof a, 'bigint');
  assert.ok(a !== 0n && b !== 0n && a !== b);
  assert.strictEqual(ddata.CallbackError.status, -16);
  assert.strictEqual(ddata.statusName(-16), 'DD_ECALLBACK');
});
