// Journal (events + snapshots) and StateStore (key -> revision, bytes).
// Synchronous: local storage, like the Python package. Options:
// {backend: 'memory' | 'sqlite' | 'fs', path, snapshotKeep}.
'use strict';

const native = require('./native');

const ANY_REVISION = -1;

class Journal {
  constructor(options = {}) {
    this._native = new native.Journal(options);
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

  saveSnapshot(pid, seq, state, timestampMs = Date.now()) {
    this._native.saveSnapshot(pid, seq, timestampMs, state);
  }

  // The newest snapshot (with seq <= maxSeq), or undefined.
  loadSnapshot(pid, maxSeq) {
    return this._native.loadSnapshot(pid, maxSeq);
  }

  close() {
    this._native.close();
  }
}

class StateStore {
  constructor(options = {}) {
    this._native = new native.StateStore(options);
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

  close() {
    this._native.close();
  }
}

module.exports = { Journal, StateStore, ANY_REVISION };
