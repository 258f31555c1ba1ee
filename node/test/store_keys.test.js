'use strict';

// Walking a state store (keys, range, last, purge) and listing a journal's
// persistence ids, on every backend.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const ddata = require('..');

function stores() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-keys-'));
  return [
    [{}, 'memory'],
    [{ backend: 'sqlite', path: path.join(dir, 's.db') }, 'sqlite'],
    [{ backend: 'fs', path: path.join(dir, 'fs') }, 'fs'],
  ];
}

function fill(s) {
  s.upsert('user/bob', -1, 'b');
  s.upsert('user/amy', -1, 'a');
  s.upsert('order/1', -1, 'o1');
  s.upsert('user/amy', -1, 'a2');
  s.upsert('users', -1, 'u');
}

const keysOf = (rs) => rs.map((r) => r.key.toString());

test('keys by prefix in byte order, with revisions', () => {
  for (const [opts, name] of stores()) {
    const s = new ddata.StateStore(opts);
    fill(s);
    assert.deepStrictEqual(s.keys('user/').map((r) => [r.key.toString(), r.revision]),
      [['user/amy', 2], ['user/bob', 1]], name);
    assert.deepStrictEqual(keysOf(s.keys()), ['order/1', 'user/amy', 'user/bob', 'users'], name);
    assert.deepStrictEqual(s.keys('zzz'), [], name);
    s.close();
  }
});

test('range forward, backward, from a missing key, and empty', () => {
  for (const [opts, name] of stores()) {
    const s = new ddata.StateStore(opts);
    fill(s);
    assert.deepStrictEqual(keysOf(s.range('', 2)), ['order/1', 'user/amy'], name);
    assert.deepStrictEqual(keysOf(s.range('user/b', 10)), ['user/bob', 'users'], name);
    assert.deepStrictEqual(keysOf(s.range('', -2)), ['users', 'user/bob'], name);
    assert.deepStrictEqual(s.range('user/b', -5).map((r) => r.state.toString()), ['a2', 'o1'], name);
    assert.deepStrictEqual(s.range('', 0), [], name);
    assert.throws(() => s.range('', 1.5), ddata.InvalidArgumentError);
    s.close();
  }
});

test('last and purge', () => {
  const s = new ddata.StateStore();
  assert.strictEqual(s.last(), undefined);
  fill(s);
  const last = s.last();
  assert.deepStrictEqual([last.key.toString(), last.revision, last.state.toString()], ['users', 1, 'u']);
  s.purge();
  assert.strictEqual(s.last(), undefined);
  assert.deepStrictEqual(s.keys(), []);
  assert.strictEqual(s.upsert('user/amy', 0, 'again'), 1);
  s.close();
  assert.throws(() => s.purge(), ddata.MisuseError);
  assert.throws(() => s.keys(), ddata.MisuseError);
});

test('more keys than a cursor page come back once each, in order', () => {
  const s = new ddata.StateStore();
  const want = [];
  for (let i = 0; i < 1100; i++) {
    const k = 'k' + String(i).padStart(5, '0');
    s.upsert(k, 0, 'v');
    want.push(k);
  }
  assert.deepStrictEqual(keysOf(s.keys('k')), want);
  assert.deepStrictEqual(keysOf(s.range('', -2000)), want.slice().reverse());
  assert.throws(() => s.keys(Buffer.alloc(5000)), ddata.LimitError);
  s.close();
});

test('journal pids in byte order after a bound, at most max', () => {
  const j = new ddata.Journal();
  for (const pid of ['b', 'a', 'c'])
    j.append(pid, 0, ['e']);
  assert.deepStrictEqual(j.pids().map(String), ['a', 'b', 'c']);
  assert.deepStrictEqual(j.pids('a', 1).map(String), ['b']);
  assert.deepStrictEqual(j.pids('c'), []);
  j.close();
  assert.throws(() => j.pids(), ddata.MisuseError);
});
