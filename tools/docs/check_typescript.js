#!/usr/bin/env node
// Every exported declaration of the Node package's type declarations
// (node/index.d.ts, node/testing.d.ts) carries a /** */ doc comment
// (#18.8): the .d.ts files are the Node API reference (typedoc renders them
// when it is installed, editors show them on hover), so an export without a
// comment is a hole in the reference and fails `make test`.
//
// An export is documented when the nearest non-blank line above it ends a
// /** ... */ block. A run of one-line exports of the same shape (the error
// subclasses) is covered by a comment above the run only when each line is
// documented: no grouping is assumed.
//
//   check_typescript.js [file.d.ts ...]   exit 1 and a list when not
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const files = process.argv.length > 2
  ? process.argv.slice(2)
  : ['node/index.d.ts', 'node/testing.d.ts'].map((f) => path.join(root, f));

const EXPORT = /^export\s+(?:declare\s+)?(?:abstract\s+)?(function|class|interface|type|const|let|enum|namespace)\s+(\w+)/;

let missing = 0;
let total = 0;
for (const file of files) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    const m = EXPORT.exec(line);
    if (!m) return;
    total++;
    let j = i - 1;
    while (j >= 0 && lines[j].trim() === '') j--;
    if (j >= 0 && lines[j].trim().endsWith('*/')) {
      let k = j;
      while (k >= 0 && !lines[k].includes('/*')) k--;
      if (k >= 0 && lines[k].includes('/**')) return;
    }
    missing++;
    console.log(`${path.relative(root, file)}:${i + 1}: no /** */ comment on ${m[1]} ${m[2]}`);
  });
}
console.log(`typescript docs: ${total} exported declarations, ${missing} undocumented`);
process.exit(missing ? 1 : 0);
