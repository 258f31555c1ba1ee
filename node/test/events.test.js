'use strict';

// The fd plumbing is tested on a FIFO: the library's event fd behaves the
// same (readable while events are queued).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { FdEventEmitter } = require('../lib/events');
const ddata = require('..');

function fifo() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-node-'));
  const p = path.join(dir, 'events');
  execFileSync('mkfifo', [p]);
  const fd = fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  return { fd, cleanup: () => { fs.closeSync(fd); fs.rmSync(dir, { recursive: true }); } };
}

function drainFifo(fd) {
  const buf = Buffer.alloc(64);
  const out = [];
  for (;;) {
    let n = 0;
    try { n = fs.readSync(fd, buf, 0, buf.length, null); } catch (e) { if (e.code === 'EAGAIN') break; throw e; }
    if (n <= 0) break;
    for (const b of buf.subarray(0, n)) out.push(['byte', b]);
  }
  return out;
}

test('readable fd delivers drained events on the JS thread in order', async () => {
  const { fd, cleanup } = fifo();
  const em = new FdEventEmitter(fd, () => drainFifo(fd));
  const got = [];
  const done = new Promise((resolve) => em.on('byte', (b) => { got.push(b); if (got.length === 3) resolve(); }));
  fs.writeSync(fd, Buffer.from([1, 2, 3]));
  await done;
  assert.deepStrictEqual(got, [1, 2, 3]);
  em.close();
  em.close();
  cleanup();
});

test('a closed emitter delivers nothing more', async () => {
  const { fd, cleanup } = fifo();
  let calls = 0;
  const em = new FdEventEmitter(fd, () => { calls++; return drainFifo(fd); });
  em.on('byte', () => {});
  em.close();
  fs.writeSync(fd, Buffer.from([9]));
  await new Promise((r) => setTimeout(r, 30));
  assert.strictEqual(calls, 0);
  cleanup();
});

test('watching a bad fd throws InvalidArgumentError', () => {
  const native = require('../lib/native');
  assert.throws(() => new native.FdWatcher(-1, () => {}), ddata.InvalidArgumentError);
  assert.throws(() => new native.FdWatcher(0, 'x'), ddata.InvalidArgumentError);
});

test('finalizers of dropped watchers run safely after GC', { skip: typeof global.gc !== 'function' }, async () => {
  // libuv allows one poll handle per fd, so each dropped emitter has its own.
  const fifos = [];
  for (let i = 0; i < 20; i++) {
    const f = fifo();
    fifos.push(f);
    const em = new FdEventEmitter(f.fd, () => drainFifo(f.fd));
    if (i % 2) em.on('byte', () => {}).removeAllListeners('byte');
  }
  for (let i = 0; i < 3; i++) {
    global.gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  for (const f of fifos) fs.writeSync(f.fd, Buffer.from([1]));
  await new Promise((r) => setTimeout(r, 10));
  for (const f of fifos) f.cleanup();
});

test('watchers poll their own duplicate of the fd and close it afterwards', async () => {
  const { fd, cleanup } = fifo();
  const count = () => fs.readdirSync('/proc/self/fd').length;
  const before = count();
  for (let i = 0; i < 100; i++) new FdEventEmitter(fd, () => drainFifo(fd)).close();
  await new Promise((r) => setTimeout(r, 20)); // uv_close callbacks run at the end of a loop turn
  assert.strictEqual(count(), before);
  // The owner closing its fd first leaves the watcher polling a valid duplicate.
  const sys = new ddata.System({ nodeId: 'w', seeds: ['w'] });
  const em = new FdEventEmitter(sys._native.eventFd(), () => []);
  sys._native.close();
  em.on('x', () => {});
  await new Promise((r) => setTimeout(r, 10));
  em.close();
  sys.close();
  cleanup();
});
