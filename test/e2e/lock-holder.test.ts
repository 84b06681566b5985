// The writer lock between real processes (issue #4, docs/design.md "Locking"):
// a live holder makes a writer wait and then fail naming it; a dead holder's
// lock is broken, by exactly one of many racing breakers at a time; a lock
// from another host is never broken without `tzkv unlock --force`.

import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';
import { finish, fixture, holdLock, range, startTimeOf, timed, tzkvChild } from './fixtures/processes.js';

/** The LOCKED message names the holder, when it took the lock (a date, not only a time of day) and how long ago. */
const HOLDER_MESSAGE = (dir: string, pid: number, command: string) =>
  new RegExp(`store ${dir} is locked by pid ${pid} \\(${command}\\) since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z \\((\\d+m)?\\d+s ago\\)`);

/** What a waiter is told about a holder that still runs here: wait, or wait longer; never --force. */
const STILL_RUNNING = /which is still running: wait for it to finish, or allow a longer lock timeout \(--lock-timeout\)$/m;

/** A LOCK file as docs/format.md "LOCK" describes it. */
async function writeLock(dir: string, holder: { pid: number; host?: string; startTime: string; command?: string; acquiredAt?: string }): Promise<void> {
  const lock = {
    pid: holder.pid,
    host: holder.host ?? hostname(),
    startTime: holder.startTime,
    acquiredAt: holder.acquiredAt ?? new Date().toISOString(),
    command: holder.command ?? 'tzkv import',
    token: `e2e-${holder.pid}-${Math.random().toString(16).slice(2)}`,
  };
  await writeFile(join(dir, 'LOCK'), JSON.stringify(lock) + '\n');
}

/** A process that ran and is gone (and reaped): its pid and kernel start time. */
async function deadProcess(): Promise<{ pid: number; startTime: string }> {
  const child = execa('sleep', ['30'], { reject: false });
  const pid = child.pid!;
  const startTime = startTimeOf(pid);
  child.kill('SIGKILL');
  await child;
  expect(existsSync(`/proc/${pid}`)).toBe(false);
  return { pid, startTime };
}

