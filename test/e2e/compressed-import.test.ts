// A large import into a compressed store writes its values uncompressed and
// the next compaction compresses them (docs/design.md "Compression"): what a
// user sees of that through the CLI. import, stats (pending), compact and
// compact --if-needed, export (the values back byte for byte), over the two
// kinds of store that compress.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { CompactReport, StoreStats } from '../../src/api.js';
import { STORE_KINDS } from '../helpers/store-kinds.js';
import { initKindStore } from './store-kinds.js';
import { tempDir, tzkv, tzkvJson } from './helpers.js';

const COMPRESSING = STORE_KINDS.filter((k) => k.compression !== undefined);

const WORDS = ['order', 'status', 'shipped', 'customer', 'amount', 'currency', 'EUR', 'pending', 'warehouse', 'invoice', 'created', 'updated', 'items', 'sku', 'quantity'];

/** JSON documents of 2–6 KB that compress well (as the bench corpus does), `count` of them, as `tzkv export` lines; and their total value bytes. */
function documents(count: number, seed: number): { lines: string[]; valueBytes: number } {
  let s = seed;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  const lines: string[] = [];
  let valueBytes = 0;
  for (let i = 0; i < count; i++) {
    const fields: string[] = [];
    const target = 2048 + (next() % 4096);
    let length = 2;
    for (let f = 0; length < target; f++) {
      const field = `"${WORDS[next() % WORDS.length]}_${f}":"${WORDS[next() % WORDS.length]} ${next().toString(16)} ${WORDS[next() % WORDS.length]}"`;
      fields.push(field);
      length += field.length + 1;
    }
    const value = `{${fields.join(',')}}`;
    valueBytes += value.length;
    lines.push(JSON.stringify({ key: `doc:${String(i).padStart(6, '0')}`, value, expiresAt: null }));
  }
  return { lines, valueBytes };
}

/** An input file of `count` documents; its lines sorted by key (export's order). */
async function inputFile(count: number): Promise<{ file: string; lines: string[]; valueBytes: number }> {
  const docs = documents(count, count);
  const file = join(await tempDir(), 'docs.jsonl');
  await writeFile(file, `${docs.lines.join('\n')}\n`);
  return { file, ...docs };
}

/** Whether some segment file of `dir` holds `text` as it is. */
async function segmentsHold(dir: string, text: string): Promise<boolean> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.tzds'));
  for (const n of names) if ((await readFile(join(dir, n))).includes(text)) return true;
  return false;
}

async function stats(args: string[]): Promise<StoreStats> {
  const { run, json } = await tzkvJson<StoreStats>(['stats', ...args]);
  expect(run.exitCode, run.stderr).toBe(0);
  return json;
}

