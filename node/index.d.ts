// TypeScript declarations for the `ddata` package (lib/index.js).

/** The library version actually loaded, "1.0.0". */
export function version(): string;
/** MAJOR * 1000000 + MINOR * 1000 + PATCH. */
export function versionNumber(): number;
/** The ABI version of the loaded library (DD_ABI_VERSION). */
export function abiVersion(): number;
/** "DD_ECONFLICT" for -5; "DD_E?" for unknown codes. */
export function statusName(status: number): string;
/** A description of a status: "invalid argument". */
export function statusStr(status: number): string;
/** Prepares process-wide state; idempotent. Constructors call it. */
export function init(): void;
/** The last failure on this thread. */
export function lastError(): { status: number; message: string };
/** Clears this thread's last error. */
export function clearError(): void;
/** A random 64-bit actor id for a CRDT's local updates. */
export function randomActor(): bigint;

/** Every failing ddata call throws a subclass of this. */
export class DdataError extends Error {
  /** The negative DD_E* status. */
  readonly status: number;
  /** The status name, "DD_ECONFLICT". */
  readonly code: string;
}
/** DD_EINVAL: an argument is wrong (NULL, empty, out of range). */
export class InvalidArgumentError extends DdataError {}
/** DD_ENOMEM: an allocation failed; nothing was changed. */
export class OutOfMemoryError extends DdataError {}
/** DD_EMISUSE: a closed or wrong-kind handle, or a call out of order. */
export class MisuseError extends DdataError {}
/** DD_ENOTFOUND: no such key, persistence id, snapshot or member. */
export class NotFoundError extends DdataError {}
/** DD_ECONFLICT: a compare-and-set lost; the sequence or revision moved. */
export class ConflictError extends DdataError {}
/** DD_ECORRUPT: stored or received bytes are malformed. */
export class CorruptError extends DdataError {}
/** DD_ECRYPTO: wrong key, tampered data or a failed handshake. */
export class CryptoError extends DdataError {}
/** DD_ELIMIT: a configured limit (bytes, count, depth) was hit. */
export class LimitError extends DdataError {}
/** DD_EIO: the operating system or a storage engine failed. */
export class IOError extends DdataError {}
/** DD_ETIMEOUT: a consistency level was not reached in time. */
export class TimeoutError extends DdataError {}
/** DD_EDELETED: the key was deleted and may not be updated. */
export class DeletedError extends DdataError {}
/** DD_ETYPE: the key or value holds another data type. */
export class TypeMismatchError extends DdataError {}
/** DD_EBUSY: a resource is locked by someone else; retry. */
export class BusyError extends DdataError {}
/** DD_EDONE: no more items (iteration ended, queue empty). */
export class DoneError extends DdataError {}
/** DD_EUNSUPPORTED: not available in this build or on this CPU. */
export class UnsupportedError extends DdataError {}
/** DD_ECALLBACK: a callback stopped the call; its code is in the message. */
export class CallbackError extends DdataError {}
/** Builds the error subclass for a status (what the addon throws). */
export function makeError(status: number, message: string): DdataError;

// ---------------------------------------------------------------- CRDT values

/** Bytes in: a string (as UTF-8), a Buffer or a Uint8Array. */
export type Bytes = string | Buffer | Uint8Array;
/** The CRDT type names, as in the conformance vectors. */
export type CrdtTypeName =
  | 'GCounter' | 'PNCounter' | 'GSet' | 'ORSet' | 'LWWRegister' | 'Flag' | 'MVRegister'
  | 'ORMap' | 'LWWMap' | 'PNCounterMap' | 'GCounterMap' | 'ORMultiMap';
/** The C code (DD_CRDT_*) of each CRDT type. */
export const CrdtType: Readonly<Record<CrdtTypeName, number>>;
/** The op kind names. */
export type OpKindName =
  | 'increment' | 'decrement' | 'add' | 'remove' | 'clear' | 'assign' | 'enable' | 'update';
/** The C code (DD_OP_*) of each op kind. */
export const OpKind: Readonly<Record<OpKindName, number>>;

