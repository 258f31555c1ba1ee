'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const ddata = require('..');

test('append and replay with bounds; a stale writer conflicts and writes nothing', () => {
  const j = new ddata.Journal();
  j.appendSync('p', 0, ['e1', 'e2', 'e3', 'e4', 'e5']);
  assert.strictEqual(j.highestSeqSync('p'), 5);
  assert.deepStrictEqual(j.replaySync('p', 2, 4).map((e) => e.seq), [2, 3, 4]);
  assert.deepStrictEqual(j.replaySync('p', 1, 5, 1).map((e) => e.payload.toString()), ['e1']);
  assert.throws(() => j.appendSync('p', 3, ['x']), ddata.ConflictError);
  assert.strictEqual(j.highestSeqSync('p'), 5);
  j.deleteToSync('p', 2);
  assert.deepStrictEqual(j.replaySync('p').map((e) => e.seq), [3, 4, 5]);
  assert.strictEqual(j.highestSeqSync('p'), 5);
  j.close();
});

test('snapshots: latest wins, maxSeq selects an older one, absent is undefined', () => {
  const j = new ddata.Journal();
  assert.strictEqual(j.loadSnapshotSync('p'), undefined);
  j.saveSnapshotSync('p', 5, 'five');
  j.saveSnapshotSync('p', 9, 'nine');
  assert.strictEqual(j.loadSnapshotSync('p').state.toString(), 'nine');
  assert.strictEqual(j.loadSnapshotSync('p', 8).seq, 5);
  j.close();
});

test('state store compare-and-set and durability across reopen', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-node-store-'));
  const file = path.join(dir, 's.db');
  let s = new ddata.StateStore({ backend: 'sqlite', path: file });
  assert.strictEqual(s.upsertSync('k', 0, 'v1'), 1);
  assert.throws(() => s.upsertSync('k', 0, 'again'), ddata.ConflictError);
  assert.strictEqual(s.upsertSync('k', 1, 'v2'), 2);
  assert.strictEqual(s.upsertSync('k', ddata.ANY_REVISION, 'v3'), 3);
  s.close();
  s = new ddata.StateStore({ backend: 'sqlite', path: file });
  const got = s.getSync('k');
  assert.strictEqual(got.revision, 3);
  assert.strictEqual(got.state.toString(), 'v3');
  s.deleteSync('k', 3);
  assert.strictEqual(s.getSync('k'), undefined);
  s.close();
  fs.rmSync(dir, { recursive: true });
});

test('bad options and arguments throw with a status', () => {
  assert.throws(() => new ddata.Journal({ backend: 'tape' }), ddata.InvalidArgumentError);
  assert.throws(() => new ddata.Journal({ backend: 'sqlite' }), ddata.DdataError);
  const j = new ddata.Journal();
  assert.throws(() => j.appendSync('p', 0, [{}]), ddata.InvalidArgumentError);
  assert.throws(() => j.appendSync('p', -1, ['x']), ddata.InvalidArgumentError);
  j.close();
  assert.throws(() => j.highestSeqSync('p'), ddata.MisuseError);
});

test('persist with snapshots, then recover from the snapshot plus the tail', () => {
  const j = new ddata.Journal();
  let total = 0;
  for (let i = 1; i <= 7; i++) {
    total += i;
    assert.strictEqual(j.persistSync('acc', i - 1, String(i), String(total), { strategy: 'full', snapshotEvery: 3 }), i);
  }
  let recovered = 0;
  let snapshots = 0;
  const last = j.recoverSync('acc', {
    onSnapshot: (seq, state) => { snapshots++; recovered = Number(state.toString()); },
    onEvent: (ev) => { recovered += Number(ev.payload.toString()); },
  });
  assert.strictEqual(last, 7);
  assert.strictEqual(recovered, 28);
  assert.strictEqual(snapshots, 1);
  assert.throws(() => j.recoverSync('acc', { onEvent: () => { throw new Error('boom'); } }), /boom/);
  j.close();
});

test('a sealed store opens only with the right key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-node-sealed-'));
  const file = path.join(dir, 's.db');
  const ring = new ddata.Keyring().addKey(1, Buffer.alloc(32, 7));
  let s = new ddata.StateStore({ backend: 'sqlite', path: file, keyring: ring });
  s.upsertSync('k', 0, 'secret');
  s.close();
  const wrong = new ddata.Keyring().addKey(1, Buffer.alloc(32, 8));
  s = new ddata.StateStore({ backend: 'sqlite', path: file, keyring: wrong });
  assert.throws(() => s.getSync('k'), ddata.CryptoError);
  s.close();
  assert.throws(() => new ddata.Keyring().addKey(1, Buffer.alloc(5)), ddata.InvalidArgumentError);
  fs.rmSync(dir, { recursive: true });
});

test('tagged events are read in global order, resuming after an ordering', () => {
  const j = new ddata.Journal();
  j.appendSync('a', 0, [{ payload: 'a1', tags: ['order'] }, { payload: 'a2' }]);
  j.appendSync('b', 0, [{ payload: 'b1', tags: ['order', 'vip'] }]);
  const all = j.byTagSync('order');
  assert.deepStrictEqual(all.map((e) => [e.pid, e.payload.toString()]), [['a', 'a1'], ['b', 'b1']]);
  assert.deepStrictEqual(j.byTagSync('order', all[0].ordering).map((e) => e.pid), ['b']);
  assert.throws(() => j.appendSync('c', 0, [{ payload: 'x', tags: [''] }]), ddata.InvalidArgumentError);
  assert.strictEqual(ddata.lastError().status, -1);
  ddata.clearError();
  assert.strictEqual(ddata.lastError().status, 0);
  j.close();
});

