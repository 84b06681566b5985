import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { expectNoStack, storeDir, tzkv, tzkvJson } from './helpers.js';

describe('incr', () => {
  test('counts from 0, adds BY (negative after --), keeps the expiry, prints the new value', async () => {
    const dir = await storeDir();
    expect((await tzkv(['incr', '-d', dir, 'n'])).stdout).toBe('1\n');
    expect((await tzkv(['incr', '-d', dir, 'n', '41'])).stdout).toBe('42\n');
    expect((await tzkv(['incr', '-d', dir, '--', 'n', '-50'])).stdout).toBe('-8\n');
    expect((await tzkvJson<{ key: string; value: number }>(['incr', '-d', dir, 'n'])).json).toEqual({ key: 'n', value: -7 });
    expect((await tzkv(['get', '-d', dir, 'n'])).stdout).toBe('-7');
    await tzkv(['put', '-d', dir, 't', '5', '--ttl', '1h']);
    await tzkv(['incr', '-d', dir, 't']);
    const ttl = Number((await tzkv(['ttl', '-d', dir, 't'])).stdout);
    expect(ttl).toBeGreaterThan(3500);
  });

  test('a value that is not an integer is refused with exit 1 and left as it was; a bad BY is a usage error', async () => {
    const dir = await storeDir();
    for (const bad of ['abc', '1.5', ' 7', '12abc', '']) {
      await tzkv(['put', '-d', dir, 'k', bad]);
      const run = await tzkv(['incr', '-d', dir, 'k']);
      expect(run.exitCode, JSON.stringify(bad)).toBe(1);
      expect(run.stderr).toContain('is not an integer');
      expectNoStack(run);
      expect((await tzkv(['get', '-d', dir, 'k'])).stdout).toBe(bad);
    }
    await tzkv(['put', '-d', dir, 'big', String(Number.MAX_SAFE_INTEGER)]);
    expect((await tzkv(['incr', '-d', dir, 'big'])).exitCode).toBe(1);
    const usage = await tzkv(['incr', '-d', dir, 'k', 'two']);
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toContain('BY must be a whole number');
  });
});

describe('unlock', () => {
  test('shows the holder of a foreign lock (exit 1), --force removes it with a warning, then writes work', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'a', '1']);
    const lock = { pid: 4242, host: `not-${hostname()}`, startTime: '', acquiredAt: new Date().toISOString(), command: 'tzkv import', token: 't' };
    await writeFile(join(dir, 'LOCK'), JSON.stringify(lock) + '\n');
    const blocked = await tzkv(['put', '-d', dir, 'b', '2', '--lock-timeout', '200ms']);
    expect(blocked.exitCode).toBe(3);
    expect(blocked.stderr).toContain(`locked by pid 4242 (tzkv import)`);
    expect(blocked.stderr).toContain(`on host not-${hostname()}`);
    expect(blocked.stderr).toContain('tzkv unlock --force');
    const shown = await tzkvJson<{ locked: boolean; holder: { pid: number; state: string } }>(['unlock', '-d', dir]);
    expect(shown.run.exitCode).toBe(1);
    expect(shown.json).toMatchObject({ locked: true, holder: { pid: 4242, state: 'unknown' } });
    const forced = await tzkv(['unlock', '--force', '-d', dir]);
    expect(forced.exitCode).toBe(0);
    expect(forced.stderr).toContain('warning: removed the writer lock of pid 4242');
    await expect(readFile(join(dir, 'LOCK'))).rejects.toThrow();
    expect((await tzkv(['put', '-d', dir, 'b', '2'])).exitCode).toBe(0);
    const none = await tzkv(['unlock', '-d', dir]);
    expect(none.exitCode).toBe(0);
    expect(none.stdout).toBe('locked: no\n');
  });
});
