// Journal (events + snapshots) and StateStore (key -> revision, bytes).
// Every call has a Promise form run on the libuv pool (the plain name) and
// a blocking ...Sync form. Options: {backend: 'memory' | 'sqlite' | 'fs' |
// 'postgres', path, snapshotKeep, keyring, mustExist, compressionLevel}.
'use strict';

const native = require('./native');

const ANY_REVISION = -1;

// Keys for sealing stores at rest (32-byte keys named by an id; the first
// added is active). Pass as {keyring} when opening a store.
class Keyring {
  constructor() {
    this._native = new native.Keyring();
  }

  addKey(keyId, key) {
    this._native.addKey(keyId, key);
    return this;
  }

  setActive(keyId) {
    this._native.setActive(keyId);
  }

  // 'xchacha20poly1305' (the default) or 'aes256gcm' (UnsupportedError on
  // a CPU without AES-NI; see sealAlgorithmAvailable).
  setAlgorithm(name) {
    this._native.setAlgorithm(name);
    return this;
  }

  close() {
    this._native.close();
  }
}

function storeOptions(options) {
  return options.keyring ? { ...options, keyring: options.keyring._native } : options;
}

// How cursor rows look in JS (node/src/store.h row_shape).
const SHAPE = { event: 0, tagged: 1, pid: 2, key: 3, keyState: 4 };
// Rows per batch read on the pool; the event loop turns between batches.
const BATCH_ROWS = 256;

// An async iterable over a cursor that `open()` opens on the libuv pool.
// open() runs at the call, so a bad argument throws there; the cursor is
// read in batches on the pool and closed when iteration ends (or by GC
// when it never starts). Iterate once; toArray() collects every row.
function cursorIterable(open, shape) {
  const opened = open();
  opened.catch(() => {}); // the failure is reported when iterated
  return {
    async *[Symbol.asyncIterator]() {
      const cursor = await opened;
      try {
        for (;;) {
          const rows = await native.cursorNext(cursor, shape, BATCH_ROWS);
          if (rows.length === 0) return;
          yield* rows;
        }
      } finally {
        cursor.close();
      }
    },
    async toArray() {
      const out = [];
      for await (const row of this) out.push(row);
      return out;
    },
  };
}

function newEvents(events) {
  if (!Array.isArray(events)) return events; // the addon says what is wrong
  return events.map((e) => (typeof e === 'string' || e instanceof Uint8Array ? { payload: e } : e));
}

const STRATEGY = { light: 1, full: 2 };

// The plain names return Promises and run on the libuv thread pool, so
// storage never blocks the event loop; the ...Sync forms block, as fs's
// do. Arguments are in the C order (pid, expectedSeq, events).
class Journal {
  constructor(options = {}) {
    this._native = new native.Journal(storeOptions(options));
  }

  // Appends events expectedSeq + 1.. atomically; ConflictError (nothing
  // written) when expectedSeq is not the highest sequence number.
  async append(pid, expectedSeq, events) {
    return this._native.appendAsync(pid, expectedSeq, newEvents(events));
  }

  appendSync(pid, expectedSeq, events) {
    this._native.append(pid, expectedSeq, newEvents(events));
  }

  async highestSeq(pid) {
    return this._native.highestSeqAsync(pid);
  }

  highestSeqSync(pid) {
    return this._native.highestSeq(pid);
  }

  async deleteTo(pid, toSeq) {
    return this._native.deleteToAsync(pid, toSeq);
  }

  deleteToSync(pid, toSeq) {
    this._native.deleteTo(pid, toSeq);
  }

  // Events fromSeq..toSeq (inclusive), at most max, as an async iterable
  // of {seq, timestampMs, payload} read in batches on the pool.
  replay(pid, fromSeq = 1, toSeq = Number.MAX_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
    return cursorIterable(() => this._native.replayOpen(pid, fromSeq, toSeq, max), SHAPE.event);
  }

  replaySync(pid, fromSeq = 1, toSeq = Number.MAX_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
    return this._native.replay(pid, fromSeq, toSeq, max);
  }

  // Events tagged `tag` after `afterOrdering`, in global order (what a
  // projection reads, resuming from its last ordering): an async iterable.
  byTag(tag, afterOrdering = 0, max = Number.MAX_SAFE_INTEGER) {
    return cursorIterable(() => this._native.byTagOpen(tag, afterOrdering, max), SHAPE.tagged);
  }

  byTagSync(tag, afterOrdering = 0, max = Number.MAX_SAFE_INTEGER) {
    return this._native.byTag(tag, afterOrdering, max);
  }

  async saveSnapshot(pid, seq, state, timestampMs = Date.now()) {
    return this._native.saveSnapshotAsync(pid, seq, timestampMs, state);
  }

  saveSnapshotSync(pid, seq, state, timestampMs = Date.now()) {
    this._native.saveSnapshot(pid, seq, timestampMs, state);
  }

  // The newest snapshot (with seq <= maxSeq), or undefined.
  async loadSnapshot(pid, maxSeq) {
    return this._native.loadSnapshotAsync(pid, maxSeq);
  }

  loadSnapshotSync(pid, maxSeq) {
    return this._native.loadSnapshot(pid, maxSeq);
  }

  // Appends `payload` at expectedSeq + 1 and, per the strategy, a snapshot
  // of `state` (the state after it): {strategy: 'light'} or {strategy:
  // 'full', snapshotEvery: 100, compact: false}. Resolves to the event's seq.
  async persist(pid, expectedSeq, payload, state, { strategy = 'full', snapshotEvery = 100, compact = false } = {}) {
    return this._native.persistAsync(pid, expectedSeq, payload, state, STRATEGY[strategy] || 0, snapshotEvery, compact);
  }

