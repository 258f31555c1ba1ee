// node.counter.increment: calls/s of GCounter.increment(1) from JavaScript,
// with the same loop run in C (dd_crdt_apply on a dd_crdt, by the program
// bench/node.sh compiles from bench/node_baseline.c, its path the first
// argument) as the baseline; the rounds alternate. Prints one JSON line
// (bench/README in bench/support/bench.h): ratio = value / baseline.
'use strict';

const { execFileSync } = require('child_process');
const ddata = require('..');

const baselineProgram = process.argv[2];
if (!baselineProgram) {
  console.error('node/bench/counter.js: the C baseline program is missing; run bench/node.sh');
  process.exit(2);
}

const N = Number(process.env.DDATA_BENCH_N || 20000000);
const ROUNDS = 3;

function jsRate() {
  const c = new ddata.GCounter();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) c.increment(1);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (c.value !== N) throw new Error('counter lost increments');
  return N / s;
}

function cRate() {
  return N / Number(execFileSync(baselineProgram, [String(N)], { encoding: 'utf8' }));
}

jsRate(); // warm up the JIT
let value = 0;
let baseline = 0;
for (let r = 0; r < ROUNDS; r++) {
  value = Math.max(value, jsRate());
  baseline = Math.max(baseline, cRate());
}
const round = (x) => Math.round(x);
console.log(JSON.stringify({
  name: 'node.counter.increment', unit: 'calls/s', value: round(value), baseline: round(baseline),
  ratio: Number((value / baseline).toFixed(3)),
}));
