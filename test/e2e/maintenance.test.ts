import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { StoreStats } from '../../src/api.js';
import { expectNoStack, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';
import { holdLock } from './fixtures/processes.js';

type Stats = StoreStats;

describe('stats', () => {
  test('--json has the documented fields; text is "name: value" lines off a terminal', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'a', '1']);
    await tzkv(['put', '-d', dir, 'b', '2']);
    await tzkv(['put', '-d', dir, 'a', '3']);
    await tzkv(['del', '-d', dir, 'b']);
    const { run, json } = await tzkvJson<Stats>(['stats', '-d', dir]);
    expect(run.exitCode).toBe(0);
    expect(json).toMatchObject({ keys: 1, puts: 3, deletes: 1, lastCompaction: null });
    for (const field of ['segments', 'totalBytes', 'liveBytes', 'deadBytes'] as const) expect(typeof json[field]).toBe('number');
    expect(json.deadBytes).toBeGreaterThan(0);
    const text = await tzkv(['stats', '-d', dir]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/^keys: 1$/m);
    expect(text.stdout).toMatch(/^dead bytes: \d+$/m);
    expect(text.stdout).toMatch(/^last compaction: -$/m);
    expect(text.stdout).not.toMatch(/\x1b\[/);
  });
});

describe('stats, census', () => {
  test('never counts an expired key as live, shows the lock holder, and says it counted from the census', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'session:a', 'token', '--ttl', '300ms']);
    await tzkv(['put', '-d', dir, 'session:b', 'token', '--ttl', '1h']);
    await tzkv(['put', '-d', dir, 'plain', 'value']);
    await new Promise((r) => setTimeout(r, 400));
    const holder = await holdLock(dir, 'tzkv import');
    try {
      const { run, json } = await tzkvJson<Stats>(['stats', '-d', dir]);
      expect(run.exitCode).toBe(0);
      expect(json).toMatchObject({ keys: 2, expiredKeys: 1, counted: 'census', lockHolder: { pid: holder.pid, command: 'tzkv import', state: 'alive' } });
      expect(json.liveBytes).toBe(20 + 9 + 5 + (20 + 5 + 5));
      expect(json.deadRatio).toBeCloseTo(json.deadBytes / json.totalBytes, 10);
      const text = await tzkv(['stats', '-d', dir]);
      expect(text.stdout).toMatch(new RegExp(`^lock holder: pid ${holder.pid} on .+ \\(tzkv import, alive\\) since `, 'm'));
      expect(text.stdout).toMatch(/^counted: census$/m);
    } finally {
      await holder.release();
    }
    expect((await tzkv(['stats', '-d', dir])).stdout).toMatch(/^lock holder: -$/m);
  });
});