  persistSync(pid, expectedSeq, payload, state, { strategy = 'full', snapshotEvery = 100, compact = false } = {}) {
    return this._native.persist(pid, expectedSeq, payload, state, STRATEGY[strategy] || 0, snapshotEvery, compact);
  }

  // Loads the latest snapshot into onSnapshot(seq, state), then replays the
  // events after it into onEvent({seq, timestampMs, payload}); resolves to
  // the last seq applied. Reading runs on the pool; the callbacks run on
  // the main thread between batches, in order. A gap is a CorruptError; a
  // throw stops recovery and rejects with what was thrown.
  async recover(pid, { onSnapshot, onEvent } = {}) {
    return this._native.recoverAsync(pid, onSnapshot, onEvent);
  }

  recoverSync(pid, { onSnapshot, onEvent } = {}) {
    return this._native.recover(pid, onSnapshot, onEvent);
  }

  // Persistence ids greater than `after` ('' = all), in byte order, at
  // most max: an async iterable of Buffers.
  pids(after = '', max = Number.MAX_SAFE_INTEGER) {
    return cursorIterable(() => this._native.pidsOpen(after, max), SHAPE.pid);
  }

  pidsSync(after = '', max = Number.MAX_SAFE_INTEGER) {
    return this._native.pids(after, max);
  }

  close() {
    this._native.close();
  }
}

// Arguments in the C order (key, expectedRevision, state); the expected
// revision is always given: 0 inserts, N replaces revision N, ANY_REVISION
// writes regardless.
class StateStore {
  constructor(options = {}) {
    this._native = new native.StateStore(storeOptions(options));
  }

  // Resolves to the new revision.
  async upsert(key, expectedRevision, state) {
    return this._native.upsertAsync(key, expectedRevision, state);
  }

  upsertSync(key, expectedRevision, state) {
    return this._native.upsert(key, expectedRevision, state);
  }

  // {revision, state}, or undefined when the key has no record.
  async get(key) {
    return this._native.getAsync(key);
  }

  getSync(key) {
    return this._native.get(key);
  }

  async delete(key, expectedRevision) {
    return this._native.deleteAsync(key, expectedRevision);
  }

  deleteSync(key, expectedRevision) {
    this._native.delete(key, expectedRevision);
  }

  // {key: Buffer, revision} for keys starting with `prefix`, in byte
  // order: an async iterable read in batches on the pool. With
  // {values: true}, records {key, revision, state}.
  keys(prefix = '', { values = false } = {}) {
    if (values) return this.scan({ prefix });
    return cursorIterable(() => this._native.keysOpen(prefix), SHAPE.key);
  }

  keysSync(prefix = '', { values = false } = {}) {
    if (values) return this.scanSync({ prefix });
    return this._native.keys(prefix);
  }

  // Records {key, revision, state} within the bounds, in byte order
  // (reverse: greatest first): start <= key (start < key with
  // startExclusive), key < end (key <= end with endInclusive), key starting
  // with prefix; an empty bound is absent, limit 0 means all. values:
  // false gives {key, revision} without reading states. An async iterable
  // read in batches on the pool; options are checked at the call.
  scan(options = {}) {
    const shape = options && options.values === false ? SHAPE.key : SHAPE.keyState;
    return cursorIterable(() => this._native.scanOpen(options), shape);
  }

  scanSync(options = {}) {
    return this._native.scan(options);
  }

  // Up to |count| records {key, revision, state} from `from` (inclusive):
  // forward when count > 0 (from the first key when `from` is empty),
  // backward when count < 0 (from the last key when `from` is empty).
  range(from = '', count = 1) {
    return cursorIterable(() => this._native.rangeOpen(from, count), SHAPE.keyState);
  }

  rangeSync(from = '', count = 1) {
    return this._native.range(from, count);
  }

  // The record with the greatest key starting with `prefix` (any key when
  // empty), or undefined when there is none.
  async last(prefix = '') {
    return prefix.length ? this._native.lastPrefixAsync(prefix) : this._native.lastAsync();
  }

  lastSync(prefix = '') {
    return prefix.length ? this._native.lastPrefix(prefix) : this._native.last();
  }

  // Deletes every record whose key starts with `prefix` (every record when
  // empty), in one transaction.
  async purge(prefix = '') {
    return prefix.length ? this._native.purgePrefixAsync(prefix) : this._native.purgeAsync();
  }

  purgeSync(prefix = '') {
    if (prefix.length) this._native.purgePrefix(prefix);
    else this._native.purge();
  }

  // Applies ops all or nothing, in one transaction; resolves to the new
  // revision of each (0 for deletes). Each op in the C order:
  // ['upsert', key, expectedRevision, state] or ['delete', key,
  // expectedRevision]. ConflictError naming the op's index when an
  // expected revision does not hold; nothing is written then.
  async batch(ops) {
    return this._native.batchAsync(ops);
  }

  batchSync(ops) {
    return this._native.batch(ops);
  }

  // Makes every write so far durable, whatever the sync option.
  async flush() {
    return this._native.flushAsync();
  }

  flushSync() {
    this._native.flush();
  }

  close() {
    this._native.close();
  }
}

// Whether this CPU can seal with `name` ('aes256gcm', 'xchacha20poly1305').
function sealAlgorithmAvailable(name) {
  return native.sealAlgorithmAvailable(name);
}

module.exports = { Journal, StateStore, Keyring, ANY_REVISION, sealAlgorithmAvailable };
