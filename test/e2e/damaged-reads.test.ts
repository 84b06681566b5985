// Reads past damaged data through the CLI (docs/cli.md "Exit codes"): a damaged
// record costs that record only. get, keys, export and stats return what is
// readable, warn on stderr for each damaged stretch with file, offset and the
// fix, and exit 4 only when they could not return everything asked for. The
// fast path and oclif say the same.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { type Run, expectNoStack, tempDir, tzkv } from './helpers.js';

const REPAIR = 'run `tzkv verify --repair`';
const WARNING = /^tzkv: warning: (\d{8}\.tzds) offset (\d+): CRC mismatch \((\d+) bytes unreadable up to the next valid record\); stepped over it \(run `tzkv verify --repair`\)$/m;

/** A store path (not created) whose damage the test repairs or leaves: no end-of-test verify. */
async function damagedStoreDir(): Promise<string> {
  return join(await tempDir(), 'store');
}

/** Flips one byte `delta` bytes after the first `marker` in the store's only (or newest) segment; returns its name and the offset. */
async function flip(dir: string, marker: string, delta: number): Promise<{ segment: string; at: number }> {
  const segment = (await readdir(dir)).filter((n) => n.endsWith('.tzds')).sort().pop()!;
  const bytes = await readFile(join(dir, segment));
  const at = bytes.indexOf(marker);
  expect(at).toBeGreaterThan(0);
  bytes[at + delta] ^= 0x01;
  await writeFile(join(dir, segment), bytes);
  return { segment, at };
}

/** Runs a line by the fast path and through oclif; both must say the same. */
async function bothWays(args: string[]): Promise<Run> {
  const fast = await tzkv(args);
  const oclif = await tzkv(args, { env: { TZKV_NO_FAST_PATH: '1' } });
  expect({ exit: oclif.exitCode, stdout: oclif.stdout, stderr: oclif.stderr }, args.join(' ')).toEqual({ exit: fast.exitCode, stdout: fast.stdout, stderr: fast.stderr });
  expectNoStack(fast);
  return fast;
}

describe('one flipped byte in the first of three records', () => {
  test('the two after it stay readable by get, keys, export and stats; exit 4 where the answer is incomplete', async () => {
    const dir = await damagedStoreDir();
    for (const k of ['a', 'b', 'c']) expect((await tzkv(['put', '-d', dir, k, `value of ${k}, long enough`])).exitCode).toBe(0);
    const { segment } = await flip(dir, 'value of a', 3);
    const record = 16; // the first record, right after the segment header

    const verify = await tzkv(['verify', '-d', dir]);
    expect(verify.exitCode).toBe(4);
    expect(verify.stdout).toContain(`${segment} offset ${record}: CRC mismatch`);

    for (const k of ['b', 'c']) {
      expect(await bothWays(['get', '-d', dir, k])).toMatchObject({ exitCode: 0, stdout: `value of ${k}, long enough`, stderr: '' });
    }
    const a = await bothWays(['get', '-d', dir, 'a']);
    expect(a).toMatchObject({ exitCode: 4, stdout: '' });
    expect(a.stderr).toContain(`${segment} offset ${record}: CRC mismatch`);
    expect(a.stderr).toContain(REPAIR);

    const keys = await bothWays(['keys', '-d', dir]);
    expect(keys).toMatchObject({ exitCode: 4, stdout: 'b\nc\n' });
    expect(keys.stderr).toMatch(WARNING);
    expect(keys.stderr.match(WARNING)!.slice(1, 3)).toEqual([segment, String(record)]);
    expect(keys.stderr).toMatch(/^tzkv: the listing stepped over 1 damaged stretch of the store: .*; run `tzkv verify --repair`$/m);
    const keysJson = await bothWays(['keys', '-d', dir, '--json']);
    expect(keysJson.exitCode).toBe(4);
    expect(JSON.parse(keysJson.stdout)).toEqual(['b', 'c']);

    const exported = await tzkv(['export', '-d', dir]);
    expect(exported.exitCode).toBe(4);
    expect(exported.stdout.trim().split('\n').map((line) => JSON.parse(line).key)).toEqual(['b', 'c']);
    expect(exported.stderr).toMatch(WARNING);
    expect(JSON.parse((await tzkv(['export', '-d', dir, '--json'])).stdout).map((r: { key: string }) => r.key)).toEqual(['b', 'c']);

    const stats = await tzkv(['stats', '-d', dir]);
    expect(stats.exitCode).toBe(4);
    expect(stats.stdout).toMatch(/^keys: 2$/m);
    expect(stats.stderr).toMatch(WARNING);

    // Writes still refuse to go behind the damage, and say what fixes it.
    const put = await tzkv(['put', '-d', dir, 'd', 'x']);
    expect(put.exitCode).toBe(4);
    expect(put.stderr).toContain(REPAIR);

    expect((await tzkv(['verify', '-d', dir, '--repair'])).exitCode).toBe(0);
    expect(await bothWays(['keys', '-d', dir])).toMatchObject({ exitCode: 0, stdout: 'b\nc\n', stderr: '' });
    expect((await tzkv(['get', '-d', dir, 'a'])).exitCode).toBe(1);
  });

  test('export --out writes no file past damage (it promises a complete one), and says how to get what is readable', async () => {
    const dir = await damagedStoreDir();
    for (const k of ['a', 'b']) await tzkv(['put', '-d', dir, k, `value of ${k}, long enough`]);
    await flip(dir, 'value of a', 3);
    const out = join(await tempDir(), 'backup.jsonl');
    const run = await tzkv(['export', '-d', dir, '--out', out]);
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toMatch(WARNING);
    expect(run.stderr).toContain(`${out} not written`);
    expect(existsSync(out)).toBe(false);
    const json = await tzkv(['export', '-d', dir, '--out', out, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'CORRUPT', exitCode: 4 } });
  });
});

