// Log records (dd_system_next_log) arrive as 'log' events on the System
// EventEmitter: a node that joins, and one that stops.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const ddata = require('..');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("'log' events carry a joining node and a stopped one", async () => {
  const opts = { failureTimeoutMs: 300, downAfterMs: 5000 };
  const a = new ddata.System({ nodeId: 'a', seeds: ['a'], ...opts });
  const b = new ddata.System({ nodeId: 'b', seeds: ['a'], ...opts });
  const ra = new ddata.Replica(a, { gossipIntervalMs: 50 });
  const rb = new ddata.Replica(b, { gossipIntervalMs: 50 });
  const nodes = { a, b };
  const records = [];
  a.on('log', (rec) => records.push(rec));
  const pump = () => {
    for (const [id, sys] of Object.entries(nodes)) {
      sys.tick();
      for (const [to, msg] of sys.outgoing()) if (nodes[to]) nodes[to].deliver(id, msg);
    }
  };
  const timer = setInterval(pump, 5);
  const seen = (event) => records.some((r) => r.event === event && r.fields.member === 'b');
  try {
    for (let i = 0; i < 300 && !seen('member.up'); i++) await sleep(10);
    const up = records.find((r) => r.event === 'member.up' && r.fields.member === 'b');
    assert.ok(up, JSON.stringify(records));
    assert.strictEqual(up.level, 'info');
    assert.ok(typeof up.timeMs === 'number' && up.timeMs > 0);
    delete nodes.b; // b stops: nothing more from it
    for (let i = 0; i < 300 && !seen('member.unreachable'); i++) await sleep(10);
    const gone = records.find((r) => r.event === 'member.unreachable' && r.fields.member === 'b');
    assert.ok(gone, JSON.stringify(records));
    assert.strictEqual(gone.level, 'warn');
  } finally {
    clearInterval(timer);
    ra.close();
    rb.close();
    a.close();
    b.close();
  }
});