// Writes event 1 of pid 'p' to a SQLite journal at `file` through a plain
// open, then returns the journal reopened with `options`, which sees it.
function reopenWithOneEvent(file, options) {
  const j = new ddata.Journal({ backend: 'sqlite', path: file });
  j.appendSync('p', 0, ['x']);
  j.close();
  const again = new ddata.Journal({ backend: 'sqlite', path: file, ...options });
  assert.strictEqual(again.highestSeqSync('p'), 1);
  return again;
}

test('mustExist refuses an empty file and a missing path instead of creating a store', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-must-exist-'));
  const empty = path.join(dir, 'empty.db');
  fs.writeFileSync(empty, '');
  assert.throws(() => new ddata.Journal({ backend: 'sqlite', path: empty, mustExist: true }),
    ddata.CorruptError);
  assert.strictEqual(fs.statSync(empty).size, 0);
  const missing = path.join(dir, 'missing');
  assert.throws(() => new ddata.StateStore({ backend: 'fs', path: missing, mustExist: true }),
    ddata.NotFoundError);
  assert.strictEqual(fs.existsSync(missing), false);
  reopenWithOneEvent(empty, { mustExist: true }).close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('compressionLevel works without a keyring', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-zip-'));
  const root = path.join(dir, 'zip');
  const big = Buffer.alloc(4096, 'a');
  const s = new ddata.StateStore({ backend: 'fs', path: root, compressionLevel: 9 });
  s.upsertSync('k', 0, big);
  assert.deepStrictEqual(s.getSync('k').state, big);
  s.close();
  assert.ok(fs.statSync(path.join(root, 'state', 'x6b')).size < 300);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("backend 'postgres' opens through libpq and reports the server's error", () => {
  const url = 'postgresql://nobody@127.0.0.1:1/none?connect_timeout=2';
  assert.throws(() => new ddata.Journal({ backend: 'postgres', path: url }),
    (e) => e instanceof ddata.IOError && /postgres: connecting/.test(e.message));
});

test('a closed keyring is misuse and the store file holds no plaintext', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-node-closed-ring-'));
  const file = path.join(dir, 'j.db');
  const ring = new ddata.Keyring().addKey(1, Buffer.alloc(32, 7));
  ring.close();
  assert.throws(() => {
    const j = new ddata.Journal({ backend: 'sqlite', path: file, keyring: ring });
    j.appendSync('p', 0, ['TOP-SECRET']);
  }, ddata.MisuseError);
  assert.ok(!fs.existsSync(file) || !fs.readFileSync(file).includes('TOP-SECRET'));
  const store = new ddata.StateStore();
  store.close();
  const sys = new ddata.System({ nodeId: 'closed-args' });
  assert.throws(() => new ddata.Replica(sys, { store }), ddata.MisuseError);
  sys.close();
  fs.rmSync(dir, { recursive: true });
});

test('stores take sync, busyTimeoutMs and compression options; a keyring can seal with AES-256-GCM', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-node-aes-'));
  const ring = new ddata.Keyring().addKey(1, Buffer.alloc(32, 9));
  if (!ddata.sealAlgorithmAvailable('aes256gcm')) {
    assert.throws(() => ring.setAlgorithm('aes256gcm'), ddata.UnsupportedError);
  } else {
    ring.setAlgorithm('aes256gcm');
    const s = new ddata.StateStore({ backend: 'sqlite', path: path.join(dir, 's.db'), keyring: ring, sync: 'full',
      busyTimeoutMs: 1000, compressionLevel: 9, compressionThreshold: 16 });
    await s.upsert('k', 0, Buffer.alloc(4096, 120));
    assert.deepStrictEqual((await s.get('k')).state, Buffer.alloc(4096, 120));
    s.close();
  }
  assert.throws(() => new ddata.StateStore({ sync: 'sometimes' }), ddata.InvalidArgumentError);
  assert.throws(() => ring.setAlgorithm('rot13'), ddata.InvalidArgumentError);
  fs.rmSync(dir, { recursive: true });
});

// Issue 17.8: missing items are one rule (ABI.md, "Missing items").
test('missing and deleted read as absent and deletes are idempotent', () => {
  const s = new ddata.StateStore();
  assert.strictEqual(s.getSync('nope'), undefined);
  s.deleteSync('nope', ddata.ANY_REVISION);
  assert.throws(() => s.deleteSync('nope', 3), ddata.ConflictError);
  s.close();
  const a = new ddata.System({ nodeId: 'a', seeds: ['a'] });
  const r = new ddata.Replica(a);
  r.update('k', 'ORSet', { kind: 'add', value: 'x' });
  r.delete('k');
  r.delete('k');
  r.delete('never');
  assert.strictEqual(r.get('k'), undefined);
  assert.strictEqual(r.get('never'), undefined);
  assert.throws(() => r.update('k', 'ORSet', { kind: 'add', value: 'y' }), ddata.DeletedError);
  r.close();
  a.close();
});

test('readOnly opens an existing store without writing and refuses a path without one', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-read-only-'));
  const file = path.join(dir, 'j.db');
  assert.throws(() => new ddata.Journal({ backend: 'sqlite', path: file, readOnly: true }),
    ddata.NotFoundError);
  assert.strictEqual(fs.existsSync(file), false);
  const ro = reopenWithOneEvent(file, { readOnly: true });
  assert.throws(() => ro.appendSync('p', 1, ['y']));
  ro.close();
  assert.throws(() => new ddata.Journal({ backend: 'sqlite', path: file, readOnly: 'yes' }),
    ddata.InvalidArgumentError);
  fs.rmSync(dir, { recursive: true, force: true });
});
