// Readers never wait for a writer and never see a write in part (issue #4):
// with the lock held by another process every read command answers at once;
// listings that race a compaction see each atomic batch whole or not at all.

import { execa } from 'execa';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { open } from '../../dist/index.js';
import { NODE, childEnv, storeDir, tempDir, tzkv } from './helpers.js';
import { FIXTURES, finish, fixture, holdLock, range, timed } from './fixtures/processes.js';
import { checkValue, makeValue } from './fixtures/values.mjs';

/** A store of 500 keys r000…r499, 100 bytes each. */
async function readStore(): Promise<string> {
  const dir = await storeDir();
  const lines = range(500).map((i) => JSON.stringify({ key: `r${String(i).padStart(3, '0')}`, value: `${i}`.padEnd(100, '.') }));
  expect((await tzkv(['import', '-d', dir, '-'], { input: lines.join('\n') + '\n' })).exitCode).toBe(0);
  return dir;
}

/** Every read command, each timed: all must answer, correctly, in well under the lock's hold. */
async function readAll(dir: string): Promise<Array<{ what: string; ms: number }>> {
  const checks: Array<[string, string[], (out: string, exitCode: number) => void]> = [
    ['get', ['get', '-d', dir, 'r123'], (out, code) => (expect(code).toBe(0), expect(out).toBe('123'.padEnd(100, '.')))],
    ['keys', ['keys', '-d', dir, 'r49'], (out, code) => (expect(code).toBe(0), expect(out).toBe(range(10).map((i) => `r49${i}\n`).join('')))],
    ['export', ['export', '-d', dir], (out, code) => (expect(code).toBe(0), expect(out.trim().split('\n')).toHaveLength(500))],
    ['stats', ['stats', '-d', dir], (out, code) => (expect(code).toBe(0), expect(out).toMatch(/^keys: 500$/m))],
    ['verify', ['verify', '-d', dir], (out, code) => (expect(code, out).toBe(0), expect(out).toMatch(/^ok: /m))],
    ['ttl', ['ttl', '-d', dir, 'r000'], (out, code) => (expect(code).toBe(0), expect(out).toBe('-1\n'))],
  ];
  return Promise.all(
    checks.map(async ([what, args, check]) => {
      const { ms, value: run } = await timed(() => tzkv(args));
      expect(run.stderr, what).toBe('');
      check(run.stdout, run.exitCode);
      return { what, ms };
    }),
  );
}

describe('readers while another process holds the writer lock', () => {
  test('get, keys, export, stats, verify and ttl answer at once, one after the other', async () => {
    const dir = await readStore();
    const holder = await holdLock(dir, 'tzkv import');
    try {
      for (const [what, args] of [
        ['get', ['get', '-d', dir, 'r123']],
        ['keys', ['keys', '-d', dir, 'r49']],
        ['export', ['export', '-d', dir]],
        ['stats', ['stats', '-d', dir]],
        ['verify', ['verify', '-d', dir]],
      ] as const) {
        const { ms, value: run } = await timed(() => tzkv([...args]));
        expect(run.exitCode, `${what}: ${run.stderr}`).toBe(0);
        expect(ms, what).toBeLessThan(2000);
      }
      // All of them at once, with their answers checked.
      for (const { what, ms } of await readAll(dir)) expect(ms, what).toBeLessThan(2000);
    } finally {
      await holder.release();
    }
  });

  test('... and while the holder is in the middle of a write, which they do not see until it commits', async () => {
    const dir = await readStore();
    const holder = await holdLock(dir, 'tzkv incr', 'update', 4000);
    for (const { what, ms } of await readAll(dir)) expect(ms, what).toBeLessThan(2000);
    expect((await tzkv(['get', '-d', dir, 'held-by-update'])).exitCode).toBe(1);
    expect((await finish(holder.child)).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, 'held-by-update'])).exitCode).toBe(0);
  });
});

