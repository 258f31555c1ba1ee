// examples/node/prom_client.js runs (as a user would, `require('ddata')`)
// and its scrape carries the service's metric and the node's, in a text
// prom-client produced.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

test('the prom-client example serves ddata and app metrics from one registry', () => {
  const root = path.resolve(__dirname, '..', '..');
  const mods = fs.mkdtempSync(path.join(os.tmpdir(), 'ddata-ex-'));
  try {
    fs.symlinkSync(path.resolve(__dirname, '..'), path.join(mods, 'ddata'));
    const env = { ...process.env, NODE_PATH: [mods, path.resolve(__dirname, '..', 'node_modules')].join(path.delimiter) };
    const text = execFileSync(process.execPath, [path.join(root, 'examples', 'node', 'prom_client.js')], { env }).toString();
    assert.match(text, /^app_requests_total 1$/m);
    assert.match(text, /^ddata_keys 1$/m);
    assert.match(text, /^# TYPE ddata_store_operation_duration_seconds histogram$/m);
    assert.match(text, /^ddata_store_operation_duration_seconds_bucket\{op="append",le="\+Inf"\} \d+$/m);
    assert.match(text, /^ddata_members\{state="up"\} 1$/m);
  } finally {
    fs.rmSync(mods, { recursive: true, force: true });
  }
});