describe('compact', () => {
  test('reclaims dead bytes and keeps every live value', async () => {
    const dir = await storeDir();
    for (let i = 0; i < 5; i++) await tzkv(['put', '-d', dir, 'k', `version ${i}`.repeat(50)]);
    await tzkv(['put', '-d', dir, 'other', 'v']);
    const before = (await tzkvJson<Stats>(['stats', '-d', dir])).json;
    const dry = await tzkvJson<{ compacted: boolean; dryRun: boolean }>(['compact', '-d', dir, '--dry-run']);
    expect(dry.json).toMatchObject({ compacted: false, dryRun: true });
    expect((await tzkvJson<Stats>(['stats', '-d', dir])).json.totalBytes).toBe(before.totalBytes);
    const run = await tzkvJson<{ compacted: boolean; bytesBefore: number; bytesAfter: number; lockHeldMs: number; durationMs: number }>(['compact', '-d', dir]);
    expect(run.run.exitCode).toBe(0);
    expect(run.json.compacted).toBe(true);
    expect(run.json.lockHeldMs).toBeGreaterThan(0);
    expect(run.json.lockHeldMs).toBeLessThanOrEqual(run.json.durationMs + 1);
    expect(run.json.bytesAfter).toBeLessThan(run.json.bytesBefore);
    const after = (await tzkvJson<Stats>(['stats', '-d', dir])).json;
    expect(after.deadBytes).toBeLessThan(before.deadBytes);
    expect(after.lastCompaction).not.toBeNull();
    expect((await tzkv(['get', '-d', dir, 'k'])).stdout).toBe('version 4'.repeat(50));
    expect((await tzkv(['get', '-d', dir, 'other'])).stdout).toBe('v');
    const text = await tzkv(['compact', '-d', dir]);
    expect(text.stdout).toMatch(/^compacted: (yes|no)$/m);
    expect(text.stdout).toMatch(/^lock held ms: [\d.]+$/m);
    const report = (await tzkvJson<Stats>(['stats', '-d', dir])).json;
    expect(report.lastCompactionReport).toMatchObject({ result: 'ok', recordsKept: 2 });
    expect(report.compacting).toBeNull();
    expect((await tzkv(['stats', '-d', dir])).stdout).toMatch(/^last compaction report: \S+: ok, \d+ -> \d+ bytes, 2 kept, .* lock held [\d.]+ ms$/m);
  });

  test('--if-needed skips a store with little dead data, compacts one past the thresholds', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'x'.repeat(1000)]);
    const skipped = await tzkvJson<{ compacted: boolean; skipped: boolean; reason: string }>(['compact', '-d', dir, '--if-needed']);
    expect(skipped.run.exitCode).toBe(0);
    expect(skipped.json).toMatchObject({ compacted: false, skipped: true });
    // The defaults: over 50% and over 64 MiB dead.
    expect(skipped.json.reason).toMatch(/--min-dead-ratio 0\.5 or --min-dead-bytes 67108864/);
    for (let i = 0; i < 4; i++) await tzkv(['put', '-d', dir, 'k', 'y'.repeat(1000)]);
    const done = await tzkvJson<{ compacted: boolean }>(['compact', '-d', dir, '--if-needed', '--min-dead-ratio', '50%', '--min-dead-bytes', '1K']);
    expect(done.json.compacted).toBe(true);
    expect((await tzkv(['compact', '-d', dir, '--if-needed', '--min-dead-ratio', '1.5'])).exitCode).toBe(2);
    expect((await tzkv(['compact', '-d', dir, '--if-needed', '--min-dead-bytes', 'lots'])).exitCode).toBe(2);
  });

  test('a threshold without --if-needed implies it: the store is compacted only past it', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'x'.repeat(1000)]);
    await tzkv(['put', '-d', dir, 'k', 'y'.repeat(1000)]);
    // About half the bytes are dead: under 0.9, over 0.1; but the default --min-dead-bytes (64M) is not met.
    for (const args of [['--min-dead-ratio', '0.9'], ['--min-dead-ratio', '0.1'], ['--min-dead-bytes', '1G']]) {
      const skipped = await tzkvJson<{ compacted: boolean; skipped?: boolean }>(['compact', '-d', dir, ...args]);
      expect(skipped.run.exitCode, args.join(' ')).toBe(0);
      expect(skipped.json, args.join(' ')).toMatchObject({ compacted: false, skipped: true });
    }
    const dead = (await tzkvJson<StoreStats>(['stats', '-d', dir])).json.deadBytes;
    expect(dead).toBeGreaterThan(0);
    // The first put's record, 1,021 bytes, is dead (a segment's header never is).
    expect(dead).toBe(1021);
    const done = await tzkvJson<{ compacted: boolean }>(['compact', '-d', dir, '--min-dead-ratio', '0.1', '--min-dead-bytes', '1000']);
    expect(done.json.compacted).toBe(true);
    expect((await tzkvJson<StoreStats>(['stats', '-d', dir])).json.deadBytes).toBeLessThan(dead);
    expect((await tzkv(['compact', '--help'])).stdout).toMatch(/Giving\s+either\s+threshold\s+implies\s+--if-needed/);
  });
});

describe('verify', () => {
  test('a clean store: exit 0, "ok" and the counts', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'v']);
    const run = await tzkv(['verify', '-d', dir]);
    expect(run).toMatchObject({ exitCode: 0, stderr: '' });
    expect(run.stdout).toMatch(/^ok: \d+ files, \d+ records, \d+ bytes checked/m);
    const json = await tzkvJson<{ ok: boolean; problems: unknown[] }>(['verify', '-d', dir]);
    expect(json.json).toMatchObject({ ok: true, problems: [] });
  });

  test('a damaged store: exit 4, each problem as "FILE offset N: message"', async () => {
    const dir = join(await tempDir(), 'store');
    const marker = 'M'.repeat(64);
    await tzkv(['put', '-d', dir, 'k1', marker]);
    await tzkv(['put', '-d', dir, 'k2', 'after']);
    const segment = (await readdir(dir)).find((name) => name.endsWith('.tzds'))!;
    const bytes = await readFile(join(dir, segment));
    bytes[bytes.indexOf(marker) + 10] ^= 0xff;
    await writeFile(join(dir, segment), bytes);

    const run = await tzkv(['verify', '-d', dir]);
    expect(run.exitCode).toBe(4);
    expect(run.stdout).toMatch(new RegExp(`^${segment.replace('.', '\\.')} offset \\d+: .+$`, 'm'));
    expect(run.stderr).toMatch(/damaged/);
    expectNoStack(run);
    const json = await tzkvJson<{ ok: boolean; problems: Array<{ file: string; offset: number }> }>(['verify', '-d', dir]);
    expect(json.run.exitCode).toBe(4);
    expect(json.json.ok).toBe(false);
    expect(json.json.problems[0]).toMatchObject({ file: segment });
    expect((await tzkv(['get', '-d', dir, 'k1'])).exitCode).toBe(4);
  });
});

