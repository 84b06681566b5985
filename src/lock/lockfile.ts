// The writer lock (docs/format.md "LOCK", docs/design.md "Locking").
//
// One file, LOCK, created with O_CREAT|O_EXCL and holding its holder's pid,
// host, kernel start time, command and a random token. A lock whose holder is
// dead on this host is broken; one from another host never is. Processes are
// judged and time is read only through the Processes and Clock passed in
// (src/io/processes.ts, src/io/clock.ts): tests inject both.
import { TzkvError, ioError } from '../errors.js';
import { LOCK_NAME } from '../format/constants.js';
import type { Clock } from '../io/clock.js';
import type { FileSystem } from '../io/fs.js';
import { readWholeFile, removeQuietly } from '../io/fs.js';
import type { Processes } from '../io/processes.js';
import { ownIdentity } from '../io/processes.js';
import { randomHex } from '../io/random.js';
import { type LockHolder, describeHolder, heldTokens, holderState, parseHolder } from './lock-holder.js';

/** What a lock is judged and timed by: the processes of this machine and its clock. */
interface LockSurroundings {
  processes: Processes;
  clock: Clock;
}

export interface AcquireOptions extends LockSurroundings {
  timeoutMs: number;
  command: string;
}

export class WriterLock {
  private released = false;

  private constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    readonly holder: LockHolder,
  ) {}

  get path(): string {
    return `${this.dir}/${LOCK_NAME}`;
  }

  /** Takes the lock, waiting with backoff up to timeoutMs; throws LOCKED naming the holder. */
  static async acquire(fs: FileSystem, dir: string, options: AcquireOptions): Promise<WriterLock> {
    const { processes, clock } = options;
    const holder: LockHolder = { ...ownIdentity(processes), acquiredAt: '', command: options.command, token: randomHex(12) };
    // On the monotonic clock: a wall clock stepped back or forward during the wait neither lengthens nor cuts it.
    const deadline = clock.monotonic() + options.timeoutMs;
    let delay = 1;
    for (;;) {
      const lock = WriterLock.tryCreate(fs, dir, holder, clock);
      if (lock) return lock;
      const current = WriterLock.readHolder(fs, dir);
      if (current === null) continue; // vanished between our create and read: try again at once
      if (current === undefined && unreadableLockAbandoned(fs, dir, clock)) {
        try {
          breakStaleLock(fs, dir, undefined, options);
        } catch (err) {
          throw ioError(err, 'cannot break the stale lock of', dir);
        }
        continue;
      }
      if (current !== undefined && holderState(current, processes) === 'dead') {
        try {
          breakStaleLock(fs, dir, current, options);
        } catch (err) {
          throw ioError(err, 'cannot break the stale lock of', dir);
        }
        // Broken (or replaced by a live holder): try again at once. Still there: another
        // process is breaking it right now, so wait like any other waiter.
        if (WriterLock.readHolder(fs, dir)?.token !== current.token) continue;
      }
      if (clock.monotonic() >= deadline) {
        const message =
          current === undefined
            ? `store ${dir} is locked (the lock file ${dir}/${LOCK_NAME} is unreadable; if no tzkv process is running, run \`tzkv unlock --force\`)`
            : describeHolder(dir, current, clock.now(), processes);
        throw new TzkvError('LOCKED', message, { path: dir, info: current ? { holder: current } : {} });
      }
      await clock.sleep(Math.min(delay, Math.max(1, deadline - clock.monotonic())));
      delay = Math.min(delay * 2, 50) + Math.random() * 2;
    }
  }

  /**
   * Creates LOCK holding `holder`, or returns undefined when it exists. The
   * content is written to a private file first and hard-linked into place
   * (link never replaces an existing name), so LOCK is never seen empty: a
   * writer killed at any point leaves either no LOCK or one naming it.
   */
  private static tryCreate(fs: FileSystem, dir: string, holder: LockHolder, clock: Clock): WriterLock | undefined {
    const path = `${dir}/${LOCK_NAME}`;
    const mine = { ...holder, acquiredAt: new Date(clock.now()).toISOString() };
    const aside = `${dir}/${LOCK_NAME}.${mine.token}.tmp`;
    // Not fsynced: the lock matters only while its holder lives. After a power loss it is
    // either gone or names a process that is gone: both are stale.
    const data = Buffer.from(JSON.stringify(mine) + '\n');
    try {
      const fd = fs.createTruncate(aside);
      try {
        fs.write(fd, data, 0, data.length, 0);
      } finally {
        fs.close(fd);
      }
    } catch (err) {
      removeQuietly(fs, aside);
      throw cannotLock(err, dir, 'cannot write', aside);
    }
    try {
      fs.link(aside, path);
    } catch (err) {
      removeQuietly(fs, aside);
      const code = (err as NodeJS.ErrnoException).code;
      // EEXIST: held. ENOENT: another writer's cleanup removed our private file: try again.
      if (code === 'EEXIST' || code === 'ENOENT') return undefined;
      throw cannotLock(err, dir, 'cannot create', path);
    }
    removeQuietly(fs, aside);
    heldTokens.add(mine.token);
    return new WriterLock(fs, dir, mine);
  }

  /** The current holder; null when there is no lock, undefined when the file is unreadable. */
  static readHolder(fs: FileSystem, dir: string): LockHolder | null | undefined {
    try {
      return parseHolder(readWholeFile(fs, `${dir}/${LOCK_NAME}`));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      return undefined;
    }
  }

  /** True while the lock file still carries our token. */
  stillHeld(): boolean {
    const h = WriterLock.readHolder(this.fs, this.dir);
    return !!h && h.token === this.holder.token;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    // From here on a LOCK with our token is a leftover that the next writer breaks (holderState).
    heldTokens.delete(this.holder.token);
    if (!this.stillHeld()) return; // broken by someone else: leave their lock alone
    try {
      this.fs.unlink(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(err, 'cannot remove the lock file', this.path);
    }
  }
}

