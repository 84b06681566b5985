import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/io/clock.js';
import { realFs } from '../../src/io/fs.js';
import { realProcesses } from '../../src/io/processes.js';
import { WriterLock } from '../../src/lock/lockfile.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeProcesses } from '../helpers/fake-processes.js';
import { tempDir, tempStore } from '../helpers/temp-store.js';

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

  it('its private LOCK.TOKEN.tmp removed under it before the link (a cleanup that took it for a leftover): it tries again and takes the lock', async () => {
    const dir = tempDir();
    let removed = 0;
    const fs = { ...realFs, link: (from: string, to: string) => (removed++ === 0 && realFs.unlink(from), realFs.link(from, to)) };
    const lock = await WriterLock.acquire(fs, dir, { timeoutMs: 0, command: 'test', processes: realProcesses, clock: systemClock });
    expect(removed).toBe(2);
    expect(lock.stillHeld()).toBe(true);
    lock.release();
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

describe('writer lock, its holders judged through the injected processes and clock', () => {
  const HOLDER = 4242;
  /** A LOCK written by `holder` (a process of `processes`' table, or one of another host). */
  function lockOf(dir: string, holder: { pid: number; host: string; startTime: string }, token = 'theirs', acquiredAt = new Date().toISOString()): string {
    const text = JSON.stringify({ ...holder, acquiredAt, command: 'tzkv import', token }) + '\n';
    writeFileSync(join(dir, 'LOCK'), text);
    return text;
  }
  const take = (dir: string, processes: FakeProcesses, clock: FakeClock, timeoutMs: number) =>
    WriterLock.acquire(realFs, dir, { timeoutMs, command: 'test', processes, clock });
  const lockText = (dir: string) => readFileSync(join(dir, 'LOCK'), 'utf8');

  it('a live holder is waited for and never broken; once it exits its lock is broken at once', async () => {
    const dir = tempDir();
    const processes = new FakeProcesses().start(HOLDER);
    const clock = new FakeClock();
    const text = lockOf(dir, processes.identity(HOLDER));
    const err = await take(dir, processes, clock, 5_000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LOCKED', message: expect.stringContaining(`locked by pid ${HOLDER} (tzkv import)`) });
    expect(clock.monotonic(), 'waited the whole timeout').toBeGreaterThanOrEqual(5_000);
    expect(lockText(dir)).toBe(text);
    processes.exit(HOLDER);
    const before = clock.monotonic();
    const lock = await take(dir, processes, clock, 5_000);
    expect(clock.monotonic(), 'broken without waiting').toBe(before);
    expect(lock.holder).toMatchObject({ pid: process.pid, host: 'this-host', startTime: 'self' });
    lock.release();
  });

  it('a recycled pid (running, but with another start time) is a dead holder; an unknown start time is not', async () => {
    const dir = tempDir();
    const processes = new FakeProcesses().start(HOLDER, 'boot-1');
    const clock = new FakeClock();
    lockOf(dir, processes.identity(HOLDER));
    processes.start(HOLDER, 'boot-2');
    (await take(dir, processes, clock, 0)).release();
    expect(clock.monotonic()).toBe(0);
    // Where the kernel does not say (no /proc), a running pid is taken for the holder.
    const text = lockOf(dir, { pid: HOLDER, host: 'this-host', startTime: 'boot-1' });
    processes.start(HOLDER, '');
    await expect(take(dir, processes, clock, 200)).rejects.toMatchObject({ code: 'LOCKED' });
    expect(lockText(dir)).toBe(text);
  });

  it("this process's own pid with a token it does not hold (a release that failed) is stale; one it holds is not", async () => {
    const dir = tempDir();
    const processes = new FakeProcesses();
    const clock = new FakeClock();
    lockOf(dir, processes.identity(process.pid), 'left-by-a-failed-release');
    const lock = await take(dir, processes, clock, 0);
    await expect(take(dir, processes, clock, 100)).rejects.toMatchObject({ code: 'LOCKED' });
    expect(lock.stillHeld()).toBe(true);
    lock.release();
  });

  it('a holder on another host is never broken, however old its lock and long the wait', async () => {
    const dir = tempDir();
    const processes = new FakeProcesses();
    const clock = new FakeClock();
    const text = lockOf(dir, { pid: HOLDER, host: 'other-host', startTime: '1' }, 'theirs', '2001-01-01T00:00:00.000Z');
    clock.onSleep = () => clock.jump(24 * 3600_000); // a day passes on the wall clock with every sleep
    const err = await take(dir, processes, clock, 60_000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LOCKED', message: expect.stringContaining('on host other-host; a lock from another host is never broken automatically') });
    expect(lockText(dir)).toBe(text);
  });

  it('a live holder is not broken when the wall clock jumps forward a year or back an hour at every sleep, and the wait lasts the timeout', async () => {
    const dir = tempDir();
    const processes = new FakeProcesses().start(HOLDER);
    const clock = new FakeClock();
    const text = lockOf(dir, processes.identity(HOLDER));
    for (const jump of [365 * 24 * 3600_000, -3600_000]) {
      clock.onSleep = () => clock.jump(jump);
      const started = clock.monotonic();
      await expect(take(dir, processes, clock, 1_000)).rejects.toMatchObject({ code: 'LOCKED' });
      expect(clock.monotonic() - started, `ms waited, the wall clock jumping ${jump} ms at every sleep`).toBeGreaterThanOrEqual(1_000);
      expect(clock.monotonic() - started).toBeLessThan(1_100);
      expect(lockText(dir)).toBe(text);
    }
  });

  it('the wall clock going back during a wait does not lengthen it: the timeout is measured on the monotonic clock', async () => {
    const dir = tempDir();
    const processes = new FakeProcesses().start(HOLDER);
    const clock = new FakeClock();
    lockOf(dir, processes.identity(HOLDER));
    let jumped = false;
    clock.onSleep = (slept) => {
      if (slept < 500 || jumped) return;
      jumped = true;
      clock.jump(-3600_000); // an NTP step back an hour, half way through the wait
    };
    const err = await take(dir, processes, clock, 1_000).catch((e: unknown) => e);
    expect(jumped).toBe(true);
    expect(err).toMatchObject({ code: 'LOCKED' });
    expect(clock.monotonic(), 'ms waited').toBeLessThan(1_100);
  });

  it('an unreadable LOCK is abandoned only 2 s after its last change by the wall clock: not early when the clock went back', async () => {
    const dir = tempDir();
    const processes = new FakeProcesses();
    writeFileSync(join(dir, 'LOCK'), '');
    const written = statSync(join(dir, 'LOCK')).mtimeMs;
    const clock = new FakeClock(written - 3600_000); // the clock was set back an hour after LOCK was written
    await expect(take(dir, processes, clock, 2_500)).rejects.toMatchObject({ code: 'LOCKED', message: expect.stringContaining('unreadable') });
    expect(lockText(dir)).toBe('');
    clock.jump(3600_000 + 2_001);
    (await take(dir, processes, clock, 0)).release();
  });

  it("LOCK.break left by a breaker that died is cleared; a live breaker's is left alone", async () => {
    const dir = tempDir();
    const processes = new FakeProcesses().start(HOLDER).start(HOLDER + 1);
    const clock = new FakeClock();
    lockOf(dir, { pid: HOLDER, host: 'this-host', startTime: 'gone' }); // stale: the pid was recycled
    const breaker = JSON.stringify({ ...processes.identity(HOLDER + 1), token: 'break' });
    writeFileSync(join(dir, 'LOCK.break'), breaker);
    await expect(take(dir, processes, clock, 300)).rejects.toMatchObject({ code: 'LOCKED' });
    expect(readFileSync(join(dir, 'LOCK.break'), 'utf8')).toBe(breaker);
    processes.exit(HOLDER + 1);
    (await take(dir, processes, clock, 300)).release();
    expect(existsSync(join(dir, 'LOCK.break'))).toBe(false);
  });

  it("a store reports its lock holder's state as its processes say", async () => {
    const dir = tempDir();
    const processes = new FakeProcesses().start(HOLDER);
    const store = await tempStore({ processes, lockClock: new FakeClock(), lockTimeoutMs: 0 }, dir);
    lockOf(dir, processes.identity(HOLDER));
    expect(await store.admin()!.lockHolder()).toMatchObject({ pid: HOLDER, host: 'this-host', state: 'alive' });
    await expect(store.put('k', 'v')).rejects.toMatchObject({ code: 'LOCKED' });
    processes.exit(HOLDER);
    expect(await store.admin()!.lockHolder()).toMatchObject({ pid: HOLDER, state: 'dead' });
    await store.put('k', 'v');
    expect(await store.admin()!.lockHolder()).toBeNull();
    lockOf(dir, { pid: HOLDER, host: 'other-host', startTime: '' });
    expect(await store.admin()!.lockHolder()).toMatchObject({ host: 'other-host', state: 'unknown' });
    await store.admin()!.forceUnlock();
    await store.close();
  });
});
