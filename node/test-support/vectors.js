'use strict';

// What the conformance runners share: the byte strings of
// tests/conformance/SCHEMA.md (a UTF-8 string, or {"$bytes": base64}) as
// Buffers. Absent (undefined or null) is an empty Buffer.
function bytes(v) {
  if (v === undefined || v === null) return Buffer.alloc(0);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (typeof v === 'object' && typeof v.$bytes === 'string') return Buffer.from(v.$bytes, 'base64');
  throw new Error('bad byte string ' + JSON.stringify(v));
}

module.exports = { bytes };