/** An operation, the same for every type; maps nest ops with `update`. */
export interface Op {
  kind: OpKindName | number;
  amount?: number | bigint;
  key?: Bytes;
  value?: Bytes;
  valueType?: CrdtTypeName | number;
  nested?: Op;
}

/** Decode limits for everything received (absent fields keep the defaults). */
export interface Limits {
  maxDepth?: number;
  maxBytes?: number;
  maxElements?: number;
  maxValueBytes?: number;
  maxClockSkewMs?: number;
}

/** One CRDT value. Not locked: use it from one thread (worker) at a time. */
export class Crdt {
  constructor(type: CrdtTypeName | number, options?: { actor?: number | bigint });
  static create(type: CrdtTypeName | number, options?: { actor?: number | bigint }): Crdt;
  static decode(bytes: Bytes, limits?: Limits, nowMs?: number): Crdt;
  static fromJson(text: string | object, limits?: Limits): Crdt;
  readonly type: CrdtTypeName;
  typeOf(): number;
  /** Returns the op's delta when `delta` is set. */
  apply(op: Op, options?: { nowMs?: number; delta?: boolean; actor?: number | bigint }): Crdt | undefined;
  merge(other: Crdt): void;
  equals(other: Crdt): boolean;
  clone(): this;
  /** Frees the value now; later calls throw MisuseError. */
  close(): void;
  encode(): Buffer;
  toJson(): string;
  toJSON(): unknown;
  valueJson(): string;
  toValue(): { type: CrdtTypeName; [k: string]: unknown };
  digest(): bigint;
  count(): number;
  contains(element: Bytes): boolean;
  counterValue(): number | bigint;
  flagValue(): boolean;
  registerGet(): Buffer;
  elements(): Buffer[];
  elementStrings(): string[];
  mapGet(key: Bytes): Crdt | undefined;
  get(key: Bytes): Crdt | undefined;
}

/** A grow-only counter. */
export class GCounter extends Crdt {
  constructor(options?: { actor?: number | bigint });
  /** One call into C, no allocation. */
  increment(amount?: number): void;
  readonly value: number | bigint;
}
/** A counter that also decrements. */
export class PNCounter extends GCounter {
  decrement(amount?: number): void;
}
/** A grow-only set of byte strings. */
export class GSet extends Crdt {
  constructor(options?: { actor?: number | bigint });
  add(element: Bytes): void;
  has(element: Bytes): boolean;
  readonly size: number;
}
/** An observed-remove set (add wins over a concurrent remove). */
export class ORSet extends GSet {
  remove(element: Bytes): void;
  clear(): void;
}
/** A last-writer-wins register. */
export class LWWRegister extends Crdt {
  constructor(options?: { actor?: number | bigint });
  assign(value: Bytes, nowMs?: number): void;
  readonly value: Buffer | undefined;
}
/** An enable-only flag. */
export class Flag extends Crdt {
  constructor(options?: { actor?: number | bigint });
  enable(): void;
  readonly enabled: boolean;
}
/** A multi-value register: concurrent assigns are all kept. */
export class MVRegister extends Crdt {
  constructor(options?: { actor?: number | bigint });
  assign(value: Bytes): void;
  clear(): void;
  readonly values: Buffer[];
}
declare class CrdtMap extends Crdt {
  constructor(options?: { actor?: number | bigint });
  remove(key: Bytes): void;
  clear(): void;
  has(key: Bytes): boolean;
  keys(): Buffer[];
  readonly size: number;
}
/** An observed-remove map of nested CRDTs. */
export class ORMap extends CrdtMap {
  update(key: Bytes, valueType: CrdtTypeName | number, nested: Op): void;
}
/** A map of last-writer-wins registers. */
export class LWWMap extends CrdtMap {
  set(key: Bytes, value: Bytes, nowMs?: number): void;
}
/** A map of PN counters. */
export class PNCounterMap extends CrdtMap {
  increment(key: Bytes, amount?: number): void;
  decrement(key: Bytes, amount?: number): void;
}
/** A map of grow-only counters. */
export class GCounterMap extends CrdtMap {
  increment(key: Bytes, amount?: number): void;
}
/** An observed-remove multi-map: a set of values per key. */
export class ORMultiMap extends CrdtMap {
  add(key: Bytes, value: Bytes): void;
  remove(key: Bytes, value?: Bytes): void;
}

