'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const ddata = require('..');

test('append and replay with bounds; a stale writer conflicts and writes nothing', () => {
  const j = new ddata.Journal();
  j.append('p', 0, ['e1', 'e2', 'e3', 'e4', 'e5']);
  assert.strictEqual(j.highestSeq('p'), 5);
  assert.deepStrictEqual(j.replay('p', 2, 4).map((e) => e.seq), [2, 3, 4]);
  assert.deepStrictEqual(j.replay('p', 1, 5, 1).map((e) => e.payload.toString()), ['e1']);
  assert.throws(() => j.append('p', 3, ['x']), ddata.ConflictError);
  assert.strictEqual(j.highestSeq('p'), 5);
  j.deleteTo('p', 2);
  assert.deepStrictEqual(j.replay('p').map((e) => e.seq), [3, 4, 5]);
  assert.strictEqual(j.highestSeq('p'), 5);
  j.close();
});

test('snapshots: latest wins, maxSeq selects an older one, absent is undefined', () => {
  const j = new ddata.Journal();
  assert.strictEqual(j.loadSnapshot('p'), undefined);
  j.saveSnapshot('p', 5, 'five');
  j.saveSnapshot('p', 9, 'nine');
  assert.strictEqual(j.loadSnapshot('p').state.toString(), 'nine');
  assert.strictEqual(j.loadSnapshot('p', 8).seq, 5);
  j.close();
});

test('state store compare-and-set and durability across reopen', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-node-store-'));
  const file = path.join(dir, 's.db');
  let s = new ddata.StateStore({ backend: 'sqlite', path: file });
  assert.strictEqual(s.upsert('k', 0, 'v1'), 1);
  assert.throws(() => s.upsert('k', 0, 'again'), ddata.ConflictError);
  assert.strictEqual(s.upsert('k', 1, 'v2'), 2);
  assert.strictEqual(s.upsert('k', ddata.ANY_REVISION, 'v3'), 3);
  s.close();
  s = new ddata.StateStore({ backend: 'sqlite', path: file });
  const got = s.get('k');
  assert.strictEqual(got.revision, 3);
  assert.strictEqual(got.state.toString(), 'v3');
  s.delete('k', 3);
  assert.strictEqual(s.get('k'), undefined);
  s.close();
  fs.rmSync(dir, { recursive: true });
});

test('bad options and arguments throw with a status', () => {
  assert.throws(() => new ddata.Journal({ backend: 'tape' }), ddata.InvalidArgumentError);
  assert.throws(() => new ddata.Journal({ backend: 'sqlite' }), ddata.DdataError);
  const j = new ddata.Journal();
  assert.throws(() => j.append('p', 0, [{}]), ddata.InvalidArgumentError);
  assert.throws(() => j.append('p', -1, ['x']), ddata.InvalidArgumentError);
  j.close();
  assert.throws(() => j.highestSeq('p'), ddata.MisuseError);
});

test('persist with snapshots, then recover from the snapshot plus the tail', () => {
  const j = new ddata.Journal();
  let total = 0;
  for (let i = 1; i <= 7; i++) {
    total += i;
    assert.strictEqual(j.persist('acc', i - 1, String(i), String(total), { strategy: 'full', snapshotEvery: 3 }), i);
  }
  let recovered = 0;
  let snapshots = 0;
  const last = j.recover('acc', {
    onSnapshot: (seq, state) => { snapshots++; recovered = Number(state.toString()); },
    onEvent: (ev) => { recovered += Number(ev.payload.toString()); },
  });
  assert.strictEqual(last, 7);
  assert.strictEqual(recovered, 28);
  assert.strictEqual(snapshots, 1);
  assert.throws(() => j.recover('acc', { onEvent: () => { throw new Error('boom'); } }), /boom/);
  j.close();
});

test('a sealed store opens only with the right key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-node-sealed-'));
  const file = path.join(dir, 's.db');
  const ring = new ddata.Keyring().addKey(1, Buffer.alloc(32, 7));
  let s = new ddata.StateStore({ backend: 'sqlite', path: file, keyring: ring });
  s.upsert('k', 0, 'secret');
  s.close();
  const wrong = new ddata.Keyring().addKey(1, Buffer.alloc(32, 8));
  s = new ddata.StateStore({ backend: 'sqlite', path: file, keyring: wrong });
  assert.throws(() => s.get('k'), ddata.CryptoError);
  s.close();
  assert.throws(() => new ddata.Keyring().addKey(1, Buffer.alloc(5)), ddata.InvalidArgumentError);
  fs.rmSync(dir, { recursive: true });
});

test('tagged events are read in global order, resuming after an ordering', () => {
  const j = new ddata.Journal();
  j.append('a', 0, [{ payload: 'a1', tags: ['order'] }, { payload: 'a2' }]);
  j.append('b', 0, [{ payload: 'b1', tags: ['order', 'vip'] }]);
  const all = j.byTag('order');
  assert.deepStrictEqual(all.map((e) => [e.pid, e.payload.toString()]), [['a', 'a1'], ['b', 'b1']]);
  assert.deepStrictEqual(j.byTag('order', all[0].ordering).map((e) => e.pid), ['b']);
  assert.throws(() => j.append('c', 0, [{ payload: 'x', tags: [''] }]), ddata.InvalidArgumentError);
  assert.strictEqual(ddata.lastError().status, -1);
  ddata.clearError();
  assert.strictEqual(ddata.lastError().status, 0);
  j.close();
});

// Issue 17.8: missing items are one rule (ABI.md, "Missing items").
test('missing and deleted read as absent and deletes are idempotent', () => {
  const s = new ddata.StateStore();
  assert.strictEqual(s.get('nope'), undefined);
  s.delete('nope');
  assert.throws(() => s.delete('nope', 3), ddata.ConflictError);
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