describe('one flipped byte in the middle of many records', () => {
  test('keys after it read; keys before it may have a newer version in it: get refuses, keys lists them', async () => {
    const dir = await damagedStoreDir();
    for (let i = 0; i < 12; i++) await tzkv(['put', '-d', dir, `k${String(i).padStart(2, '0')}`, `value ${i} of many`]);
    await flip(dir, 'value 6 of', 2);
    expect(await bothWays(['get', '-d', dir, 'k09'])).toMatchObject({ exitCode: 0, stdout: 'value 9 of many' });
    const before = await bothWays(['get', '-d', dir, 'k03']);
    expect(before.exitCode).toBe(4);
    expect(before.stderr).toMatch(/key "k03" cannot be read: its newest version may be in damaged data at \d{8}\.tzds offset \d+: CRC mismatch/);
    expect(before.stderr).toContain(REPAIR);
    const keys = await bothWays(['keys', '-d', dir]);
    expect(keys.exitCode).toBe(4);
    expect(keys.stdout.trim().split('\n')).toEqual(Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`).filter((k) => k !== 'k06'));
  });

  test('inside an atomic batch: the batch is invisible as a whole, what follows it reads', async () => {
    const dir = await damagedStoreDir();
    const lines = Array.from({ length: 5 }, (_, i) => `i${i}\timported value ${i}`).join('\n');
    expect((await tzkv(['import', '-d', dir, '-', '--format', 'tsv'], { input: `${lines}\n` })).exitCode).toBe(0);
    await tzkv(['put', '-d', dir, 'after', 'the batch']);
    await flip(dir, 'imported value 2', 4);
    expect(await bothWays(['get', '-d', dir, 'after'])).toMatchObject({ exitCode: 0, stdout: 'the batch' });
    const keys = await bothWays(['keys', '-d', dir]);
    expect(keys).toMatchObject({ exitCode: 4, stdout: 'after\n' });
    expect((await bothWays(['get', '-d', dir, 'i0'])).exitCode).toBe(4);
  });
});

describe('one flipped byte in an indexed segment', () => {
  test('other keys read; keys lists every key (the index is whole); export leaves the damaged one out and exits 4', async () => {
    const dir = await damagedStoreDir();
    // Over 1 MiB in one import: indexed straight into a run, nothing left in the tail.
    const lines = Array.from({ length: 1100 }, (_, i) => `k${String(i).padStart(4, '0')}\t${String(i).padStart(4, '0')}${'v'.repeat(1020)}`).join('\n');
    expect((await tzkv(['import', '-d', dir, '-', '--format', 'tsv'], { input: `${lines}\n` })).exitCode).toBe(0);
    const { segment, at } = await flip(dir, `0500${'v'.repeat(10)}`, 8);
    const record = at - 20 - 5;
    expect(await bothWays(['get', '-d', dir, 'k0501'])).toMatchObject({ exitCode: 0, stdout: `0501${'v'.repeat(1020)}` });
    const damaged = await bothWays(['get', '-d', dir, 'k0500']);
    expect(damaged.exitCode).toBe(4);
    expect(damaged.stderr).toContain(`${segment} offset ${record}: CRC mismatch`);
    expect(damaged.stderr).toContain(REPAIR);
    const keys = await bothWays(['keys', '-d', dir]);
    expect(keys).toMatchObject({ exitCode: 0, stderr: '' });
    expect(keys.stdout.trim().split('\n')).toHaveLength(1100);
    const exported = await tzkv(['export', '-d', dir]);
    expect(exported.exitCode).toBe(4);
    const keysOut = exported.stdout.trim().split('\n').map((line) => JSON.parse(line).key);
    expect(keysOut).toHaveLength(1099);
    expect(keysOut).not.toContain('k0500');
    expect(exported.stderr).toMatch(new RegExp(`^tzkv: warning: ${segment.replace('.', '\\.')} offset ${record}: CRC mismatch \\(key "k0500"\\); stepped over it \\(run \`tzkv verify --repair\`\\)$`, 'm'));
    expect((await tzkv(['stats', '-d', dir])).exitCode).toBe(0);
  });
});

