'use strict';

// Plays one store case (tests/conformance/store/README.md) through
// ddata.StateStore and ddata.Journal, both in memory and fresh per case.
const assert = require('node:assert');
const ddata = require('..');
const { bytes } = require('./vectors');

// The expect value with byte strings as Buffers (numbers and null stay).
function expected(v) {
  if (Array.isArray(v)) return v.map(expected);
  if (v === null || typeof v === 'number') return v;
  if (typeof v === 'object' && v.$bytes === undefined) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expected(x)]));
  }
  return bytes(v);
}

const revision = (v) => (v === 'any' ? ddata.ANY_REVISION : v);

function step(store, journal, s) {
  switch (s.op) {
    case 'upsert': return store.upsertSync(bytes(s.key), revision(s.expected), bytes(s.value));
    case 'get': {
      const st = store.getSync(bytes(s.key));
      return st === undefined ? null : { revision: st.revision, value: st.state };
    }
    case 'delete': return store.deleteSync(bytes(s.key), revision(s.expected));
    case 'keys': return store.keysSync(bytes(s.prefix)).map((r) => [r.key, r.revision]);
    case 'range': return store.rangeSync(bytes(s.from), s.count).map((r) => [r.key, r.revision, r.state]);
    case 'last': {
      const r = store.lastSync();
      return r === undefined ? null : [r.key, r.revision, r.state];
    }
    case 'purge': return store.purgeSync();
    case 'append': return journal.appendSync(bytes(s.pid), s.expected_seq, s.events.map(bytes));
    case 'pids': return journal.pidsSync(bytes(s.after), s.max === undefined ? Number.MAX_SAFE_INTEGER : s.max);
    default: throw new Error('unknown store op ' + s.op);
  }
}

function runStoreCase(c) {
  const store = new ddata.StateStore();
  const journal = new ddata.Journal();
  try {
    c.steps.forEach((s, i) => {
      let status = 'DD_OK';
      let got;
      try {
        got = step(store, journal, s);
      } catch (e) {
        if (!(e instanceof ddata.DdataError)) throw e;
        status = e.code;
      }
      const where = `step ${i + 1} (${s.op})`;
      assert.strictEqual(status, s.expect_status || 'DD_OK', where);
      if (status === 'DD_OK' && s.expect !== undefined) assert.deepStrictEqual(got, expected(s.expect), where);
    });
  } finally {
    store.close();
    journal.close();
  }
}

module.exports = { runStoreCase };