// ---------------------------------------------------------------- events

import { EventEmitter } from 'events';

/** An EventEmitter fed from a pollable fd on libuv's loop. */
export class FdEventEmitter extends EventEmitter {
  constructor(fd: number, drain: () => Array<[string, unknown]>);
  close(): void;
}

// ---------------------------------------------------------------- system and replica

/** Options of a node (dd_system_options); only nodeId is required. */
export interface SystemOptions {
  nodeId: string;
  seeds?: string[];
  incarnation?: number | bigint;
  seed?: number | bigint;
  failureTimeoutMs?: number;
  /** Unreachable this long -> down. */
  downAfterMs?: number;
  /** Down this long -> removed. */
  removeAfterMs?: number;
  maxEvents?: number;
  /** TCP: the driver's timer granularity (0 = 10 ms). */
  tickIntervalMs?: number;
  /** Built-in TCP transport: "ip:port" to listen on. Absent = pump mode. */
  tcpListen?: string;
  /** TCP: the cluster's 32-byte secret (absent = plaintext). */
  secret?: Bytes;
  /** Decode limits for everything received (absent = the defaults). */
  limits?: Limits;
  /** TCP: the address told to peers (absent = the bound address). */
  advertisedAddress?: string;
  /** TCP: this node's 32-byte private key (instead of nodeKeyFile). */
  nodeKey?: Bytes;
  /** TCP: this node's key file (from generateNodeKey / `ddata keygen`); absent = a fresh key. */
  nodeKeyFile?: string;
  /** TCP: a second 32-byte secret accepted while the cluster's secret rotates. */
  nextSecret?: Bytes;
  /** TCP: the allow-list; absent or [] = any node with the secret. */
  peerKeys?: PeerKey[];
}

/** A 32-byte public key, or one bound to the node id it must claim. */
export type PeerKey = Buffer | { key: Buffer; nodeId?: string };

/** Writes a node key file (mode 0600, never overwriting) and returns its public key. */
export function generateNodeKey(path: string): Buffer;

/** A record of the library's log (dd_system_next_log): level, stable event name, fields. */
export interface LogRecord { event: string; level: 'debug' | 'info' | 'warn' | 'error'; fields: Record<string, string>; timeMs: number; }
/** A 'member' event: a node changed membership state. */
export interface MemberEvent { kind: 'member'; node: string; incarnation: number | bigint; state: 'joining' | 'up' | 'unreachable' | 'down' | 'removed' | 'unknown'; }
/** A 'changed', 'deleted' or 'expired' event for a subscribed key. */
export interface KeyEvent { kind: 'changed' | 'deleted' | 'expired'; key: string; }
/** An 'overflow' event: the queue was full and this many events were lost. */
export interface OverflowEvent { kind: 'overflow'; dropped: number | bigint; }

