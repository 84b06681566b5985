// The one error class of tzkv. Codes are stable and documented in README.md
// ("Error codes"); messages may change between releases. Every message names
// the store path, file or limit it is about.

export type ErrorCode =
  | 'NOT_FOUND' // the key does not exist or has expired
  | 'PRECONDITION' // a condition of the call was not met (put --if-absent on an existing key, incr of a non-integer, a compaction whose snapshot was replaced)
  | 'INVALID_ARGUMENT' // bad key, value, duration, option or input line
  | 'LOCKED' // the writer lock could not be taken in time, or another compaction is running
  | 'CORRUPT' // stored bytes failed a check (CRC, framing, header, manifest)
  | 'NOT_A_STORE' // the path is a regular file or a directory of other files
  | 'NO_STORE' // a read on a store directory that does not exist
  | 'VERSION' // the store was written by a newer format version
  | 'READ_ONLY' // a write on a store opened read-only (or a follower)
  | 'TIMEOUT' // a wait gave up: nothing happened in the time given (watch --timeout)
  | 'IO' // any other file-system or permission problem
  | 'UNAVAILABLE' // no member of an etcd cluster answered in time
  | 'CLOSED' // the store was used after close()
  | 'KEY_REQUIRED' // the store is encrypted and no secret was given (--key-file, TZKV_KEY_FILE, TZKV_PASSPHRASE)
  | 'KEY_WRONG' // the secret given does not open the store's KEYRING (or is not a valid key file)
  | 'INTERNAL'; // a bug in tzkv: please report it

/** What fixes damage a read met; CORRUPT errors of reads end with it (docs/cli.md "Exit codes"). */
export const REPAIR_HINT = 'run `tzkv verify --repair`';

/** Exit code of the CLI for each code (README "Exit codes"). */
export const EXIT_CODES: Record<ErrorCode, number> = {
  NOT_FOUND: 1,
  PRECONDITION: 1,
  READ_ONLY: 1,
  TIMEOUT: 1,
  INVALID_ARGUMENT: 2,
  LOCKED: 3,
  CORRUPT: 4,
  VERSION: 5,
  NOT_A_STORE: 5,
  NO_STORE: 5,
  IO: 5,
  UNAVAILABLE: 5,
  CLOSED: 5,
  KEY_REQUIRED: 6,
  KEY_WRONG: 6,
  INTERNAL: 70,
};

export interface TzkvErrorDetails {
  /** Store path, file or other subject the error is about. */
  path?: string;
  /** Byte offset inside `path`, for CORRUPT errors. */
  offset?: number;
  /** The underlying error (an fs error, usually). */
  cause?: unknown;
  /** Extra machine-readable facts (the lock holder, a limit). */
  info?: Record<string, unknown>;
}

/** Marks a TzkvError, so `instanceof` holds across separately bundled copies of this file (dist/etcd.cjs). */
const BRAND = Symbol.for('tzkv.error');

export class TzkvError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses keep the ordinary prototype check.
    if (this !== TzkvError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  readonly [BRAND] = true;
  readonly code: ErrorCode;
  readonly path?: string;
  readonly offset?: number;
  readonly info?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: TzkvErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TzkvError';
    this.code = code;
    if (details.path !== undefined) this.path = details.path;
    if (details.offset !== undefined) this.offset = details.offset;
    if (details.info !== undefined) this.info = details.info;
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export function isTzkvError(err: unknown, code?: ErrorCode): err is TzkvError {
  return err instanceof TzkvError && (code === undefined || err.code === code);
}

/** The errno codes whose meaning a message spells out; other errors keep their own message. */
const FS_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EFBIG: 'file too large',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'it is a directory',
};

/**
 * What went wrong in a Node fs error, in words ("no space left on device").
 * An error's own `reason` (src/io/fs.ts makeDirectories) wins over the words for its code.
 */
export function fsReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { reason?: unknown };
  if (typeof e?.reason === 'string') return e.reason;
  return FS_REASONS[e?.code ?? ''] ?? e?.message ?? String(err);
}

/** Wraps a Node fs error into an IO (or more precise) TzkvError naming `path`. */
export function ioError(err: unknown, what: string, path: string): TzkvError {
  if (err instanceof TzkvError) return err;
  const e = err as NodeJS.ErrnoException;
  return new TzkvError('IO', `${what} ${path}: ${fsReason(err)}`, { path, cause: err, info: { errno: e?.code } });
}
