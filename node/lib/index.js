// ddata for Node: the public entry point. Each export is a thin shell over
// one ABI call; behaviour lives in the C library.
'use strict';

const native = require('./native');
const errors = require('./errors');
const crdt = require('./crdt');
const { FdEventEmitter } = require('./events');
const system = require('./system');
const store = require('./store');
const owned = require('./owned');

function version() {
  return native.version();
}

function versionNumber() {
  return native.versionNumber();
}

function abiVersion() {
  return native.abiVersion();
}

function statusName(status) {
  return native.statusName(status);
}

function statusStr(status) {
  return native.statusStr(status);
}

function init() {
  native.init();
}

// The last failure on this thread as {status, message} (the Error already
// carries it; this mirrors dd_error_last for completeness).
function lastError() {
  const [status, message] = native.errorLast();
  return { status, message };
}

function clearError() {
  native.errorClear();
}

// A fresh random actor id (a bigint, never 0): one per writer of a value.
function randomActor() {
  return native.randomActor();
}

module.exports = {
  version,
  versionNumber,
  abiVersion,
  statusName,
  statusStr,
  init,
  lastError,
  clearError,
  randomActor,
  ...errors,
  ...crdt,
  ...system,
  ...store,
  ...owned,
  FdEventEmitter,
};
