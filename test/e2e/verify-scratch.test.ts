// verify of a store past its in-memory limit (512K records): what it holds per
// record spills to scratch files in TMPDIR, removed when it ends, never into
// the store; with a TMPDIR it cannot use, it holds everything in memory and
// says so in a `no-scratch` warning, and the store is still clean (exit 0).
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

interface Report {
  ok: boolean;
  records: number;
  problems: unknown[];
  warnings: Array<{ file: string; offset: number | null; kind: string; message: string }>;
}

describe('verify past its in-memory limit', () => {
  test('spills to TMPDIR and leaves nothing there or in the store; without a usable TMPDIR it warns and still checks', async () => {
    const dir = await storeDir();
    const lines: string[] = [];
    for (let i = 0; i < 600_000; i++) lines.push(`k${String(i).padStart(6, '0')}\tv${i}`);
    expect((await tzkv(['import', '-d', dir, '--format', 'tsv', '-'], { input: `${lines.join('\n')}\n` })).exitCode).toBe(0);
    const storeFiles = (await readdir(dir)).sort();

    const scratch = join(await tempDir(), 'tmp');
    await mkdir(scratch);
    const spilled = await tzkvJson<Report>(['verify', '-d', dir], { env: { TMPDIR: scratch } });
    expect(spilled.run.exitCode).toBe(0);
    expect(spilled.json).toMatchObject({ ok: true, problems: [], warnings: [] });
    expect(spilled.json.records).toBeGreaterThanOrEqual(600_000);
    expect(await readdir(scratch)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual([...new Set([...storeFiles, 'VERIFIED'])].sort());

    const missing = join(scratch, 'missing');
    const inMemory = await tzkvJson<Report>(['verify', '-d', dir], { env: { TMPDIR: missing } });
    expect(inMemory.run.exitCode).toBe(0);
    expect(inMemory.json).toMatchObject({ ok: true, problems: [], records: spilled.json.records });
    expect(inMemory.json.warnings).toEqual([expect.objectContaining({ file: '', offset: null, kind: 'no-scratch' })]);
    expect(inMemory.json.warnings[0].message).toContain(missing);
    const text = await tzkv(['verify', '-d', dir], { env: { TMPDIR: missing } });
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/^warning: .*cannot create verify scratch file .*missing.*in memory instead$/m);
  }, 120_000);
});
