import { utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/io/clock.js';
import { realFs } from '../../src/io/fs.js';
import { realProcesses } from '../../src/io/processes.js';
import { WriterLock } from '../../src/lock/lockfile.js';
import { tempDir } from '../helpers/temp-store.js';

const acquire = (dir: string, timeoutMs: number) => WriterLock.acquire(realFs, dir, { timeoutMs, command: 'test', processes: realProcesses, clock: systemClock });

describe('writer lock', () => {
  it('is exclusive within a process, names its holder, and is free again after release', async () => {
    const dir = tempDir();
    const a = await acquire(dir, 0);
    const err = await acquire(dir, 50).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LOCKED', message: expect.stringMatching(new RegExp(`locked by pid ${process.pid} \\(test\\) since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(0s ago\\), which is still running`)) });
    a.release();
    (await acquire(dir, 0)).release();
  });

  it('breaks the lock of a dead process at once', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'LOCK'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), startTime: '1', acquiredAt: new Date().toISOString(), command: 'tzkv put', token: 'dead' }));
    const started = Date.now();
    const lock = await acquire(dir, 0);
    expect(Date.now() - started).toBeLessThan(500);
    lock.release();
  });

  it('waits on a fresh unreadable LOCK (a holder still writing it), breaks one abandoned for over 2 s', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'LOCK'), '');
    await expect(acquire(dir, 100)).rejects.toMatchObject({ code: 'LOCKED', message: expect.stringContaining('unreadable') });
    const old = (Date.now() - 5000) / 1000;
    utimesSync(join(dir, 'LOCK'), old, old);
    const lock = await acquire(dir, 0);
    expect(lock.stillHeld()).toBe(true);
    lock.release();
  });
});
