// Errors: every failing ddata call throws a DdataError subclass chosen by
// its status code, carrying `status` (the negative DD_E* number) and `code`
// (its name, "DD_ECONFLICT"). The addon builds them through the factory
// registered here, so the right class is thrown straight from C.
'use strict';

const native = require('./native');

class DdataError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
    this.code = native.statusName(status);
  }
}

function define(name, status) {
  const cls = class extends DdataError {};
  Object.defineProperty(cls, 'name', { value: name });
  Object.defineProperty(cls.prototype, 'name', { value: name });
  cls.status = status;
  return cls;
}

Object.defineProperty(DdataError.prototype, 'name', { value: 'DdataError' });

const classes = {
  InvalidArgumentError: define('InvalidArgumentError', -1),
  OutOfMemoryError: define('OutOfMemoryError', -2),
  MisuseError: define('MisuseError', -3),
  NotFoundError: define('NotFoundError', -4),
  ConflictError: define('ConflictError', -5),
  CorruptError: define('CorruptError', -6),
  CryptoError: define('CryptoError', -7),
  LimitError: define('LimitError', -8),
  IOError: define('IOError', -9),
  TimeoutError: define('TimeoutError', -10),
  DeletedError: define('DeletedError', -11),
  TypeMismatchError: define('TypeMismatchError', -12),
  BusyError: define('BusyError', -13),
  DoneError: define('DoneError', -14),
  UnsupportedError: define('UnsupportedError', -15),
  CallbackError: define('CallbackError', -16),
};

const byStatus = new Map();
for (const cls of Object.values(classes)) byStatus.set(cls.status, cls);

function makeError(status, message) {
  const cls = byStatus.get(status) || DdataError;
  return new cls(status, message);
}

native.setErrorFactory(makeError);

module.exports = { DdataError, makeError, ...classes };