describe('a live holder', () => {
  test('a second writer with --lock-timeout 500ms exits 3 after ~0.5 s, naming the holder’s pid and command', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'before']);
    const holder = await holdLock(dir, 'tzkv import');
    try {
      const { ms, value: run } = await timed(() => tzkv(['put', '-d', dir, 'k', 'after', '--lock-timeout', '500ms']));
      expect(run.exitCode).toBe(3);
      expect(ms).toBeGreaterThanOrEqual(500);
      expect(ms).toBeLessThan(2000);
      expect(run.stderr).toMatch(HOLDER_MESSAGE(dir, holder.pid, 'tzkv import'));
      expect(run.stderr).toMatch(STILL_RUNNING);
      expect(run.stderr).not.toContain('--force');
      // `tzkv unlock` names the same holder, alive, and leaves its lock alone.
      const shown = await tzkvJson<{ locked: boolean; holder: { pid: number; command: string; state: string } }>(['unlock', '-d', dir]);
      expect(shown.run.exitCode).toBe(1);
      expect(shown.json).toMatchObject({ locked: true, holder: { pid: holder.pid, command: 'tzkv import', state: 'alive' } });
      // In words: it still runs, so wait (or wait longer); --force is named only as what not to do.
      const told = await tzkv(['unlock', '-d', dir]);
      expect(told.exitCode).toBe(1);
      expect(told.stderr).toMatch(new RegExp(`^tzkv: ${dir} is locked by pid ${holder.pid} on \\S+ \\(tzkv import\\) since \\S+, which is still running: wait for it to finish, or give the command that waits for it a longer --lock-timeout\\. Do not use --force while it runs`));
      expect(told.stderr).not.toContain('unlock --force');
      expect(existsSync(join(dir, 'LOCK'))).toBe(true);
    } finally {
      expect((await holder.release()).exitCode).toBe(0);
    }
    expect((await tzkv(['get', '-d', dir, 'k'])).stdout).toBe('before');
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
  });

  test('a holder in the middle of store.update is named too, and its write lands when it finishes', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'before']);
    const holder = await holdLock(dir, 'update-holder', 'update', 3000);
    const { ms, value: run } = await timed(() => tzkv(['del', '-d', dir, 'k', '--lock-timeout', '500ms']));
    expect(run.exitCode).toBe(3);
    expect(ms).toBeLessThan(2000);
    expect(run.stderr).toMatch(HOLDER_MESSAGE(dir, holder.pid, 'update-holder'));
    // A writer with the default timeout waits it out and then writes.
    const waited = await tzkv(['put', '-d', dir, 'k', 'after']);
    expect(waited.exitCode).toBe(0);
    expect((await finish(holder.child)).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, 'held-by-update'])).stdout).toBe('written while the lock was held');
    expect((await tzkv(['get', '-d', dir, 'k'])).stdout).toBe('after');
  });

  test('a waiting writer takes the lock within a moment of its release', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'before']);
    const holder = await holdLock(dir, 'tzkv compact');
    const waiter = tzkvChild(['put', '-d', dir, 'k', 'v']);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(waiter.exitCode).toBeNull(); // still waiting
    const released = performance.now();
    await holder.release();
    const run = await finish(waiter);
    expect(run.exitCode).toBe(0);
    // Backoff tops out at ~50 ms; the rest is the waiter's own put.
    expect(performance.now() - released).toBeLessThan(1000);
    expect((await tzkv(['get', '-d', dir, 'k'])).stdout).toBe('v');
  });

  test('an import waiting on an open pipe holds no lock: other writers go on meanwhile', async () => {
    const dir = await storeDir();
    const importer = tzkvChild(['import', '-d', dir, '-'], 'pipe');
    importer.stdin!.write('{"key":"i1","value":"one"}\n');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { ms, value: put } = await timed(() => tzkv(['put', '-d', dir, 'p', 'v', '--lock-timeout', '0']));
    expect(put.exitCode, put.stderr).toBe(0);
    expect(ms).toBeLessThan(2000);
    expect((await tzkv(['get', '-d', dir, 'i1'])).exitCode).toBe(1); // not committed yet
    importer.stdin!.end('{"key":"i2","value":"two"}\n');
    expect((await finish(importer)).exitCode).toBe(0);
    expect((await tzkv(['keys', '-d', dir])).stdout).toBe('i1\ni2\np\n');
  });
});