describe('listings racing compaction', () => {
  test('a listing that a compaction and an atomic import interrupt sees the import whole or not at all', async () => {
    // Many small segments, so that the listing has files left to open when compaction removes them.
    const dir = await storeDir();
    const setup = await open(dir, { segmentBytes: 64 * 1024 } as Parameters<typeof open>[1]);
    for (const p of ['b', 'c', 'd', 'e', 'f']) {
      for (let i = 0; i < 40; i++) {
        const key = `${p}${String(i).padStart(3, '0')}`;
        await setup.put(key, makeValue(key, i));
      }
    }
    await setup.close();
    const reader = execa(NODE, [join(FIXTURES, 'pausing-reader.mjs'), dir, '3'], { reject: false, env: childEnv(), extendEnv: false, stdin: 'pipe' });
    await new Promise<void>((resolve, reject) => {
      reader.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('paused') && resolve());
      reader.then((r) => reject(new Error(`reader ended early: ${r.stdout} ${r.stderr}`)), reject);
    });
    // While it is paused after b002: a compaction, then one atomic import of a key before b002 and one after f039.
    expect((await tzkv(['compact', '-d', dir])).exitCode).toBe(0);
    const batch = ['a000', 'z000'].map((key) => JSON.stringify({ key, value: makeValue(key, 7) })).join('\n') + '\n';
    expect((await tzkv(['import', '-d', dir, '-'], { input: batch })).exitCode).toBe(0);
    reader.stdin!.end('go\n');
    const done = await reader;
    const { keys, errors } = JSON.parse(String(done.stdout).slice(String(done.stdout).indexOf('{'))) as { keys: string[]; errors: string[] };
    expect(errors).toEqual([]);
    const ofImport = keys.filter((k) => k === 'a000' || k === 'z000');
    expect([[], ['a000', 'z000']], `the listing saw part of one atomic import: ${JSON.stringify(ofImport)}`).toContainEqual(ofImport);
    expect(keys.filter((k) => /^[b-f][0-9]{3}$/.test(k))).toHaveLength(200);
  });

  test('readers listing all along while batches commit and compactions run: no error, no batch seen in part', async () => {
    const dir = await storeDir();
    expect((await finish(fixture('writer.mjs', [dir, 'w0:', '300']))).exitCode).toBe(0);
    // The batches roll small segments, so listings have files to open that a compaction may remove.
    const stop = join(await tempDir(), 'stop');
    const readers = range(2).map(() => fixture('reader.mjs', [dir, stop, '--groups=30', 'w0:=300'], { READER_PAUSE_MS: '5' }));
    let compactions = 0;
    try {
      const batcher = finish(fixture('batcher.mjs', [dir, '150', '30'], { SEGMENT_BYTES: String(64 * 1024) }));
      let writing = true;
      void batcher.finally(() => (writing = false));
      // At least two compactions, even when a slow machine lets the batcher finish during the first.
      while (writing || compactions < 2) {
        const run = await tzkv(['compact', '-d', dir]);
        expect(run.exitCode, run.stderr).toBe(0);
        compactions++;
      }
      expect((await batcher).exitCode).toBe(0);
    } finally {
      await writeFile(stop, '');
    }
    for (const r of await Promise.all(readers.map(finish))) {
      expect(r.exitCode, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { listings: number; rounds: number; errors: string[]; final: Record<string, number> };
      expect(report.errors).toEqual([]);
      expect(report.listings).toBeGreaterThan(2);
      expect(report.rounds).toBe(150);
      expect(report.final).toEqual({ 'w0:': 300 });
    }
    expect(compactions).toBeGreaterThan(1);
    const store = await open(dir, { readOnly: true });
    try {
      let n = 0;
      for await (const { key, value } of store.entries({ prefix: 'g' })) {
        expect(checkValue(key.toString(), value)).toBeUndefined();
        n++;
      }
      expect(n).toBe(150 * 30);
    } finally {
      await store.close();
    }
  });
});
