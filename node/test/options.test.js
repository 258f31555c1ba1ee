'use strict';

// Options fields that reach the C library from Node (#18.4): each test
// fails when the binding drops the field on the floor.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const ddata = require('..');

function scratchDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-options-'));
}

test('snapshotPath keeps SQLite snapshots in a second file', () => {
  const dir = scratchDir();
  const snapshots = path.join(dir, 'snapshots.db');
  const j = new ddata.Journal({ backend: 'sqlite', path: path.join(dir, 'journal.db'), snapshotPath: snapshots });
  try {
    j.saveSnapshotSync('order-1', 1, 'state', 1000);
    assert.ok(fs.existsSync(snapshots), 'the snapshot file was created');
    assert.strictEqual(j.loadSnapshotSync('order-1').state.toString(), 'state');
  } finally {
    j.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('loadSnapshot takes lower bounds and timestamp bounds', async () => {
  const j = new ddata.Journal({ backend: 'memory' });
  try {
    for (const seq of [1, 2, 3]) j.saveSnapshotSync('p', seq, `s${seq}`, seq * 1000);
    const seqOf = (s) => (s === undefined ? undefined : Number(s.seq));
    assert.strictEqual(seqOf(j.loadSnapshotSync('p', 2)), 2);
    assert.strictEqual(seqOf(j.loadSnapshotSync('p', { maxSeq: 2 })), 2);
    assert.strictEqual(seqOf(j.loadSnapshotSync('p', { maxTimestampMs: 1500 })), 1);
    assert.strictEqual(seqOf(j.loadSnapshotSync('p', { minSeq: 4 })), undefined);
    assert.strictEqual(seqOf(j.loadSnapshotSync('p', { minTimestampMs: 3500 })), undefined);
    assert.strictEqual(seqOf(await j.loadSnapshot('p', { maxTimestampMs: 2500 })), 2);
    assert.strictEqual(seqOf(await j.loadSnapshot('p', { minSeq: 4 })), undefined);
    assert.throws(() => j.loadSnapshotSync('p', { minSeq: -1 }));
  } finally {
    j.close();
  }
});

test('System and Owned pass their decode limits to the library', () => {
  const tooDeep = { maxDepth: 1 << 20 };
  assert.throws(() => new ddata.System({ nodeId: 'limits-a', limits: tooDeep }), ddata.InvalidArgumentError);
  assert.throws(() => new ddata.Owned({ nodeId: 1, limits: tooDeep }), ddata.InvalidArgumentError);
  const s = new ddata.System({ nodeId: 'limits-b', limits: { maxBytes: 1 << 20 } });
  s.close();
  const o = new ddata.Owned({ nodeId: 1, limits: { maxBytes: 1 << 20 } });
  o.close();
});

test('Owned maxQueued caps the outgoing queue', () => {
  const queuedAfterPublish = (options) => {
    const o = new ddata.Owned({ nodeId: 1, ...options });
    try {
      o.register('load', { strategy: 'active_push' });
      for (const peer of [2, 3, 4]) o.memberUp(peer, 1);
      o.outgoing();
      o.publish('load', '42', { full: true, urgency: 'immediate' });
      return o.outgoing().length;
    } finally {
      o.close();
    }
  };
  assert.strictEqual(queuedAfterPublish({}), 3);
  assert.strictEqual(queuedAfterPublish({ maxQueued: 1 }), 1);
});

test('advertisedAddress and nodeKey reach the TCP transport', () => {
  assert.throws(() => new ddata.System({ nodeId: 'adv', tcpListen: '127.0.0.1:0', advertisedAddress: 'x'.repeat(300) }),
    ddata.InvalidArgumentError);
  const key = Buffer.alloc(32, 7);
  const a = new ddata.System({ nodeId: 'key-a', tcpListen: '127.0.0.1:0', secret: Buffer.alloc(32, 1), nodeKey: key });
  const b = new ddata.System({ nodeId: 'key-b', tcpListen: '127.0.0.1:0', secret: Buffer.alloc(32, 1), nodeKey: key });
  const c = new ddata.System({ nodeId: 'key-c', tcpListen: '127.0.0.1:0', secret: Buffer.alloc(32, 1) });
  try {
    assert.deepStrictEqual(a.publicKey, b.publicKey, 'the same private key gives the same public key');
    assert.notDeepStrictEqual(a.publicKey, c.publicKey);
  } finally {
    for (const s of [a, b, c]) s.close();
  }
  assert.throws(() => new ddata.System({ nodeId: 'k', tcpListen: '127.0.0.1:0', nodeKey: Buffer.alloc(3) }), ddata.InvalidArgumentError);
});