describe('one flipped byte in an index run', () => {
  /** A store whose keys are all in one index run (an import over 1 MiB); returns the run's path and header fields. */
  async function indexedStore(): Promise<{ dir: string; run: string; bloomOffset: number }> {
    const dir = await damagedStoreDir();
    const lines = Array.from({ length: 1100 }, (_, i) => `k${String(i).padStart(4, '0')}\t${'v'.repeat(1020)}`).join('\n');
    expect((await tzkv(['import', '-d', dir, '-', '--format', 'tsv'], { input: `${lines}\n` })).exitCode).toBe(0);
    const runs = (await readdir(dir)).filter((n) => n.endsWith('.tzix'));
    expect(runs).toHaveLength(1);
    const header = await readFile(join(dir, runs[0]));
    return { dir, run: runs[0], bloomOffset: header.readUInt32LE(48) };
  }

  async function flipAt(path: string, at: number): Promise<void> {
    const bytes = await readFile(path);
    bytes[at] ^= 0x01;
    await writeFile(path, bytes);
  }

  test('in the bloom filter: nothing is lost, every get reads the tree instead, exit 0', async () => {
    const { dir, run, bloomOffset } = await indexedStore();
    await flipAt(join(dir, run), bloomOffset + 100);
    for (const key of ['k0000', 'k0550', 'k1099']) expect(await bothWays(['get', '-d', dir, key])).toMatchObject({ exitCode: 0, stdout: 'v'.repeat(1020), stderr: '' });
    expect((await bothWays(['get', '-d', dir, 'k9999'])).exitCode).toBe(1);
    expect((await tzkv(['verify', '-d', dir])).exitCode).toBe(4);
  });

  test('in a leaf: keys and export step over it to the next leaf and exit 4; gets of other keys read', async () => {
    const { dir, run } = await indexedStore();
    await flipAt(join(dir, run), 64 + 40); // inside the first leaf block
    expect(await bothWays(['get', '-d', dir, 'k1099'])).toMatchObject({ exitCode: 0, stdout: 'v'.repeat(1020) });
    const lost = await bothWays(['get', '-d', dir, 'k0000']);
    expect(lost.exitCode).toBe(4);
    expect(lost.stderr).toContain(`${run} offset 64: block CRC mismatch`);
    expect(lost.stderr).toContain(REPAIR);
    const keys = await bothWays(['keys', '-d', dir]);
    expect(keys.exitCode).toBe(4);
    const listed = keys.stdout.trim().split('\n');
    expect(listed.length).toBeGreaterThan(900); // a leaf holds about 128 of them
    expect(listed).not.toContain('k0000');
    expect(listed[listed.length - 1]).toBe('k1099');
    expect(keys.stderr).toMatch(new RegExp(`^tzkv: warning: ${run.replace('.', '\\.')} offset 64: block CRC mismatch \\(\\d+ bytes of leaf blocks unreadable up to the next valid leaf\\); stepped over it \\(run \`tzkv verify --repair\`\\)$`, 'm'));
    const exported = await tzkv(['export', '-d', dir]);
    expect(exported.exitCode).toBe(4);
    expect(exported.stdout.trim().split('\n')).toHaveLength(listed.length);
    // stats counts from the census in the manifest: it reads no leaf, and its answer is whole.
    const stats = await tzkv(['stats', '-d', dir]);
    expect(stats).toMatchObject({ exitCode: 0, stderr: '' });
    expect(stats.stdout).toMatch(/^keys: 1100$/m);
  });
});
