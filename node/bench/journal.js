// node.journal.append_async: events/s appended through the Promise form
// (await journal.append, batches of 100, run on the libuv pool), with the
// blocking appendSync on the same kind of SQLite file as the baseline, in
// the same run. ratio = value / baseline (> 1: the async form is faster).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const ddata = require('..');

const BATCH = 100;
const BATCHES = Number(process.env.DDATA_BENCH_BATCHES || 200);
const events = Array.from({ length: BATCH }, (_, i) => Buffer.alloc(128, i));

async function rate(useAsync) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-bench-'));
  const j = new ddata.Journal({ backend: 'sqlite', path: path.join(dir, 'j.db') });
  try {
    const t0 = process.hrtime.bigint();
    for (let b = 0; b < BATCHES; b++) {
      if (useAsync) await j.append('p', b * BATCH, events);
      else j.appendSync('p', b * BATCH, events);
    }
    return (BATCH * BATCHES) / (Number(process.hrtime.bigint() - t0) / 1e9);
  } finally {
    j.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

(async () => {
  await rate(true); // warm up
  const baseline = await rate(false);
  const value = await rate(true);
  console.log(JSON.stringify({ name: 'node.journal.append_async', unit: 'events/s', value: Math.round(value),
    baseline: Math.round(baseline), ratio: Number((value / baseline).toFixed(3)) }));
})();
