import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { open } from '../../src/index.js';
import { decodeManifest, encodeManifest } from '../../src/format/manifest.js';
import { realFs, replaceFile } from '../../src/io/fs.js';
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

  test('a compaction recorded on another host blocks every other until --force ends it; should it run on, its switch fails and loses nothing', async () => {
    const dir = await storeDir();
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ key: `k${i}`, value: `v${i}` })).join('\n');
    expect((await tzkv(['import', '-d', dir, '-'], { input: lines })).exitCode).toBe(0);
    await tzkv(['del', '-d', dir, 'k0', 'k1']);
    const before = (await tzkv(['export', '-d', dir])).stdout;
    // A compaction that takes its snapshot, then stalls; its marker is made to name another host.
    let resume!: () => void;
    const stalled = new Promise<void>((r) => (resume = r));
    const compactor = await open(dir, { onCompactPhase: (phase: string) => (phase === 'snapshot' ? stalled : undefined) } as never);
    const compaction = compactor.compact();
    compaction.catch(() => undefined);
    for (;;) {
      const m = decodeManifest(await readFile(join(dir, 'MANIFEST')));
      if (m.compaction) {
        m.compaction.host = `not-${hostname()}`;
        replaceFile(realFs, dir, 'MANIFEST', encodeManifest(m));
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    try {
      const refused = await tzkv(['compact', '-d', dir]);
      expect(refused.exitCode).toBe(3);
      expect(refused.stderr).toContain(`being compacted by pid ${process.pid} on not-${hostname()}`);
      expect(refused.stderr).toContain('`tzkv unlock --force` ends it');
      const shown = await tzkvJson<{ locked: boolean; compaction: { pid: number; host: string } | null; compactionEnded: boolean }>(['unlock', '-d', dir]);
      expect(shown.run.exitCode).toBe(0);
      expect(shown.json).toMatchObject({ locked: false, compaction: { pid: process.pid, host: `not-${hostname()}` }, compactionEnded: false });
      const text = await tzkv(['unlock', '-d', dir]);
      expect(text.stdout).toMatch(new RegExp(`^compaction: pid ${process.pid} on not-${hostname()} since `, 'm'));
      const forced = await tzkvJson<{ compactionEnded: boolean; removed: boolean }>(['unlock', '--force', '-d', dir]);
      expect(forced.run.exitCode).toBe(0);
      expect(forced.json).toMatchObject({ removed: false, compactionEnded: true });
      expect(forced.run.stderr).toContain(`warning: ended the compaction of pid ${process.pid} on not-${hostname()}`);
      const stats = await tzkvJson<{ compacting: unknown; lastCompactionReport: { result: string } }>(['stats', '-d', dir]);
      expect(stats.json.compacting).toBeNull();
      expect(stats.json.lastCompactionReport.result).toMatch(/ended by `tzkv unlock --force`/);
      // Nothing more to end; a write and a compaction work again.
      expect((await tzkvJson<{ compactionEnded: boolean }>(['unlock', '--force', '-d', dir])).json.compactionEnded).toBe(false);
      expect((await tzkv(['put', '-d', dir, 'after', 'x'])).exitCode).toBe(0);
    } finally {
      resume();
    }
    // The stalled compaction goes on after all: its switch finds its marker gone and changes nothing.
    await expect(compaction).rejects.toMatchObject({ code: 'PRECONDITION' });
    await compactor.close();
    expect((await tzkv(['del', '-d', dir, 'after'])).exitCode).toBe(0);
    expect((await tzkv(['export', '-d', dir])).stdout).toBe(before);
    const compacted = await tzkvJson<{ compacted: boolean }>(['compact', '-d', dir]);
    expect(compacted.run.exitCode, compacted.run.stderr).toBe(0);
    expect(compacted.json.compacted).toBe(true);
    expect((await tzkv(['export', '-d', dir])).stdout).toBe(before);
  });
});
