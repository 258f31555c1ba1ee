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

module.exports = {
  version,
  versionNumber,
  abiVersion,
  statusName,
  statusStr,
  init,
  ...errors,
  ...crdt,
  ...system,
  ...store,
  ...owned,
  FdEventEmitter,
};
