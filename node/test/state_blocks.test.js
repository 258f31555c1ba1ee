'use strict';

// The state store as a building block (issue 17.13): scan with bounds,
// last/purge by prefix, batch and flush, in the Promise and Sync forms, on
// every backend (sealed too). A collection of another framework is a key
// prefix; nothing here may touch a neighbour.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const ddata = require('..');

const ANY = ddata.ANY_REVISION;

// [name, open()] where open() opens the same store again.
function openers() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-blocks-'));
  const ring = () => new ddata.Keyring().addKey(1, Buffer.alloc(32, 7));
  const memory = new ddata.StateStore({});
  return [
    ['memory', () => memory, false],
    ['sqlite', () => new ddata.StateStore({ backend: 'sqlite', path: path.join(dir, 's.db') }), true],
    ['fs', () => new ddata.StateStore({ backend: 'fs', path: path.join(dir, 'fs') }), true],
    ['sealed-sqlite', () => new ddata.StateStore({ backend: 'sqlite', path: path.join(dir, 'z.db'), keyring: ring() }), true],
  ];
}

const keysOf = (rows) => rows.map((r) => r.key.toString('latin1'));
const fill = (s, keys) => keys.forEach((k) => s.upsertSync(k, ANY, 'v:' + k));

async function collect(rows) {
  const out = [];
  for await (const r of rows) out.push(r);
  return out;
}

test('scan: exclusive start, end bound, reverse with a limit', async () => {
  for (const [name, open] of openers()) {
    const s = open();
    fill(s, ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9']);
    assert.deepStrictEqual(keysOf(s.scanSync({ start: 'k3', end: 'k7', startExclusive: true })), ['k4', 'k5', 'k6'], name);
    const rev = await collect(s.scan({ start: 'k3', end: 'k7', endInclusive: true, reverse: true, limit: 2 }));
    assert.deepStrictEqual(keysOf(rev), ['k7', 'k6'], name);
    s.close();
  }
});

test('scan: a prefix bound with 0xFF bytes', async () => {
  for (const [name, open] of openers()) {
    const s = open();
    for (const k of [[0x61], [0x61, 0xff], [0x61, 0xff, 1], [0x61, 0xff, 0xff], [0x62], [0xff], [0xff, 0xff, 2]])
      s.upsertSync(Buffer.from(k), ANY, 'x');
    const hex = (rows) => rows.map((r) => r.key.toString('hex'));
    assert.deepStrictEqual(hex(s.scanSync({ prefix: Buffer.from([0x61, 0xff]) })), ['61ff', '61ff01', '61ffff'], name);
    assert.deepStrictEqual(hex(await collect(s.scan({ prefix: Buffer.from([0xff]), reverse: true }))), ['ffff02', 'ff'], name);
    s.close();
  }
});

test('listings with values, and without', async () => {
  for (const [name, open] of openers()) {
    const s = open();
    fill(s, ['c/1', 'c/2', 'd/1']);
    const rows = s.keysSync('c/', { values: true });
    assert.deepStrictEqual(rows.map((r) => r.state.toString()), ['v:c/1', 'v:c/2'], name);
    const keysOnly = await collect(s.scan({ prefix: 'c/', values: false }));
    assert.deepStrictEqual(keysOnly.map((r) => Object.keys(r).sort()), [['key', 'revision'], ['key', 'revision']], name);
    s.close();
  }
});

test('last and purge by prefix leave other prefixes', async () => {
  for (const [name, open] of openers()) {
    const s = open();
    fill(s, ['a/1', 'a/2', 'ab', 'b/1']);
    assert.strictEqual((await s.last('a/')).key.toString(), 'a/2', name);
    assert.strictEqual(s.lastSync('z'), undefined, name);
    assert.strictEqual(s.lastSync().key.toString(), 'b/1', name);
    await s.purge('a/');
    assert.deepStrictEqual(keysOf(s.scanSync()), ['ab', 'b/1'], name);
    s.purgeSync('ab');
    assert.deepStrictEqual(keysOf(s.scanSync()), ['b/1'], name);
    s.close();
  }
});

test('batch: all or nothing, across a reopen', async () => {
  for (const [name, open, reopens] of openers()) {
    let s = open();
    fill(s, ['a', 'b']);
    await assert.rejects(s.batch([['upsert', 'a', 1, 'new'], ['delete', 'b', 1], ['upsert', 'c', 0, 'c'],
      ['upsert', 'd', 5, 'd']]), (e) => e instanceof ddata.ConflictError && /op 3/.test(e.message), name);
    if (reopens) {
      s.close();
      s = open();
    }
    assert.strictEqual(s.getSync('a').state.toString(), 'v:a', name);
    assert.ok(s.getSync('b') && !s.getSync('c') && !s.getSync('d'), name);
    assert.deepStrictEqual(s.batchSync([['upsert', 'a', 1, 'a2'], ['delete', 'b', ANY], ['upsert', 'c', 0, 'c']]), [2, 0, 1], name);
    assert.strictEqual(s.getSync('b'), undefined, name);
    s.close();
  }
});

test('batch and scan check their arguments at the call', async () => {
  const s = new ddata.StateStore({});
  assert.throws(() => s.batchSync([['replace', 'k', 0, 'v']]), /batch op 0/);
  assert.throws(() => s.batchSync([['delete', 'k', 1, 'extra']]), /batch op 0/);
  await assert.rejects(s.batch('nope'), /array/);
  assert.throws(() => s.batchSync([['upsert', 'k', ANY, '1'], ['delete', 'k', ANY]]), /appears twice/);
  assert.throws(() => s.scanSync({ limit: -1 }), /limit/);
  assert.throws(() => s.scan({ reverse: 'yes' }), /boolean/);
  s.close();
});

test('flush, then the writes survive a reopen', async () => {
  for (const [name, open, reopens] of openers()) {
    let s = open();
    s.upsertSync('f', 0, 'flushed');
    await s.flush();
    s.flushSync();
    if (reopens) {
      s.close();
      s = open();
    }
    assert.strictEqual(s.getSync('f').state.toString(), 'flushed', name);
    s.close();
  }
});
