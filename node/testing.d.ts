// TypeScript declarations for `ddata-crdt/testing` (lib/testing.js): test
// doubles for applications' own tests.
import { Journal, Replica, ReplicaOptions, StateStore, StoreOptions, System } from 'ddata-crdt';

/** Milliseconds that move only when advanced (starts at the wall clock). */
export class ManualClock {
  constructor(startMs?: number);
  nowMs: number;
  advance(ms: number): number;
  now(): number;
}

/** Messages in flight with seeded loss and delay, and partitions. */
export class SimNetwork {
  constructor(options?: { seed?: number; dropRate?: number; delayMs?: [number, number] });
  readonly seed: number;
  sent: number;
  dropped: number;
  partition(...groups: string[][]): void;
  heal(): void;
  connected(a: string, b: string): boolean;
}

/** Options of a SimCluster. */
export interface SimClusterOptions {
  /** How many nodes, named "n0".."n{N-1}" (or give `names`). */
  nodes?: number;
  names?: string[];
  /** Seeds the network; the same seed replays the same run. */
  seed?: number;
  dropRate?: number;
  delayMs?: [number, number];
  clock?: ManualClock;
  /** Options for every replica; durableKeys get an in-memory store per node. */
  replica?: ReplicaOptions;
}

/** N pump-mode nodes in this process, driven by run(ms). */
export class SimCluster {
  constructor(options?: SimClusterOptions);
  readonly seed: number;
  readonly names: string[];
  readonly clock: ManualClock;
  readonly network: SimNetwork;
  system(name: string): System;
  replica(name: string): Replica;
  partition(...groups: string[][]): void;
  heal(): void;
  stop(name: string): void;
  restart(name: string): void;
  step(ms?: number): void;
  run(ms: number, stepMs?: number): void;
  values<T>(key: string, read: (replica: Replica, key: string) => T): Record<string, T>;
  close(): void;
}

/** A state store in memory, for tests (gone when closed). */
export function memoryStore(options?: StoreOptions): StateStore;
/** A journal in memory, for tests (gone when closed). */
export function memoryJournal(options?: StoreOptions): Journal;
