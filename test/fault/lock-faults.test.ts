// I/O errors around the writer lock: taking it, releasing it, and breaking a
// stale one left by a crashed writer. The operation may fail (with IO), but
// the store must not stay locked, and no raw fs error may escape.
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FsOp } from '../helpers/fault-fs.js';
import { TzkvError } from '../../src/errors.js';
import { realProcesses } from '../../src/io/processes.js';
import { FaultFs } from '../helpers/fault-fs.js';
import { checkRecovered, expectIoError, expectNothingLeftBehind, inScratchDir, openStore } from './harness/stores.js';
import type { State } from './harness/values.js';
import { valueOf } from './harness/values.js';
import { T0 } from './harness/workload.js';

/** put() that resolves to the error it rejected with, or undefined. */
async function putCatching(store: Awaited<ReturnType<typeof openStore>>, key: string): Promise<unknown> {
  return store.put(key, valueOf(key, 1)).then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** a then b on one store whose fs has a fault armed; b must land whatever became of a. */
async function twoPutsAfter(dir: string, fs: FaultFs, label: string, aFails: boolean, before: string[] = []): Promise<void> {
  const clock = { t: T0 };
  const store = await openStore(dir, clock, { fs });
  const errA = await putCatching(store, 'a');
  if (aFails) expect(errA, `${label}: put a meets the fault`).toBeDefined();
  if (errA !== undefined) {
    expectIoError(errA, `${label}: put a`);
    expectNothingLeftBehind(dir, errA, `${label}: put a`, before);
  }
  const errB = await putCatching(store, 'b');
  expect(errB, `${label}: put b, after the fault, must succeed`).toBeUndefined();
  await store.close();
  const b = { version: 1, expiresAt: null };
  const withA: State = new Map([['a', b], ['b', b]]);
  const withoutA: State = new Map([['b', b]]);
  await checkRecovered(dir, clock, ['a', 'b'], errA === undefined ? [withA] : [withoutA, withA], label);
}

describe('the writer lock under I/O errors', () => {
  // LOCK is written aside and linked into place, not fsynced (docs/format.md "LOCK"):
  // creating or writing the private file, or linking it, can fail.
  for (const [op, match, name] of [
    ['createTruncate', /^LOCK\.[0-9a-f]+\.tmp$/, 'its private file'],
    ['write', /^LOCK\.[0-9a-f]+\.tmp$/, 'its private file'],
    ['link', /^LOCK$/, 'LOCK'],
  ] as Array<[FsOp, RegExp, string]>) {
    it(`taking it: ${op} of ${name} failing rejects with IO and leaves no lock behind`, async () => {
      await inScratchDir(async (dir) => {
        await twoPutsAfter(dir, new FaultFs(dir).failAt(op, 1, { match }), `${op} ${name} failed`, true);
      });
    });
  }

  // WriterLock.release marks the lock released before unlinking it; when the unlink fails, the LOCK file
  // stays, naming this live process, and every later write of this process waits for it and fails LOCKED.
  it('releasing it: an unlink of LOCK that fails once does not leave the store locked for the rest of the process', async () => {
    await inScratchDir(async (dir) => {
      await twoPutsAfter(dir, new FaultFs(dir).failAt('unlink', 1, { match: /^LOCK$/ }), 'unlink LOCK failed', false);
    });
  });

  // breakStaleLock writes LOCK.break and unlinks LOCK without wrapping errors, and WriterLock.acquire runs
  // outside the store's error translation: the raw fs error reaches the caller.
  for (const [op, match] of [
    ['createExclusive', /^LOCK\.break$/],
    ['write', /^LOCK\.break$/],
    ['unlink', /^LOCK$/],
  ] as Array<[FsOp, RegExp]>) {
    it(`breaking a stale lock: ${op} of ${match.source.replace(/\\|\^|\$/g, '')} failing rejects with IO, never a raw fs error`, async () => {
      await inScratchDir(async (dir) => {
        // A crashed writer's lock: this host, a pid that is running, but not the process that took it.
        const stale = { pid: process.pid, host: hostname(), startTime: 'before-the-crash', acquiredAt: new Date(T0).toISOString(), command: 'tzkv put', token: 'stale' };
        writeFileSync(join(dir, 'LOCK'), JSON.stringify(stale) + '\n');
        // The stale lock stays when breaking it fails: the next writer breaks it.
        await twoPutsAfter(dir, new FaultFs(dir).failAt(op, 1, { match }), `${op} while breaking a stale lock`, true, ['LOCK']);
      });
    });
  }

  // WriterLock.acquire goes straight back round its loop after breakStaleLock, skipping the deadline check
  // and the sleep; when another live process holds LOCK.break, nothing is broken and the loop never yields.
  it('a stale lock another live process is breaking: waits with backoff and reports LOCKED, never spins', async () => {
    await inScratchDir(async (dir) => {
      const stale = { pid: process.pid, host: hostname(), startTime: 'before-the-crash', acquiredAt: new Date(T0).toISOString(), command: 'tzkv put', token: 'stale' };
      writeFileSync(join(dir, 'LOCK'), JSON.stringify(stale) + '\n');
      // The breaker: a live process (our parent), named with its real start time.
      const breaker = { pid: process.ppid, host: hostname(), startTime: realProcesses.startTime(process.ppid), token: 'break' };
      writeFileSync(join(dir, 'LOCK.break'), JSON.stringify(breaker));
      // In 200 ms a loop that sleeps tries a handful of times; a spinning one meets this fault instead.
      const fs = new FaultFs(dir).failAt('createExclusive', 500, { match: /^LOCK\.break$/, times: Infinity });
      const store = await openStore(dir, { t: T0 }, { fs, lockTimeoutMs: 200 });
      const err = await putCatching(store, 'a');
      expect(fs.calls.createExclusive, 'attempts to take LOCK.break in 200 ms').toBeLessThan(100);
      expect(err).toBeInstanceOf(TzkvError);
      expect((err as TzkvError).code).toBe('LOCKED');
    });
  });
});