describe('stale locks', () => {
  test('8 processes racing to break a dead holder’s lock: all get it, one at a time', async () => {
    const rounds = 3;
    for (let round = 0; round < rounds; round++) {
      const dir = await tempDir();
      const log = join(dir, 'holds.jsonl');
      const counter = join(dir, 'counter');
      await writeFile(log, '');
      await writeFile(counter, '0');
      await writeLock(dir, await deadProcess());
      // Every breaker starts at the same moment, once all have had time to load.
      const startAt = Date.now() + 2500;
      const runs = await Promise.all(range(8).map(() => finish(fixture('breaker.mjs', [dir, log, counter, String(startAt), '5']))));
      for (const r of runs) {
        expect(r.stderr).toBe('');
        expect(r.exitCode).toBe(0);
      }
      const holds = (await readFile(log, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { pid: number; acquired: string; released: string; late: number })
        .map((h) => ({ ...h, acquired: BigInt(h.acquired), released: BigInt(h.released) }))
        .sort((a, b) => (a.acquired < b.acquired ? -1 : 1));
      expect(holds).toHaveLength(8);
      expect(new Set(holds.map((h) => h.pid)).size).toBe(8);
      // They raced: most woke within a few ms of the start (the others were still loading).
      expect(holds.filter((h) => h.late < 50).length, `lateness ${holds.map((h) => h.late).join(',')} ms`).toBeGreaterThanOrEqual(4);
      for (let i = 1; i < holds.length; i++) {
        expect(holds[i].acquired > holds[i - 1].released, `hold ${i} began before hold ${i - 1} ended`).toBe(true);
      }
      expect(await readFile(counter, 'utf8')).toBe('8'); // no lost update
      expect(existsSync(join(dir, 'LOCK'))).toBe(false);
      expect(existsSync(join(dir, 'LOCK.break'))).toBe(false);
    }
  });

  test('unlock says a dead holder’s lock needs nothing: the next writer breaks it', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', '1']);
    const dead = await deadProcess();
    await writeLock(dir, dead);
    const told = await tzkv(['unlock', '-d', dir]);
    expect(told.exitCode).toBe(1);
    expect(told.stdout).toMatch(/^holder state: dead$/m);
    expect(told.stderr).toMatch(new RegExp(`^tzkv: ${dir} is locked by pid ${dead.pid} .*, which is no longer running: the next writer removes the lock by itself\n$`));
    expect(told.stderr).not.toContain('--force');
    expect((await tzkv(['put', '-d', dir, 'k', '2', '--lock-timeout', '0'])).exitCode).toBe(0);
  });

  test('a recycled pid (alive, another start time) is stale; the same pid with its own start time is not', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', '1']);
    const other = execa('sleep', ['30'], { reject: false });
    try {
      const pid = other.pid!;
      await writeLock(dir, { pid, startTime: String(Number(startTimeOf(pid)) + 1) });
      const { ms, value: put } = await timed(() => tzkv(['put', '-d', dir, 'k', '2', '--lock-timeout', '300ms']));
      expect(put.exitCode, put.stderr).toBe(0);
      expect(ms).toBeLessThan(2000);
      await writeLock(dir, { pid, startTime: startTimeOf(pid), command: 'sleep 30' });
      const blocked = await tzkv(['put', '-d', dir, 'k', '3', '--lock-timeout', '300ms']);
      expect(blocked.exitCode).toBe(3);
      expect(blocked.stderr).toMatch(HOLDER_MESSAGE(dir, pid, 'sleep 30'));
    } finally {
      other.kill('SIGKILL');
      await other;
    }
    // Its holder gone (and reaped), the same lock is stale at once.
    const { ms, value: after } = await timed(() => tzkv(['put', '-d', dir, 'k', '4', '--lock-timeout', '300ms']));
    expect(after.exitCode, after.stderr).toBe(0);
    expect(ms).toBeLessThan(2000);
    expect((await tzkv(['get', '-d', dir, 'k'])).stdout).toBe('4');
  });
});

describe('a lock from another host', () => {
  test('is never broken automatically, however its pid looks here; `tzkv unlock --force` removes it', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'before']);
    // A pid that is alive here (this test's own process) and one that is gone: neither says anything about the other host.
    const acquiredAt = new Date(Date.now() - 192_000).toISOString();
    for (const holder of [{ pid: process.pid, startTime: startTimeOf(process.pid) }, await deadProcess()]) {
      await writeLock(dir, { ...holder, host: 'some-other-host', command: 'tzkv put', acquiredAt });
      const run = await tzkv(['put', '-d', dir, 'k', 'after', '--lock-timeout', '300ms']);
      expect(run.exitCode).toBe(3);
      expect(run.stderr).toMatch(HOLDER_MESSAGE(dir, holder.pid, 'tzkv put'));
      expect(run.stderr).toMatch(new RegExp(`since ${acquiredAt.replace(/\./g, '\\.')} \\(3m1\\ds ago\\) on host some-other-host`));
      expect(run.stderr).toContain('tzkv unlock --force');
      expect(existsSync(join(dir, 'LOCK'))).toBe(true);
      // unlock cannot judge a process on another host: --force is its advice.
      const told = await tzkv(['unlock', '-d', dir]);
      expect(told.exitCode).toBe(1);
      expect(told.stderr).toContain(`on another host, where tzkv cannot see whether it still runs: once you know it has ended, \`tzkv unlock --force -d ${dir}\` removes the lock`);
    }
    const forced = await tzkv(['unlock', '--force', '-d', dir]);
    expect(forced.exitCode).toBe(0);
    expect(forced.stderr).toContain('warning');
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
    expect((await tzkv(['put', '-d', dir, 'k', 'after', '--lock-timeout', '300ms'])).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, 'k'])).stdout).toBe('after');
  });
});
