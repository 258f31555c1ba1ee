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
  s.upsertSync('user/bob', -1, 'b');
  s.upsertSync('user/amy', -1, 'a');
  s.upsertSync('order/1', -1, 'o1');
  s.upsertSync('user/amy', -1, 'a2');
  s.upsertSync('users', -1, 'u');
}

const keysOf = (rs) => rs.map((r) => r.key.toString());

test('keys by prefix in byte order, with revisions', () => {
  for (const [opts, name] of stores()) {
    const s = new ddata.StateStore(opts);
    fill(s);
    assert.deepStrictEqual(s.keysSync('user/').map((r) => [r.key.toString(), r.revision]),
      [['user/amy', 2], ['user/bob', 1]], name);
    assert.deepStrictEqual(keysOf(s.keysSync()), ['order/1', 'user/amy', 'user/bob', 'users'], name);
    assert.deepStrictEqual(s.keysSync('zzz'), [], name);
    s.close();
  }
});

test('range forward, backward, from a missing key, and empty', () => {
  for (const [opts, name] of stores()) {
    const s = new ddata.StateStore(opts);
    fill(s);
    assert.deepStrictEqual(keysOf(s.rangeSync('', 2)), ['order/1', 'user/amy'], name);
    assert.deepStrictEqual(keysOf(s.rangeSync('user/b', 10)), ['user/bob', 'users'], name);
    assert.deepStrictEqual(keysOf(s.rangeSync('', -2)), ['users', 'user/bob'], name);
    assert.deepStrictEqual(s.rangeSync('user/b', -5).map((r) => r.state.toString()), ['a2', 'o1'], name);
    assert.deepStrictEqual(s.rangeSync('', 0), [], name);
    assert.throws(() => s.rangeSync('', 1.5), ddata.InvalidArgumentError);
    s.close();
  }
});

test('last and purge', () => {
  const s = new ddata.StateStore();
  assert.strictEqual(s.lastSync(), undefined);
  fill(s);
  const last = s.lastSync();
  assert.deepStrictEqual([last.key.toString(), last.revision, last.state.toString()], ['users', 1, 'u']);
  s.purgeSync();
  assert.strictEqual(s.lastSync(), undefined);
  assert.deepStrictEqual(s.keysSync(), []);
  assert.strictEqual(s.upsertSync('user/amy', 0, 'again'), 1);
  s.close();
  assert.throws(() => s.purgeSync(), ddata.MisuseError);
  assert.throws(() => s.keysSync(), ddata.MisuseError);
});

test('more keys than a cursor page come back once each, in order', () => {
  const s = new ddata.StateStore();
  const want = [];
  for (let i = 0; i < 1100; i++) {
    const k = 'k' + String(i).padStart(5, '0');
    s.upsertSync(k, 0, 'v');
    want.push(k);
  }
  assert.deepStrictEqual(keysOf(s.keysSync('k')), want);
  assert.deepStrictEqual(keysOf(s.rangeSync('', -2000)), want.slice().reverse());
  assert.throws(() => s.keysSync(Buffer.alloc(5000)), ddata.LimitError);
  s.close();
});

test('journal pids in byte order after a bound, at most max', () => {
  const j = new ddata.Journal();
  for (const pid of ['b', 'a', 'c'])
    j.appendSync(pid, 0, ['e']);
  assert.deepStrictEqual(j.pidsSync().map(String), ['a', 'b', 'c']);
  assert.deepStrictEqual(j.pidsSync('a', 1).map(String), ['b']);
  assert.deepStrictEqual(j.pidsSync('c'), []);
  j.close();
  assert.throws(() => j.pidsSync(), ddata.MisuseError);
});