describe('verify: bytes a failed write left at the end', () => {
  /** A store of two keys whose active segment then gets `tail` appended, as a writer that died or failed would leave it. */
  async function storeEndingIn(tail: (bytes: Buffer) => Buffer): Promise<{ dir: string; segment: string; size: number }> {
    const dir = join(await tempDir(), 'store');
    await tzkv(['put', '-d', dir, 'k1', 'first']);
    await tzkv(['put', '-d', dir, 'k2', 'V'.repeat(64)]);
    const segment = (await readdir(dir)).find((name) => name.endsWith('.tzds'))!;
    const bytes = await readFile(join(dir, segment));
    await writeFile(join(dir, segment), tail(bytes));
    return { dir, segment, size: bytes.length };
  }

  test('a partial record after the last committed one: a warning, exit 0; the next write removes it', async () => {
    // The first 30 bytes of a copy of the last record (its 20-byte header, then key k2): a record cut short, as a write refused half way leaves it.
    const { dir, segment, size } = await storeEndingIn((b) => Buffer.concat([b, b.subarray(b.lastIndexOf('k2') - 20, b.lastIndexOf('k2') + 10)]));
    const run = await tzkv(['verify', '-d', dir]);
    expect(run.stdout + run.stderr).toMatch(/^ok: /m);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`warning: ${segment} offset ${size}: 30 bytes after the last committed record (left by a write that failed); the next write removes them`);
    const json = await tzkvJson<{ ok: boolean; warnings: Array<{ kind: string }> }>(['verify', '-d', dir]);
    expect(json.json).toMatchObject({ ok: true, warnings: [{ kind: 'leftover' }] });
    expect((await tzkv(['put', '-d', dir, 'k3', 'x'])).exitCode).toBe(0);
    const after = await tzkvJson<{ ok: boolean; warnings: unknown[] }>(['verify', '-d', dir]);
    expect(after.json).toMatchObject({ ok: true, warnings: [] });
  });

  test('a whole record that fails its check at the end (a lost end), or damage inside committed data: exit 4', async () => {
    const lost = await storeEndingIn((b) => {
      const copy = Buffer.from(b);
      copy[copy.length - 10] ^= 0xff;
      return Buffer.concat([copy, Buffer.alloc(40)]);
    });
    const run = await tzkv(['verify', '-d', lost.dir]);
    expect(run.exitCode, run.stdout).toBe(4);
    expect(run.stdout).toMatch(/a partial record at the end/);
    const inside = await storeEndingIn((b) => {
      const copy = Buffer.from(b);
      copy[copy.indexOf('first')] ^= 0xff;
      return copy;
    });
    expect((await tzkv(['verify', '-d', inside.dir])).exitCode).toBe(4);
  });
});

