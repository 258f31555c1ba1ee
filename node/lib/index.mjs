// ddata for Node as an ES module: `import { System } from 'ddata'`. The
// package is one CommonJS implementation (lib/index.js); this wrapper
// re-exports its names so `import` and `require` share one instance of the
// addon. test/esm.test.mjs checks that every CommonJS export is here.
import ddata from './index.js';

export default ddata;
export const {
  version, versionNumber, abiVersion, statusName, statusStr, init, lastError, clearError,
  DdataError, makeError, InvalidArgumentError, OutOfMemoryError, MisuseError, NotFoundError,
  ConflictError, CorruptError, CryptoError, LimitError, IOError, TimeoutError, DeletedError,
  TypeMismatchError, BusyError, DoneError, UnsupportedError,
  CrdtType, OpKind, Crdt, GCounter, PNCounter, GSet, ORSet, LWWRegister, Flag, MVRegister, ORMap,
  LWWMap, PNCounterMap, GCounterMap, ORMultiMap, normalizeOp, retype, typeNumber,
  System, Replica, Consistency, Journal, StateStore, Keyring, ANY_REVISION, sealAlgorithmAvailable,
  Owned, Strategy, OnMismatch, Urgency, FdEventEmitter,
} = ddata;
