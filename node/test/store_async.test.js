'use strict';

// The Promise forms of Journal and StateStore: they run on the libuv
// thread pool, so the event loop keeps turning while storage works; reads
// of many records come as async iterables read in batches on the pool, and
// recover's callbacks run on the main thread between batches.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const ddata = require('..');

function tmpdir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-node-async-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Counts event-loop turns: an immediate that re-arms itself runs once per
// loop iteration, and never while the JS thread is blocked.
function loopTurns() {
  const counter = { turns: 0, stopped: false };
  const spin = () => {
    if (counter.stopped) return;
    counter.turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  counter.stop = () => { counter.stopped = true; return counter.turns; };
  return counter;
}

const PAYLOAD = Buffer.alloc(4096, 7);
const batch = (n) => Array.from({ length: n }, () => PAYLOAD);

test('append returns a Promise and the event loop turns while a large append runs', async (t) => {
  const j = new ddata.Journal({ backend: 'sqlite', path: path.join(tmpdir(t), 'j.db') });
  const loop = loopTurns();
  const p = j.append('p', 0, batch(4096)); // 16 MiB in one transaction
  assert.ok(p instanceof Promise);
  await p;
  assert.ok(loop.stop() > 0, 'no event-loop turn while the append ran on the pool');
  assert.strictEqual(await j.highestSeq('p'), 4096);
  j.close();
});

test('appendSync blocks the event loop for the whole append', (t) => {
  const j = new ddata.Journal({ backend: 'sqlite', path: path.join(tmpdir(t), 'j.db') });
  let turns = 0;
  const im = setImmediate(() => { turns++; });
  j.appendSync('p', 0, batch(512));
  assert.strictEqual(turns, 0);
  clearImmediate(im);
  j.close();
});

test('replay is an async iterator read in batches while the event loop turns', async (t) => {
  const j = new ddata.Journal({ backend: 'sqlite', path: path.join(tmpdir(t), 'j.db') });
  for (let i = 0; i < 5; i++) await j.append('p', i * 1000, batch(1000));
  const loop = loopTurns();
  let expect = 1;
  for await (const ev of j.replay('p')) {
    assert.strictEqual(ev.seq, expect++);
    assert.strictEqual(ev.payload.length, PAYLOAD.length);
  }
  assert.strictEqual(expect, 5001);
  assert.ok(loop.stop() > 0, 'no event-loop turn between replay batches');
  j.close();
});

test('recover calls back on the main thread between batches, in order', async (t) => {
  const j = new ddata.Journal({ backend: 'sqlite', path: path.join(tmpdir(t), 'j.db') });
  await j.append('acc', 0, batch(1000));
  await j.saveSnapshot('acc', 200, 'at-200');
  const seen = [];
  let snapshot;
  const loop = loopTurns();
  const last = await j.recover('acc', {
    onSnapshot: (seq, state) => { snapshot = [seq, state.toString()]; },
    onEvent: (ev) => seen.push(ev.seq),
  });
  const turns = loop.stop();
  assert.deepStrictEqual(snapshot, [200, 'at-200']);
  assert.strictEqual(last, 1000);
  assert.deepStrictEqual(seen, Array.from({ length: 800 }, (_, i) => 201 + i));
  assert.ok(turns > 0, 'no event-loop turn between recover batches');
  j.close();
});

test('a throw in a recover callback stops recovery and rejects with it', async () => {
  const j = new ddata.Journal();
  await j.append('p', 0, batch(600));
  let calls = 0;
  await assert.rejects(j.recover('p', { onEvent: () => { if (++calls === 300) throw new Error('boom'); } }), /boom/);
  assert.strictEqual(calls, 300);
  j.close();
});

test('async forms reject with the library error and validate at the call', async () => {
  const j = new ddata.Journal();
  await j.append('p', 0, ['a']);
  await assert.rejects(j.append('p', 0, ['b']), ddata.ConflictError);
  await assert.rejects(j.append('p', -1, ['x']), ddata.InvalidArgumentError);
  assert.throws(() => j.replay('p', -1), ddata.InvalidArgumentError);
  assert.throws(() => new ddata.StateStore().range('', 1.5), ddata.InvalidArgumentError);
  j.close();
  await assert.rejects(j.highestSeq('p'), ddata.MisuseError);
});

// N-API reports every argument a call was given, more than the addon's
// argument array holds; the extra ones must be ignored, not read past it.
test('an async call given more arguments than it takes ignores the rest', async () => {
  const j = new ddata.Journal();
  const extra = Array.from({ length: 24 }, (_, i) => ({ extra: i }));
  await j.append('p', 0, ['a']);
  await j._native.deleteToAsync('p', 0, ...extra);
  assert.strictEqual(await j._native.highestSeqAsync('p', ...extra), 1);
  const s = new ddata.StateStore();
  await s._native.upsertAsync('k', ddata.ANY_REVISION, Buffer.from('v'), ...extra);
  assert.strictEqual((await s.get('k')).state.toString(), 'v');
  j.close();
  s.close();
});

test('the journal async forms match the sync forms', async () => {
  const j = new ddata.Journal();
  await j.append('a', 0, [{ payload: 'a1', tags: ['order'] }, 'a2']);
  await j.append('b', 0, [{ payload: 'b1', tags: ['order'] }]);
  assert.deepStrictEqual(await j.replay('a').toArray(), j.replaySync('a'));
  assert.deepStrictEqual((await j.byTag('order').toArray()).map((e) => e.pid), ['a', 'b']);
  assert.deepStrictEqual((await j.pids().toArray()).map(String), ['a', 'b']);
  assert.strictEqual(await j.persist('a', 2, 'a3', 'state-3', { strategy: 'full', snapshotEvery: 1 }), 3);
  assert.strictEqual((await j.loadSnapshot('a')).state.toString(), 'state-3');
  await j.deleteTo('a', 2);
  assert.deepStrictEqual((await j.replay('a').toArray()).map((e) => e.seq), [3]);
  j.close();
});

test('the state store async forms: C argument order, required expected revision', async () => {
  const s = new ddata.StateStore();
  assert.strictEqual(await s.upsert('user/amy', 0, 'a'), 1);
  await assert.rejects(s.upsert('user/amy', 0, 'again'), ddata.ConflictError);
  assert.strictEqual(await s.upsert('user/amy', ddata.ANY_REVISION, 'a2'), 2);
  await s.upsert('user/bob', 0, 'b');
  assert.deepStrictEqual(await s.get('user/amy'), { revision: 2, state: Buffer.from('a2') });
  assert.strictEqual(await s.get('nope'), undefined);
  assert.deepStrictEqual((await s.keys('user/').toArray()).map((r) => r.key.toString()), ['user/amy', 'user/bob']);
  assert.deepStrictEqual((await s.range('', -1).toArray()).map((r) => r.state.toString()), ['b']);
  assert.strictEqual((await s.last()).key.toString(), 'user/bob');
  await assert.rejects(s.delete('user/bob'), ddata.InvalidArgumentError); // no expected revision
  await s.delete('user/bob', 1);
  await s.purge();
  assert.strictEqual(await s.last(), undefined);
  s.close();
});

test('closing a store while its calls run on the pool is safe', async () => {
  for (let i = 0; i < 20; i++) {
    const j = new ddata.Journal();
    const pending = [j.append('p', 0, batch(64)), j.highestSeq('p'), j.replay('p').toArray()];
    j.close();
    const settled = await Promise.allSettled(pending);
    for (const s of settled) {
      if (s.status === 'rejected') assert.ok(s.reason instanceof ddata.MisuseError, String(s.reason));
    }
  }
});