describe('verify: exit codes, shapes, repair, the VERIFIED note, the progress bar', () => {
  /** A store of ~`bytes` through one import (values of 1 KiB). */
  async function sizedStore(bytes: number): Promise<string> {
    const dir = await storeDir();
    const lines: string[] = [];
    for (let i = 0; i < Math.ceil(bytes / 1050); i++) lines.push(`k${String(i).padStart(6, '0')}\t${'v'.repeat(1024)}`);
    expect((await tzkv(['import', '-d', dir, '-', '--format', 'tsv'], { input: `${lines.join('\n')}\n` })).exitCode).toBe(0);
    return dir;
  }

  test('--json has the documented fields; stats shows the last verify', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'v']);
    const { run, json } = await tzkvJson<Record<string, unknown>>(['verify', '-d', dir]);
    expect(run.exitCode).toBe(0);
    expect(Object.keys(json).sort()).toEqual(['bytes', 'durationMs', 'files', 'newerVersion', 'ok', 'problemCount', 'problems', 'recorded', 'records', 'skipped', 'warnings'].sort());
    expect(json).toMatchObject({ ok: true, newerVersion: false, problemCount: 0, problems: [], warnings: [], skipped: [], recorded: true });
    const stats = await tzkvJson<Stats>(['stats', '-d', dir]);
    expect(stats.json.lastVerify).toMatchObject({ ok: true, problems: 0, bytes: json.bytes });
    expect((await tzkv(['stats', '-d', dir])).stdout).toMatch(/^last verify: \S+: clean$/m);
  });

  test('a file of a newer format version: exit 5, and the message says so', async () => {
    const dir = join(await tempDir(), 'store');
    await tzkv(['put', '-d', dir, 'k', 'v']);
    const segment = (await readdir(dir)).find((name) => name.endsWith('.tzds'))!;
    const bytes = await readFile(join(dir, segment));
    bytes.writeUInt16LE(9, 4);
    const { crc32 } = await import('../../src/format/bytes.js');
    bytes.writeUInt32LE(crc32(bytes, 0, 12), 12);
    await writeFile(join(dir, segment), bytes);
    const run = await tzkv(['verify', '-d', dir]);
    expect(run.exitCode).toBe(5);
    expect(run.stdout).toMatch(new RegExp(`^${segment.replace('.', '\\.')} offset 0: format version 9 is newer`, 'm'));
    expect(run.stderr).toMatch(/newer tzkv/);
    expectNoStack(run);
  });

  test('--repair: moves the damage to quarantine, says what moved where, and the store verifies clean', async () => {
    const dir = join(await tempDir(), 'store');
    const marker = 'Q'.repeat(64);
    await tzkv(['put', '-d', dir, 'k1', 'first']);
    await tzkv(['put', '-d', dir, 'k2', marker]);
    await tzkv(['put', '-d', dir, 'k3', 'after']);
    const segment = (await readdir(dir)).find((name) => name.endsWith('.tzds'))!;
    const bytes = await readFile(join(dir, segment));
    bytes[bytes.indexOf(marker) + 3] ^= 0xff;
    await writeFile(join(dir, segment), bytes);
    expect((await tzkv(['verify', '-d', dir])).exitCode).toBe(4);
    const repaired = await tzkv(['verify', '-d', dir, '--repair']);
    expect(repaired.exitCode).toBe(0);
    expect(repaired.stdout).toMatch(new RegExp(`^repair: moved ${segment.replace('.', '\\.')} offset \\d+ \\(\\d+ bytes\\) to QUARANTINE-\\S+\\.tzq offset \\d+$`, 'm'));
    expect(repaired.stdout).toMatch(/^ok: /m);
    expect((await readdir(dir)).some((name) => /^QUARANTINE-.*\.tzq$/.test(name))).toBe(true);
    expect((await tzkv(['verify', '-d', dir])).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, 'k1'])).stdout).toBe('first');
    expect((await tzkv(['get', '-d', dir, 'k3'])).stdout).toBe('after');
  });

  test('unknown files are warnings, not damage', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'v']);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await writeFile(join(dir, '00000099.tzix'), 'left over');
    const run = await tzkv(['verify', '-d', dir]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^warning: notes\.txt: not a tzkv file/m);
    expect(run.stdout).toMatch(/^warning: 00000099\.tzix: not listed in the manifest/m);
  });

  test('the progress bar: drawn on a terminal for a large store, never with --json or off a terminal', async () => {
    const { progressWanted } = await import('../../src/cli/progress.js');
    expect(progressWanted(true, 64 << 20)).toBe(true);
    expect(progressWanted(true, 64 << 20, true)).toBe(false);
    expect(progressWanted(false, 64 << 20)).toBe(false);
    expect(progressWanted(undefined, 64 << 20)).toBe(false);
    expect(progressWanted(true, 1024)).toBe(false);
    const dir = await sizedStore(6 << 20);
    const off = await tzkv(['verify', '-d', dir]);
    expect(off.exitCode).toBe(0);
    expect(off.stderr).toBe('');
    // A terminal for stderr, through script(1): the bar shows; --json keeps it off.
    const { execa } = await import('execa');
    const { BIN, NODE, childEnv } = await import('./helpers.js');
    const onTty = await execa('script', ['-q', '-e', '-c', `${NODE} ${BIN} verify -d ${dir} > /dev/null`, '/dev/null'], { env: childEnv(), reject: false });
    expect(onTty.stdout).toMatch(/verifying \[/);
    const json = await execa('script', ['-q', '-e', '-c', `${NODE} ${BIN} verify -d ${dir} --json > /dev/null`, '/dev/null'], { env: childEnv(), reject: false });
    expect(json.stdout).not.toMatch(/verifying \[/);
  });
});
