#!/usr/bin/env node
// Builds the addon at `npm install` time, without node-gyp: node-gyp would
// download Node's headers, while the node-api-headers package already holds
// everything a Node-API (ABI-stable) addon needs, so one build serves every
// Node version.
//
// Where the library comes from, in order:
// 1. DDATA_BUILD_DIR: a configured CMake build of the checkout (make test-node).
// 2. csrc/ in this package: the C sources the npm tarball carries (copied in
//    by tools/dist/vendor.sh), compiled into the addon; DDATA_SYSTEM=1 skips it.
// 3. pkg-config, when `ddata` (1.x) is installed.
// 4. The source tree this package sits in, built as a static library.
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const pkgDir = path.resolve(__dirname, '..');
const buildDir = path.join(pkgDir, 'build');
const jobs = String(process.env.DDATA_JOBS || Math.min(2, os.cpus().length || 1));

function run(cmd, args) {
  console.error('ddata: ' + cmd + ' ' + args.join(' '));
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
}

function installedLibrary() {
  if (process.env.DDATA_FROM_TREE === '1') return false;
  try {
    execFileSync('pkg-config', ['--exists', 'ddata >= 1.0', 'ddata < 2.0'], { stdio: 'ignore' });
    return true;
  } catch (_) {
    return false;
  }
}

function findSourceTree() {
  const candidates = [process.env.DDATA_SOURCE_DIR, path.resolve(pkgDir, '..')];
  for (const dir of candidates) {
    if (dir && fs.existsSync(path.join(dir, 'abi', 'include', 'ddata.h'))) return dir;
  }
  return null;
}

// node-api-headers is a dependency of this package; npm may hoist it to
// the installing project (`npm install ./node` from a checkout), which
// plain resolution from here finds, or keep it beside the project that
// ran npm (INIT_CWD).
//
// `npm install <checkout>/node` links the folder without installing its
// dependencies; then node-api-headers is fetched into this package's own
// node_modules (nothing is written outside the package folder, and neither
// package.json nor the lock file changes).
function nodeApiHeaders() {
  const paths = [pkgDir, process.env.INIT_CWD, process.cwd()].filter(Boolean);
  const find = () => require(require.resolve('node-api-headers', { paths }));
  try {
    return find();
  } catch (_) {
    // fall through: fetch it
  }
  const range = require(path.join(pkgDir, 'package.json')).dependencies['node-api-headers'];
  const npmArgs = ['install', '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit',
    '--no-fund', '--prefix', pkgDir, 'node-api-headers@' + range];
  try {
    if (process.env.npm_execpath) {
      execFileSync(process.execPath, [process.env.npm_execpath, ...npmArgs], { cwd: pkgDir, stdio: 'inherit' });
    } else {
      execFileSync('npm', npmArgs, { cwd: pkgDir, stdio: 'inherit' });
    }
    return find();
  } catch (e) {
    throw new Error('ddata: the node-api-headers package is missing and could not be installed into ' +
      pkgDir + ' (' + e.message + '); run `npm install` there');
  }
}

// Node's own headers (include/node beside the running node) hold the uv.h
// of the libuv this Node runs: the fd watcher's header when present, else
// CMake looks for the system's libuv 1.x.
function nodeOwnUvDir() {
  const dir = path.resolve(path.dirname(process.execPath), '..', 'include', 'node');
  return fs.existsSync(path.join(dir, 'uv.h')) ? dir : null;
}

function main() {
  const headers = nodeApiHeaders();
  const args = [
    '-S', pkgDir, '-B', path.join(buildDir, 'addon'),
    '-DCMAKE_BUILD_TYPE=Release',
    '-DNODE_API_INCLUDE_DIR=' + headers.include_dir,
    '-DDDATA_ADDON_OUT=' + path.join(buildDir, 'Release'),
  ];
  const uv = nodeOwnUvDir();
  if (uv) args.push('-DUV_INCLUDE_DIR=' + uv);
  const vendored = path.join(pkgDir, 'csrc');
  if (!process.env.DDATA_BUILD_DIR && process.env.DDATA_SYSTEM !== '1' &&
      fs.existsSync(path.join(vendored, 'abi', 'include', 'ddata.h'))) {
    args.push('-DDDATA_VENDORED_DIR=' + vendored);
  } else if (!process.env.DDATA_BUILD_DIR && installedLibrary()) {
    args.push('-DDDATA_USE_PKGCONFIG=ON');
  } else {
    const tree = findSourceTree();
    if (!tree) {
      throw new Error('ddata: the library is not installed (pkg-config ddata) and no source tree ' +
        'was found; set DDATA_SOURCE_DIR to a ddata checkout');
    }
    // DDATA_BUILD_DIR reuses a configured build of the tree (make test-node
    // passes the one `make build` made) instead of compiling the library twice.
    const libBuild = process.env.DDATA_BUILD_DIR || path.join(buildDir, 'lib');
    if (!process.env.DDATA_BUILD_DIR) {
      run('cmake', ['-S', tree, '-B', libBuild, '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
        '-DDDATA_TESTS=OFF', '-DDDATA_BENCH=OFF']);
    }
    run('cmake', ['--build', libBuild, '--target', 'ddata_static', '-j', jobs]);
    args.push('-DDDATA_SOURCE_DIR=' + tree, '-DDDATA_STATIC_LIB=' + path.join(libBuild, 'libddata.a'));
  }
  run('cmake', args);
  run('cmake', ['--build', path.join(buildDir, 'addon'), '-j', jobs]);
}

try {
  main();
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
