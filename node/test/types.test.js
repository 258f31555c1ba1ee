'use strict';

// index.d.ts type-checks under `tsc --strict`, and test/types/check.ts,
// which uses the API the way an application would, agrees with it.
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('child_process');
const path = require('path');

test('index.d.ts and a strict TypeScript use of it compile', () => {
  const pkg = path.resolve(__dirname, '..');
  const tsc = require.resolve('typescript/bin/tsc', { paths: [pkg] }); // a devDependency
  const r = spawnSync(process.execPath, [tsc, '--strict', '--noEmit', '--target', 'es2020', '--module', 'node16',
    '--moduleResolution', 'node16', '--types', 'node', '--skipLibCheck', 'false',
    path.join(pkg, 'index.d.ts'), path.join(pkg, 'testing.d.ts'), path.join(__dirname, 'types', 'check.ts')], { cwd: pkg, encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stdout + r.stderr);
});
