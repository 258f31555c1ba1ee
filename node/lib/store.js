// Journal (events + snapshots) and StateStore (key -> revision, bytes).
// Synchronous: local storage, like the Python package. Options:
// {backend: 'memory' | 'sqlite' | 'fs' | 'postgres', path, snapshotKeep}.
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

  close() {
    this._native.close();
  }
}

function storeOptions(options) {
  return options.keyring ? { ...options, keyring: options.keyring._native } : options;
}

class Journal {
  constructor(options = {}) {
    this._native = new native.Journal(storeOptions(options));
  }

  // Appends events expectedSeq + 1.. atomically; ConflictError (nothing
  // written) when expectedSeq is not the highest sequence number.
  append(pid, expectedSeq, events) {
    this._native.append(pid, expectedSeq, events.map((e) =>
      (typeof e === 'string' || e instanceof Uint8Array ? { payload: e } : e)));
  }

  highestSeq(pid) {
    return this._native.highestSeq(pid);
  }

  deleteTo(pid, toSeq) {
    this._native.deleteTo(pid, toSeq);
  }

  // Events fromSeq..toSeq (inclusive), at most max: [{seq, timestampMs, payload}].
  replay(pid, fromSeq = 1, toSeq = Number.MAX_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
    return this._native.replay(pid, fromSeq, toSeq, max);
  }

  // Events tagged `tag` after `afterOrdering`, in global order (what a
  // projection reads, resuming from its last ordering).
  byTag(tag, afterOrdering = 0, max = Number.MAX_SAFE_INTEGER) {
    return this._native.byTag(tag, afterOrdering, max);
  }

  saveSnapshot(pid, seq, state, timestampMs = Date.now()) {
    this._native.saveSnapshot(pid, seq, timestampMs, state);
  }

  // The newest snapshot (with seq <= maxSeq), or undefined.
  loadSnapshot(pid, maxSeq) {
    return this._native.loadSnapshot(pid, maxSeq);
  }

  // Appends `payload` at expectedSeq + 1 and, per the strategy, a snapshot
  // of `state` (the state after it): {strategy: 'light'} or {strategy:
  // 'full', snapshotEvery: 100, compact: false}. Returns the event's seq.
  persist(pid, expectedSeq, payload, state, { strategy = 'full', snapshotEvery = 100, compact = false } = {}) {
    return this._native.persist(pid, expectedSeq, payload, state, strategy === 'light' ? 1 : 2, snapshotEvery, compact);
  }

  // Loads the latest snapshot into onSnapshot(seq, state), then replays the
  // events after it into onEvent({seq, timestampMs, payload}); returns the
  // last seq applied. A gap is a CorruptError; a throw stops recovery.
  recover(pid, { onSnapshot, onEvent } = {}) {
    return this._native.recover(pid, onSnapshot, onEvent);
  }

  // Persistence ids greater than `after` ('' = all), in byte order, at
  // most max.
  pids(after = '', max = Number.MAX_SAFE_INTEGER) {
    return this._native.pids(after, max);
  }

  close() {
    this._native.close();
  }
}

class StateStore {
  constructor(options = {}) {
    this._native = new native.StateStore(storeOptions(options));
  }

  // expectedRevision 0 inserts, N replaces revision N, ANY_REVISION writes
  // regardless; returns the new revision.
  upsert(key, expectedRevision, state) {
    return this._native.upsert(key, expectedRevision, state);
  }

  get(key) {
    return this._native.get(key);
  }

  delete(key, expectedRevision = ANY_REVISION) {
    this._native.delete(key, expectedRevision);
  }

  // [{key: Buffer, revision}] for keys starting with `prefix`, in byte order.
  keys(prefix = '') {
    return this._native.keys(prefix);
  }

  // Up to |count| records [{key, revision, state}] from `from` (inclusive):
  // forward when count > 0 (from the first key when `from` is empty),
  // backward when count < 0 (from the last key when `from` is empty).
  range(from = '', count = 1) {
    return this._native.range(from, count);
  }

  // The record with the greatest key, or undefined when the store is empty.
  last() {
    return this._native.last();
  }

  // Deletes every record.
  purge() {
    this._native.purge();
  }

  close() {
    this._native.close();
  }
}

module.exports = { Journal, StateStore, Keyring, ANY_REVISION };