/** A node. Emits 'member', 'changed', 'deleted', 'expired', 'overflow'. */
export class System extends FdEventEmitter {
  constructor(options: SystemOptions);
  readonly incarnation: number | bigint;
  /** Leaves the cluster cleanly (dd_system_leave): the others see it 'removed' at once. A TCP node waits up to timeoutMs (default 5000) for their acks; pump mode resolves at once. */
  leave(timeoutMs?: number): Promise<void>;
  /** leave, blocking the thread while a TCP node waits. */
  leaveSync(timeoutMs?: number): void;
  /** The bound "ip:port" of a TCP node; give it to others as a seed. */
  readonly listenAddress: string;
  /** This node's static X25519 public key. */
  readonly publicKey: Buffer;
  /** Replaces the allow-list ([] = none); links of peers no longer admitted close. */
  setPeerKeys(keys: PeerKey[]): void;
  /** Per-peer and engine statistics (dd_system_stats_json), parsed. */
  stats(): Record<string, unknown>;
  /** Metrics in the Prometheus text exposition format. */
  metricsText(): string;
  tick(nowMs?: number): void;
  deliver(from: string, bytes: Bytes, nowMs?: number): void;
  outgoing(): Array<[string, Buffer]>;
  close(): void;
  on(event: 'member', listener: (ev: MemberEvent) => void): this;
  /** A log record (dd_system_next_log): the library prints nothing. */
  on(event: 'log', listener: (rec: LogRecord) => void): this;
  on(event: 'changed' | 'deleted' | 'expired', listener: (ev: KeyEvent) => void): this;
  on(event: 'overflow', listener: (ev: OverflowEvent) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** The consistency levels' C codes (DD_CONSISTENCY_*). */
export const Consistency: Readonly<{ local: 0; from: 1; majority: 2; majorityPlus: 3; all: 4 }>;
/** How many replicas a read or write must reach: local, a majority, all, at least `from`, or a majority plus `majorityPlus`. */
export type ConsistencyLevel = 'local' | 'majority' | 'all' | { from: number } | { majorityPlus: number };

/** Options of the replicator (dd_replica_options); absent fields keep the defaults. */
export interface ReplicaOptions {
  gossipIntervalMs?: number;
  gossipFanout?: number;
  /** No gossip message is larger (>= 1024). */
  maxMessageBytes?: number;
  notifyIntervalMs?: number;
  /** How long a tombstone is kept after every member saw the delete. */
  tombstoneGraceMs?: number;
  store?: StateStore;
  durableKeys?: string[];
  /** Flush durable keys every writeBehindIntervalMs instead of on every change. */
  writeBehind?: boolean;
  writeBehindIntervalMs?: number;
  /** Keys starting so expire after expireAfterMs idle. */
  expiryPrefixes?: string[];
  expireAfterMs?: number;
  /** 0 immediate, 1 batched, 2 none (digest anti-entropy only). */
  deltaStrategy?: number;
  /** Where durable records live in the store (default "dd/replica/"); the rest is left alone. */
  storePrefix?: string;
}

/** The replicator of one System: keys holding CRDT values, gossiped to the other members. */
export class Replica {
  constructor(system: System, options?: ReplicaOptions);
  readonly system: System;
  readonly size: number;
  update(key: Bytes, type: CrdtTypeName | number, op: Op): void;
  get(key: Bytes): Crdt | undefined;
  delete(key: Bytes): void;
  keys(): string[];
  subscribe(key: Bytes, options?: { prefix?: boolean }): void;
  /** Applies locally at once; resolves when the level is reached, rejects with TimeoutError. */
  write(key: Bytes, type: CrdtTypeName | number, op: Op, options?: { consistency?: ConsistencyLevel; timeoutMs?: number }): Promise<void>;
  read(key: Bytes, options?: { consistency?: ConsistencyLevel; timeoutMs?: number }): Promise<Crdt | undefined>;
  flush(): void;
  close(): void;
}

// ---------------------------------------------------------------- persistence

/** Keys that seal (encrypt and authenticate) records at rest. */
export class Keyring {
  constructor();
  /** A 32-byte key named keyId; the first key added is active. */
  addKey(keyId: number, key: Bytes): this;
  setActive(keyId: number): void;
  /** 'aes256gcm' throws UnsupportedError on a CPU without AES-NI. */
  setAlgorithm(name: 'xchacha20poly1305' | 'aes256gcm'): this;
  close(): void;
}
/** Whether this CPU can seal with the algorithm. */
export function sealAlgorithmAvailable(name: 'xchacha20poly1305' | 'aes256gcm'): boolean;

/** Where and how a journal or state store keeps its data (dd_store_options). */
export interface StoreOptions {
  backend?: 'memory' | 'sqlite' | 'fs' | 'postgres';
  path?: string;
  /** SQLite: keep snapshots in this second file (default: in `path`). */
  snapshotPath?: string;
  snapshotKeep?: number;
  /** 'off' | 'normal' (the default) | 'full': how hard writes are flushed. */
  sync?: 'off' | 'normal' | 'full';
  /** SQLite: how long to wait for another writer. */
  busyTimeoutMs?: number;
  /** Seal records at rest (zlib, then AEAD). */
  keyring?: Keyring;
  /** Refuse a missing path, a 0-byte file or a folder that is not a store
   * instead of creating one (NotFound / Corrupt). */
  mustExist?: boolean;
  /** Open an existing store for reading only: nothing created or written
   * (NotFoundError when the path holds no store). */
  readOnly?: boolean;
  /** zlib level 0..9 (0 = off, default 6), sealed or not. */
  compressionLevel?: number;
  /** Compress records of at least this many bytes (default 256). */
  compressionThreshold?: number;
}
/** One event of a persistence id, as replay returns it. */
export interface JournalEvent { seq: number | bigint; timestampMs: number | bigint; payload: Buffer; }
/** An event to append; timestampMs 0 or absent = now. */
export interface NewEvent { payload: Bytes; timestampMs?: number; tags?: string[]; }
/** An event found by tag, with its persistence id and global ordering. */
export interface TaggedEvent extends JournalEvent { pid: string; ordering: number | bigint; }

/** What the async read methods return: iterate once with `for await`, or collect with toArray(). */
export interface Rows<T> extends AsyncIterable<T> {
  toArray(): Promise<T[]>;
}
/** Which snapshots loadSnapshot considers (inclusive bounds; a number alone is maxSeq). The newest match is returned. */
export interface SnapshotCriteria { minSeq?: U64; maxSeq?: U64; minTimestampMs?: U64; maxTimestampMs?: U64; }
/** A snapshot of a persistence id: the state at seq. */
export type Snapshot = { seq: number | bigint; timestampMs: number | bigint; state: Buffer };
/** How persist() stores: 'light' (every event with a snapshot) or 'full' (events, a snapshot every snapshotEvery, compact deletes covered events). */
export interface PersistOptions { strategy?: 'light' | 'full'; snapshotEvery?: number; compact?: boolean }
/** Callbacks of recover(): at most one snapshot, then the events after it, in order. */
export interface RecoverHandlers {
  onSnapshot?: (seq: number | bigint, state: Buffer) => void;
  onEvent?: (ev: JournalEvent) => void;
}

/**
 * An event journal plus snapshots. The plain methods return Promises and run
 * on the libuv thread pool; the `...Sync` forms block the event loop.
 * Arguments are in the C order: `append(pid, expectedSeq, events)`.
 */
export class Journal {
  constructor(options?: StoreOptions);
  /** Appends events expectedSeq + 1..; rejects with ConflictError when expectedSeq is not the highest. */
  append(pid: Bytes, expectedSeq: number, events: Array<NewEvent | Bytes>): Promise<void>;
  appendSync(pid: Bytes, expectedSeq: number, events: Array<NewEvent | Bytes>): void;
  highestSeq(pid: Bytes): Promise<number | bigint>;
  highestSeqSync(pid: Bytes): number | bigint;
  deleteTo(pid: Bytes, toSeq: number): Promise<void>;
  deleteToSync(pid: Bytes, toSeq: number): void;
  /** Events fromSeq..toSeq (inclusive), at most max, read in batches on the pool. */
  replay(pid: Bytes, fromSeq?: number, toSeq?: number, max?: number): Rows<JournalEvent>;
  replaySync(pid: Bytes, fromSeq?: number, toSeq?: number, max?: number): JournalEvent[];
  /** Events tagged `tag` after `afterOrdering`, in global order. */
  byTag(tag: string, afterOrdering?: number, max?: number): Rows<TaggedEvent>;
  byTagSync(tag: string, afterOrdering?: number, max?: number): TaggedEvent[];
  saveSnapshot(pid: Bytes, seq: number, state: Bytes, timestampMs?: number): Promise<void>;
  saveSnapshotSync(pid: Bytes, seq: number, state: Bytes, timestampMs?: number): void;
  /** The newest snapshot (with seq <= maxSeq), or undefined. */
  loadSnapshot(pid: Bytes, bound?: number | SnapshotCriteria): Promise<Snapshot | undefined>;
  loadSnapshotSync(pid: Bytes, bound?: number | SnapshotCriteria): Snapshot | undefined;
  /** Appends one event and, per the strategy, a snapshot of `state`; resolves to the event's seq. */
  persist(pid: Bytes, expectedSeq: number, payload: Bytes, state: Bytes, options?: PersistOptions): Promise<number | bigint>;
  persistSync(pid: Bytes, expectedSeq: number, payload: Bytes, state: Bytes, options?: PersistOptions): number | bigint;
  /** Reads on the pool; the callbacks run on the main thread between batches. Resolves to the last seq applied. */
  recover(pid: Bytes, handlers: RecoverHandlers): Promise<number | bigint>;
  recoverSync(pid: Bytes, handlers: RecoverHandlers): number | bigint;
  /** Persistence ids greater than `after` ('' = all), in byte order. */
  pids(after?: Bytes, max?: number): Rows<Buffer>;
  pidsSync(after?: Bytes, max?: number): Buffer[];
  close(): void;
}

/** Pass as the expected revision for an unconditional write. */
export const ANY_REVISION: -1;
/**
 * Durable state: key -> (revision, bytes) with compare-and-set. Promise
 * forms run on the libuv pool; `...Sync` forms block. Arguments are in the
 * C order: `upsert(key, expectedRevision, state)`; the expected revision is
 * required (0 inserts, N replaces revision N, ANY_REVISION writes regardless).
 */
export class StateStore {
  constructor(options?: StoreOptions);
  /** Resolves to the new revision; rejects with ConflictError when the revision moved. */
  upsert(key: Bytes, expectedRevision: number, state: Bytes): Promise<number | bigint>;
  upsertSync(key: Bytes, expectedRevision: number, state: Bytes): number | bigint;
  get(key: Bytes): Promise<{ revision: number | bigint; state: Buffer } | undefined>;
  getSync(key: Bytes): { revision: number | bigint; state: Buffer } | undefined;
  delete(key: Bytes, expectedRevision: number): Promise<void>;
  deleteSync(key: Bytes, expectedRevision: number): void;
  /** Keys starting with `prefix`, in byte order; with `{values: true}`, whole records. */
  keys(prefix?: Bytes): Rows<{ key: Buffer; revision: number | bigint }>;
  keys(prefix: Bytes, options: { values: true }): Rows<StateRecord>;
  keysSync(prefix?: Bytes): Array<{ key: Buffer; revision: number | bigint }>;
  keysSync(prefix: Bytes, options: { values: true }): StateRecord[];
  /** Up to |count| records from `from` (inclusive); count < 0 walks backward. */
  range(from?: Bytes, count?: number): Rows<StateRecord>;
  rangeSync(from?: Bytes, count?: number): StateRecord[];
  /** Records within the bounds (see StateScanOptions), in byte order or reversed. */
  scan(options?: StateScanOptions): Rows<StateRecord>;
  scanSync(options?: StateScanOptions): StateRecord[];
  /** The record with the greatest key starting with `prefix` (any key when empty), or undefined. */
  last(prefix?: Bytes): Promise<StateRecord | undefined>;
  lastSync(prefix?: Bytes): StateRecord | undefined;
  /** Deletes every record whose key starts with `prefix` (every record when empty). */
  purge(prefix?: Bytes): Promise<void>;
  purgeSync(prefix?: Bytes): void;
  /** All or nothing, in one transaction: the new revision of each op (0 for deletes). */
  batch(ops: StateOp[]): Promise<Array<number | bigint>>;
  batchSync(ops: StateOp[]): Array<number | bigint>;
  /** Makes every write so far durable, whatever the sync option. */
  flush(): Promise<void>;
  flushSync(): void;
  close(): void;
}
/** Bounds of StateStore.scan: start <= key (start < key with startExclusive), key < end
 * (key <= end with endInclusive), key starting with prefix; limit 0 = all. */
export interface StateScanOptions {
  start?: Bytes;
  end?: Bytes;
  prefix?: Bytes;
  startExclusive?: boolean;
  endInclusive?: boolean;
  reverse?: boolean;
  limit?: number;
  /** false: rows are {key, revision} and states are not read. */
  values?: boolean;
}
/** One write of StateStore.batch, in the C order. */
export type StateOp = ['upsert', Bytes, number, Bytes] | ['delete', Bytes, number];
/** One key of a state store with its revision. */
export interface StateRecord { key: Buffer; revision: number | bigint; state: Buffer; }

// ---------------------------------------------------------------- node-owned state

/** How a type's views spread (DD_OWNED_* strategy codes). */
export const Strategy: Readonly<{ activePush: 1; feedLazyPull: 2; feedWithPeriodicSync: 3; periodicOnly: 4 }>;
/** What a reader does with a view of another wire version. */
export const OnMismatch: Readonly<{ keepStale: 1; dropAndWait: 2 }>;
/** When a publish is announced. */
export const Urgency: Readonly<{ default: 0; immediate: 1; delayed: 2; suppressed: 3 }>;
/** A 64-bit unsigned value, as a number or a bigint. */
export type U64 = number | bigint;

/** Per-type settings of node-owned state (dd_owned_type_options); absent fields keep the defaults. */
export interface OwnedTypeOptions {
  strategy?: keyof typeof Strategy | 'active_push' | 'feed_lazy_pull' | 'feed_with_periodic_sync' | 'periodic_only' | number;
  onMismatch?: keyof typeof OnMismatch | 'keep_stale' | 'drop_and_wait' | number;
  wireVersion?: number;
  storageVersion?: number;
  compactEvery?: number;
  feedIntervalMs?: number;
  syncIntervalMs?: number;
  pullRetryMs?: number;
  pullTimeoutMs?: number;
}

/** A copy of a view: base at baseAge, then deltas for the ages after it. */
export interface OwnedView {
  nodeId: U64; incarnation: U64; age: U64; baseAge: U64; wireVersion: number;
  versionMismatch: boolean; confirmedMs: U64; base: Buffer; deltas: Buffer[];
}

/** One owned-state event; status is a DD_* code for queryDone. */
export interface OwnedEvent {
  kind: 'viewChanged' | 'viewRemoved' | 'queryDone' | 'versionMismatch' | 'compactWanted' | 'unknown';
  status: number; nodeId: U64; incarnation: U64; age: U64; requestId: U64; peerVersion: number; type: string;
}

/** Node-owned state; emits the OwnedEvent kinds as event names. */
export class Owned extends FdEventEmitter {
  /** With `system` (a TCP System with an open Replica), the system carries
   * the messages and membership; nodeId and incarnation come from it. */
  constructor(options: {
    nodeId?: U64; incarnation?: U64; store?: StateStore; system?: System;
    /** Decode limits for everything received (absent = the defaults). */
    limits?: Limits;
    /** Cap on queued outgoing messages and on queued events, each (0 = 65536). */
    maxQueued?: U64;
  });
  /** The id views use for a system's node id. */
  static nodeOf(nodeId: string): U64;
  register(type: string, options?: OwnedTypeOptions): void;
  publish(type: string, data: Bytes, options?: { full?: boolean; urgency?: keyof typeof Urgency | number; delayMs?: number }): { incarnation: U64; age: U64 };
  tick(nowMs: number): void;
  deliver(fromNode: U64, bytes: Bytes): void;
  outgoing(): Array<[U64, Buffer]>;
  memberUp(node: U64, incarnation: U64): void;
  memberLeft(node: U64): void;
  /** 0 when the view may be read now, else the request id of a pull. */
  query(type: string, node: U64, maxStalenessMs?: number): U64;
  read(type: string, node: U64): OwnedView;
  nodes(): U64[];
  nextEvent(): OwnedEvent | undefined;
  close(): void;
}
