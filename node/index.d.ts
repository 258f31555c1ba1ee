// TypeScript declarations for the `ddata` package (lib/index.js).

/** The library version actually loaded, "1.0.0". */
export function version(): string;
/** MAJOR * 1000000 + MINOR * 1000 + PATCH. */
export function versionNumber(): number;
export function abiVersion(): number;
/** "DD_ECONFLICT" for -5; "DD_E?" for unknown codes. */
export function statusName(status: number): string;
/** A description of a status: "invalid argument". */
export function statusStr(status: number): string;
/** Prepares process-wide state; idempotent. Constructors call it. */
export function init(): void;

/** Every failing ddata call throws a subclass of this. */
export class DdataError extends Error {
  /** The negative DD_E* status. */
  readonly status: number;
  /** The status name, "DD_ECONFLICT". */
  readonly code: string;
}
export class InvalidArgumentError extends DdataError {}
export class OutOfMemoryError extends DdataError {}
export class MisuseError extends DdataError {}
export class NotFoundError extends DdataError {}
export class ConflictError extends DdataError {}
export class CorruptError extends DdataError {}
export class CryptoError extends DdataError {}
export class LimitError extends DdataError {}
export class IOError extends DdataError {}
export class TimeoutError extends DdataError {}
export class DeletedError extends DdataError {}
export class TypeMismatchError extends DdataError {}
export class BusyError extends DdataError {}
export class DoneError extends DdataError {}
export class UnsupportedError extends DdataError {}
/** Builds the error subclass for a status (what the addon throws). */
export function makeError(status: number, message: string): DdataError;
