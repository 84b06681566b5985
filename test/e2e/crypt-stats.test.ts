// stats and `compact --if-needed` on encrypted stores (#17): a group's SEAL
// record is live while its records are (docs/design.md "Stats of version 2
// stores"), and a segment's file header is never dead, so a store none of
// whose records were overwritten is 0% dead and --if-needed leaves it alone.
import { randomBytes } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { StoreStats } from '../../src/api.js';
import { storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

const N = 12;

/** An encrypted store at a new directory, and its key file. */
async function encryptedStore(): Promise<{ dir: string; key: string }> {
  const dir = await storeDir();
  const key = join(await tempDir(), 'store.key');
  await writeFile(key, randomBytes(32), { mode: 0o600 });
  expect((await tzkv(['init', '-d', dir, '--encrypt', '--key-file', key])).exitCode).toBe(0);
  return { dir, key };
}

async function puts(dir: string, key: string, value: (i: number) => string): Promise<void> {
  for (let i = 0; i < N; i++) expect((await tzkv(['put', '-d', dir, `user:${i}`, value(i), '--key-file', key])).exitCode).toBe(0);
}

async function stats(dir: string, key: string): Promise<StoreStats> {
  const { run, json } = await tzkvJson<StoreStats>(['stats', '-d', dir, '--key-file', key, '--json']);
  expect(run.exitCode).toBe(0);
  return json;
}

describe('stats of an encrypted store', () => {
  test('N single puts, none overwritten: 0 dead bytes, and compact --if-needed skips it at a 0 ratio', async () => {
    const { dir, key } = await encryptedStore();
    await puts(dir, key, (i) => `value ${i}`);
    const s = await stats(dir, key);
    expect({ keys: s.keys, deadBytes: s.deadBytes, deadRatio: s.deadRatio }).toEqual({ keys: N, deadBytes: 0, deadRatio: 0 });
    // Every byte but the segment's header is a live record or its group's SEAL record.
    expect(s.liveBytes).toBe(s.totalBytes - 16);
    const { run, json } = await tzkvJson<{ compacted: boolean; skipped: boolean; reason: string; deadBytes: number }>([
      'compact', '-d', dir, '--key-file', key, '--if-needed', '--min-dead-ratio', '0', '--min-dead-bytes', '0', '--json',
    ]);
    expect(run.exitCode).toBe(0);
    expect(json).toMatchObject({ compacted: false, skipped: true, deadBytes: 0 });
    expect(json.reason).toContain('(0.0%)');
  });

  test('every key overwritten once: exactly the first puts, SEAL records included, are dead', async () => {
    const { dir, key } = await encryptedStore();
    await puts(dir, key, (i) => `first ${i}`);
    const segment = join(dir, '00000001.tzds');
    const firstPuts = (await stat(segment)).size - 16;
    await puts(dir, key, (i) => `second value ${i}`);
    const s = await stats(dir, key);
    expect(s.deadBytes).toBe(firstPuts);
    expect(s.liveBytes).toBe(s.totalBytes - 16 - firstPuts);
  });

  test('after an import and a compaction: 0 dead bytes, and verify finds the census right', async () => {
    const { dir, key } = await encryptedStore();
    const tsv = join(await tempDir(), 'records.tsv');
    await writeFile(tsv, Array.from({ length: 3000 }, (_, i) => `key:${String(i).padStart(6, '0')}\t${'v'.repeat(i % 200)}\n`).join(''));
    expect((await tzkv(['import', tsv, '--format', 'tsv', '-d', dir, '--key-file', key])).exitCode).toBe(0);
    await puts(dir, key, (i) => `value ${i}`);
    expect((await tzkv(['compact', '-d', dir, '--key-file', key])).exitCode).toBe(0);
    const s = await stats(dir, key);
    expect({ keys: s.keys, deadBytes: s.deadBytes, counted: s.counted }).toEqual({ keys: 3000 + N, deadBytes: 0, counted: 'census' });
    const verify = await tzkv(['verify', '-d', dir, '--key-file', key]);
    expect(verify.exitCode).toBe(0);
  });
});