/** The lock could not be taken for a file-system reason (a full disk, a read-only one): the write never started. */
function cannotLock(err: unknown, dir: string, what: string, path: string): TzkvError {
  const e = ioError(err, `cannot take the writer lock of store ${dir}: ${what}`, path);
  return new TzkvError(e.code, `${e.message}; nothing was written`, { path, cause: err, info: e.info });
}

/**
 * Removes a lock whose holder is dead. Breakers serialise on LOCK.break
 * (O_EXCL) and re-check, under it, that LOCK still carries the stale token,
 * so two breakers never remove a lock that a third process just took.
 */
function breakStaleLock(fs: FileSystem, dir: string, stale: LockHolder | undefined, { processes, clock }: LockSurroundings): void {
  const breakPath = `${dir}/${LOCK_NAME}.break`;
  let fd: number;
  try {
    fd = fs.createExclusive(breakPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(err, 'cannot create', breakPath);
    clearDeadBreaker(fs, breakPath, processes, clock);
    return;
  }
  try {
    const me = Buffer.from(JSON.stringify({ ...ownIdentity(processes), token: 'break' }));
    fs.write(fd, me, 0, me.length, 0);
    fs.close(fd);
    const current = WriterLock.readHolder(fs, dir);
    const stillStale = stale === undefined ? current === undefined && unreadableLockAbandoned(fs, dir, clock) : current?.token === stale.token;
    if (stillStale) fs.unlink(`${dir}/${LOCK_NAME}`);
  } finally {
    removeQuietly(fs, breakPath);
  }
}

/** How long an unreadable LOCK may stay unreadable before it counts as abandoned (its holder writes it in microseconds). */
const UNREADABLE_GRACE_MS = 2000;

/** An empty or garbled LOCK that has been so for a while: left by a power loss or a crash between create and write. */
function unreadableLockAbandoned(fs: FileSystem, dir: string, clock: Clock): boolean {
  const st = fs.stat(`${dir}/${LOCK_NAME}`);
  return st !== undefined && clock.now() - st.mtimeMs > UNREADABLE_GRACE_MS;
}

/**
 * Whether the `LOCK.TOKEN.tmp` at `path` may still be linked to LOCK by its
 * writer: the holder it records is judged like a LOCK's (alive, or on another
 * host). An unreadable one is not kept: its writer, if it runs, is in the
 * microseconds between creating and writing it, and a writer whose private
 * file vanishes before the link tries again (tryCreate), so removing it costs
 * a retry, never a failure; an unreadable LOCK waits UNREADABLE_GRACE_MS
 * because breaking a live holder's would let two writers in.
 */
export function lockTempInUse(fs: FileSystem, path: string, processes: Processes): boolean {
  let h: LockHolder | undefined;
  try {
    h = parseHolder(readWholeFile(fs, path));
  } catch {
    return false; // gone already, or unreadable
  }
  return h !== undefined && holderState(h, processes) !== 'dead';
}

/** A breaker killed inside its few-microsecond critical section leaves LOCK.break behind. */
function clearDeadBreaker(fs: FileSystem, breakPath: string, processes: Processes, clock: Clock): void {
  try {
    const h = parseHolder(readWholeFile(fs, breakPath));
    const now = clock.now();
    const age = now - (fs.stat(breakPath)?.mtimeMs ?? now);
    // Unreadable: a breaker died between creating and writing it; give a live one the grace to finish.
    if ((h && holderState(h, processes) === 'dead') || (!h && age > UNREADABLE_GRACE_MS)) fs.unlink(breakPath);
  } catch {
    // gone already, or being written: the next attempt sees
  }
}

/** Removes LOCK whoever holds it; returns the holder it named (null: no lock; undefined holder: unreadable). */
export function forceRemoveLock(fs: FileSystem, dir: string): { existed: boolean; holder: LockHolder | undefined } {
  const holder = WriterLock.readHolder(fs, dir);
  if (holder === null) return { existed: false, holder: undefined };
  try {
    fs.unlink(`${dir}/${LOCK_NAME}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { existed: false, holder: undefined };
    throw ioError(err, 'cannot remove the lock file', `${dir}/${LOCK_NAME}`);
  }
  return { existed: true, holder };
}
