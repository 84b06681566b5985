// Where verify spills what it would otherwise hold per key (docs/design.md
// "Verify", Memory): scratch files in the system's temporary directory
// (os.tmpdir(), so TMPDIR), never in the store. verify is a reader: it writes
// nothing into the store it checks, which may be read-only, a follower being
// replicated into, or checked by a second verify at the same time.
import { tmpdir } from 'node:os';
import { TzkvError, ioError } from '../../errors.js';
import type { FileSystem } from '../../io/fs.js';
import { closeQuietly, removeQuietly } from '../../io/fs.js';

/** How much verify keeps in memory before spilling; tests make them tiny to force the spilled paths. */
export interface VerifyLimits {
  /** Record-table entries (17 bytes each) in memory before they go to a scratch file; index entries are then joined with them in partitions of this many records. */
  records: number;
  /** Expiry times of a run's PUTs (12 bytes each) in memory before they go to a scratch file. */
  ttlEntries: number;
  /** Key hashes of unindexed records examined in one pass of the newest-record check. */
  candidates: number;
  /** The scratch directory (default os.tmpdir()). */
  dir?: string;
}

export const DEFAULT_LIMITS: VerifyLimits = { records: 1 << 19, ttlEntries: 1 << 18, candidates: 1 << 18 };

/** An I/O failure of verify's own scratch files: verify stops with it (exit 5), it says nothing about the store. */
export class ScratchError extends TzkvError {}

/** Scratch files of one verify: created on demand, all removed by dispose(). */
export class Scratch {
  private readonly paths: string[] = [];
  private readonly fds: number[] = [];
  private readonly base: string;

  constructor(
    private readonly fs: FileSystem,
    readonly dir = tmpdir(),
  ) {
    this.base = `${dir}/tzkv-verify-${process.pid}-${Math.floor(Math.random() * 2 ** 32).toString(16)}`;
  }

  /** Creates a new scratch file (O_EXCL: never someone else's) and returns its path and descriptor. */
  create(what: string): { path: string; fd: number } {
    const path = `${this.base}-${this.paths.length}.${what}.tmp`;
    try {
      const fd = this.fs.createExclusive(path);
      this.paths.push(path);
      this.fds.push(fd);
      return { path, fd };
    } catch (err) {
      throw scratchError(err, 'cannot create verify scratch file', path);
    }
  }

  /** A new scratch file's path, for a class that opens it itself (a SpillingTtlList): created here, so the name is this verify's. */
  claim(what: string): string {
    const { path, fd } = this.create(what);
    this.fds.splice(this.fds.indexOf(fd), 1);
    closeQuietly(this.fs, fd); // empty
    return path;
  }

  write(fd: number, path: string, bytes: Uint8Array, at: number): void {
    try {
      this.fs.write(fd, bytes, 0, bytes.length, at);
    } catch (err) {
      throw scratchError(err, 'cannot write verify scratch file', path);
    }
  }

  read(fd: number, path: string, bytes: Uint8Array, at: number): void {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let n: number;
    try {
      n = this.fs.read(fd, buf, 0, buf.length, at);
    } catch (err) {
      throw scratchError(err, 'cannot read verify scratch file', path);
    }
    if (n !== buf.length) throw scratchError(new Error('it is shorter than written'), 'cannot read verify scratch file', path);
  }

  /** `err` as a ScratchError when it is a failure of one of these scratch files (not of the store); else null. */
  failure(err: unknown): ScratchError | null {
    if (err instanceof ScratchError) return err;
    if (err instanceof TzkvError && err.path !== undefined && this.paths.includes(err.path)) return scratchError(err.cause ?? err, 'cannot use verify scratch file', err.path);
    return null;
  }

  dispose(): void {
    for (const fd of this.fds) closeQuietly(this.fs, fd); // scratch only
    for (const path of this.paths) removeQuietly(this.fs, path);
    this.fds.length = 0;
    this.paths.length = 0;
  }
}

function scratchError(err: unknown, what: string, path: string): ScratchError {
  const e = ioError(err, what, path);
  return new ScratchError('IO', `${e.message} (TMPDIR names a writable directory with room for it)`, { path, cause: err });
}