describe.each(COMPRESSING)('a large import into a $name store', (kind) => {
  test('holds its values uncompressed, pending; `tzkv compact` compresses them, values byte-identical, the store smaller', async () => {
    const store = await initKindStore(kind);
    const input = await inputFile(800); // ~3 MB: past the 1 MiB compressed inline
    expect((await tzkv(['import', input.file, ...store.args])).exitCode).toBe(0);
    const imported = await stats(store.args);
    expect(imported.compression!.pending.segments).toBe(1);
    // All but the first 1 MiB or so of values were left for compaction.
    expect(imported.compression!.pending.bytes).toBeGreaterThan(input.valueBytes - 1.2 * 2 ** 20);
    expect(imported.compression!.pending.bytes).toBeLessThan(input.valueBytes);
    const text = await tzkv(['stats', ...store.args]);
    expect(text.stdout).toContain(`pending compression: ${imported.compression!.pending.bytes} bytes of values in 1 segment, written uncompressed by an import: the next compaction compresses them (tzkv compact)`);
    const lastDoc = JSON.parse(input.lines[input.lines.length - 1]) as { value: string };
    if (!kind.encrypt) expect(await segmentsHold(store.dir, lastDoc.value)).toBe(true);

    const { run, json: report } = await tzkvJson<CompactReport>(['compact', ...store.args]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(report.bytesAfter).toBeLessThan(report.bytesBefore * 0.6);
    const compacted = await stats(store.args);
    expect(compacted.compression!.pending).toEqual({ bytes: 0, segments: 0 });
    expect(compacted.compression!.values!.raw).toBe(input.valueBytes);
    expect(compacted.compression!.values!.ratio).toBeLessThan(0.5);
    expect(compacted.totalBytes).toBe(report.bytesAfter);
    expect((await tzkv(['stats', ...store.args])).stdout).toContain('pending compression: none');
    if (!kind.encrypt) expect(await segmentsHold(store.dir, lastDoc.value)).toBe(false);

    const exported = await tzkv(['export', ...store.args]);
    expect(exported.exitCode).toBe(0);
    expect(exported.stdout.trimEnd().split('\n')).toEqual(input.lines);
    expect((await tzkv(['verify', ...store.args])).exitCode).toBe(0);
  });

  test('compact --if-needed compacts it for its pending values, then skips', async () => {
    const store = await initKindStore(kind);
    const input = await inputFile(800);
    expect((await tzkv(['import', input.file, ...store.args])).exitCode).toBe(0);
    const first = await tzkvJson<CompactReport>(['compact', '--if-needed', ...store.args]);
    expect(first.run.exitCode, first.run.stderr).toBe(0);
    expect(first.json).toMatchObject({ compacted: true, dryRun: false, recordsKept: 800 });
    expect(first.json.bytesAfter).toBeLessThan(first.json.bytesBefore * 0.6);
    const second = await tzkvJson<{ compacted: boolean; skipped?: boolean; reason?: string; pendingBytes?: number }>(['compact', '--if-needed', ...store.args]);
    expect(second.run.exitCode).toBe(0);
    expect(second.json).toMatchObject({ compacted: false, skipped: true, pendingBytes: 0 });
    const exported = await tzkv(['export', ...store.args]);
    expect(exported.stdout.trimEnd().split('\n')).toEqual(input.lines);
  });

  test('a small import (under 1 MiB of values) is compressed as it is imported: nothing pending, small without a compaction', async () => {
    const store = await initKindStore(kind);
    const input = await inputFile(100);
    expect(input.valueBytes).toBeLessThan(2 ** 20);
    expect((await tzkv(['import', input.file, ...store.args])).exitCode).toBe(0);
    const imported = await stats(store.args);
    expect(imported.compression!.pending).toEqual({ bytes: 0, segments: 0 });
    expect(imported.totalBytes).toBeLessThan(input.valueBytes * 0.6);
    const skipped = await tzkvJson<{ compacted: boolean; skipped?: boolean }>(['compact', '--if-needed', ...store.args]);
    expect(skipped.json).toMatchObject({ compacted: false, skipped: true });
  });
});

describe('compact --if-needed on a store with a little pending', () => {
  test('skips while the pending values are below both thresholds, saying how many await compression', async () => {
    const [kind] = COMPRESSING;
    const store = await initKindStore(kind);
    const big = await inputFile(1500); // ~6 MB, compacted: the store's bulk
    expect((await tzkv(['import', big.file, ...store.args])).exitCode).toBe(0);
    expect((await tzkv(['compact', ...store.args])).exitCode).toBe(0);
    const more = documents(700, 7); // ~2.8 MB more (~1.7 MB of it pending), under a new prefix via --bucket
    const file = join(await tempDir(), 'more.jsonl');
    await writeFile(file, `${more.lines.join('\n')}\n`);
    expect((await tzkv(['import', file, '-b', 'more', ...store.args])).exitCode).toBe(0);
    const { pending } = (await stats(store.args)).compression!;
    expect(pending.bytes).toBeGreaterThan(2 ** 20);
    const run = await tzkvJson<{ compacted: boolean; skipped?: boolean; reason?: string; pendingBytes?: number }>(['compact', '--if-needed', '--min-dead-ratio', '0.9', ...store.args]);
    expect(run.json).toMatchObject({ compacted: false, skipped: true, pendingBytes: pending.bytes });
    expect(run.json.reason).toContain(`; ${pending.bytes} bytes of values await compression (`);
    const low = await tzkvJson<CompactReport>(['compact', '--min-dead-bytes', '1M', ...store.args]);
    expect(low.json.compacted).toBe(true);
    expect((await stats(store.args)).compression!.pending.bytes).toBe(0);
  });
});
