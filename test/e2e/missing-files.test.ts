// A store that lost a file (issue #13, item 1): the MANIFEST, a segment or an
// index run. Verify names what is missing and exits 4; no command takes the
// loss for an empty store or overwrites a file still on disk; a lost MANIFEST
// is rebuilt by `verify --repair` with every record the segments hold.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { VerifyReport } from '../../src/api.js';
import { open } from '../../src/local/local-store.js';
import { encodeFileHeader } from '../../src/format/file-header.js';
import { decodeManifest } from '../../src/format/manifest.js';
import type { Manifest } from '../../src/format/manifest.js';
import { expectNoStack, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';
import type { Run } from './helpers.js';

const FAR = Date.parse('2100-01-01T00:00:00Z');
const KEYS = 460;
const key = (i: number) => `k${String(i).padStart(4, '0')}`;

/** Every file in dir (followers/ included) and its bytes. */
function contents(dir: string, out = new Map<string, string>(), prefix = ''): Map<string, string> {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) contents(path, out, `${prefix}${name}/`);
    else out.set(`${prefix}${name}`, readFileSync(path).toString('base64'));
  }
  return out;
}

const manifestOf = (dir: string): Manifest => decodeManifest(readFileSync(join(dir, 'MANIFEST')));
const segmentName = (n: number) => `${String(n).padStart(8, '0')}.tzds`;
const runName = (n: number) => `${String(n).padStart(8, '0')}.tzix`;

let template = '';

/**
 * A store of several segments and index runs, keys with and without expiries,
 * a deleted key and an unindexed tail: built once (small segments and flushes),
 * copied into a test's directory by populated().
 */
beforeAll(async () => {
  template = join(mkdtempSync(join(tmpdir(), 'tzkv-e2e-')), 'template');
  const s = await open(template, { segmentBytes: 8192, flushBytes: 2048 });
  await s.put('a', '1');
  await s.put('b', '2', { expiresAt: FAR });
  for (let i = 0; i < KEYS; i++) await s.put(key(i), `value-${i}-`.repeat(3), i % 7 ? {} : { expiresAt: FAR + i });
  await s.del(key(3));
  await s.close();
});

afterAll(() => rmSync(dirname(template), { recursive: true, force: true }));

async function populated(dir: string): Promise<Manifest> {
  cpSync(template, dir, { recursive: true });
  const m = manifestOf(dir);
  expect(m.segments.length, 'segments in the fixture').toBeGreaterThanOrEqual(4);
  expect(m.runs.length, 'index runs in the fixture').toBeGreaterThanOrEqual(3);
  return m;
}

async function exportOf(dir: string): Promise<string> {
  const run = await tzkv(['export', '-d', dir]);
  expect(run.exitCode, run.stderr).toBe(0);
  return run.stdout;
}

function expectDamaged(run: Run, file: string, label: string): void {
  expect(run.exitCode, `${label}: ${run.stdout}${run.stderr}`).toBe(4);
  expect(run.stderr, label).toContain(`${file} is missing`);
  expectNoStack(run);
}

/** Every write command, on both start paths where it has two. */
const WRITES: Array<{ line: string[]; input?: string; slow?: boolean }> = [
  { line: ['put', 'c', '3'] },
  { line: ['put', 'c', '3'], slow: true },
  { line: ['del', 'a'] },
  { line: ['del', 'a'], slow: true },
  { line: ['incr', 'n'] },
  { line: ['incr', 'n'], slow: true },
  { line: ['ttl', 'a', '1h'] },
  { line: ['import', '-'], input: '{"key":"c","value":"3"}\n' },
  { line: ['compact'] },
];

async function write(dir: string, w: (typeof WRITES)[number]): Promise<Run> {
  return tzkv([...w.line, '-d', dir], { input: w.input, env: w.slow ? { TZKV_NO_FAST_PATH: '1' } : {} });
}

describe('a store whose MANIFEST is missing', () => {
  test("the issue's example: verify exits 4 naming it, put refuses, and --repair brings a and b back", async () => {
    const dir = await storeDir();
    expect((await tzkv(['put', '-d', dir, 'a', '1'])).exitCode).toBe(0);
    expect((await tzkv(['put', '-d', dir, 'b', '2'])).exitCode).toBe(0);
    rmSync(join(dir, 'MANIFEST'));
    const verify = await tzkv(['verify', '-d', dir]);
    expect(verify.exitCode, verify.stdout).toBe(4);
    expect(verify.stdout).toMatch(/^MANIFEST is missing from .*00000001\.tzds.*verify --repair/m); // named once, not "MANIFEST: MANIFEST ..."
    const before = contents(dir);
    expectDamaged(await tzkv(['put', '-d', dir, 'c', '3']), 'MANIFEST', 'put c 3');
    expect(contents(dir)).toEqual(before);
    const repair = await tzkv(['verify', '-d', dir, '--repair']);
    expect(repair.exitCode, repair.stdout + repair.stderr).toBe(0);
    expect(repair.stdout).toMatch(/^repair: rebuilt MANIFEST from the files on disk \(00000001\.tzds\); a new store id$/m);
    expect((await tzkv(['put', '-d', dir, 'c', '3'])).exitCode).toBe(0);
    expect((await tzkv(['keys', '-d', dir])).stdout).toBe('a\nb\nc\n');
    expect((await tzkv(['get', '-d', dir, 'a'])).stdout).toBe('1');
  });

  test('every read and write refuses with exit 4 and leaves every byte as it was; --repair restores every key with its value and expiry', async () => {
    const dir = await storeDir();
    await populated(dir);
    const exported = await exportOf(dir);
    rmSync(join(dir, 'MANIFEST'));

    const { run, json } = await tzkvJson<VerifyReport>(['verify', '-d', dir]);
    expect(run.exitCode).toBe(4);
    expect(json.problems).toEqual([{ file: 'MANIFEST', offset: null, kind: 'missing-file', message: expect.stringContaining('verify --repair') }]);
    const before = contents(dir);
    for (const w of WRITES) {
      const label = `${w.line.join(' ')}${w.slow ? ' (oclif)' : ''}`;
      expectDamaged(await write(dir, w), 'MANIFEST', label);
      expect(contents(dir), label).toEqual(before);
    }
    for (const line of [['get', 'a'], ['keys'], ['export'], ['stats'], ['ttl', 'b']]) {
      expectDamaged(await tzkv([...line, '-d', dir]), 'MANIFEST', line.join(' '));
    }
    expect(contents(dir)).toEqual(before);

    const repair = await tzkvJson<VerifyReport>(['verify', '-d', dir, '--repair']);
    expect(repair.run.exitCode, repair.run.stderr).toBe(0);
    expect(repair.json.repair).toMatchObject({ rebuiltManifest: { segments: expect.arrayContaining([segmentName(1)]), storeId: 'new' }, census: 'recomputed' });
    expect(await exportOf(dir)).toBe(exported);
    expect((await tzkv(['verify', '-d', dir])).exitCode).toBe(0);
    // The rebuilt store takes writes, numbered past every file it holds.
    expect((await tzkv(['put', '-d', dir, 'after', 'repair'])).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, 'a'])).stdout).toBe('1');
  });

  test('an unreadable MANIFEST: writes refuse, and --repair moves it to quarantine and rebuilds it, losing nothing', async () => {
    const dir = await storeDir();
    await populated(dir);
    const exported = await exportOf(dir);
    const path = join(dir, 'MANIFEST');
    const bytes = readFileSync(path);
    bytes[40] ^= 0xff;
    writeFileSync(path, bytes);
    expect((await tzkv(['verify', '-d', dir])).exitCode).toBe(4);
    const before = contents(dir);
    expect((await tzkv(['put', '-d', dir, 'c', '3'])).exitCode).toBe(4);
    expect(contents(dir)).toEqual(before);
    const repair = await tzkv(['verify', '-d', dir, '--repair']);
    expect(repair.exitCode, repair.stdout + repair.stderr).toBe(0);
    expect(repair.stdout).toMatch(/^repair: rebuilt MANIFEST from the files on disk \(\d+ segments, 00000001\.tzds to \d{8}\.tzds\); a new store id$/m);
    expect(repair.stdout).toMatch(new RegExp(`^repair: moved MANIFEST offset 0 \\(${bytes.length} bytes\\) to QUARANTINE-.*\\.tzq offset \\d+$`, 'm'));
    expect(await exportOf(dir)).toBe(exported);
  });

  test('a leader with followers/ is a damaged store too (exit 4, not "not a store"); repaired, it keeps its id and its follower takes the next replicate', async () => {
    const dir = await storeDir();
    await populated(dir);
    const follower = join(await tempDir(), 'follower');
    expect((await tzkv(['replicate', '-d', dir, '--to', follower])).exitCode).toBe(0);
    expect(existsSync(join(dir, 'followers'))).toBe(true);
    rmSync(join(dir, 'MANIFEST'));
    const verify = await tzkv(['verify', '-d', dir]);
    expect(verify.exitCode, verify.stderr).toBe(4);
    expect(verify.stdout).toContain('MANIFEST is missing');
    expectDamaged(await tzkv(['put', '-d', dir, 'c', '3']), 'MANIFEST', 'put');
    const repair = await tzkv(['verify', '-d', dir, '--repair']);
    expect(repair.exitCode, repair.stderr).toBe(0);
    expect(repair.stdout).toContain('store id kept, as its followers know it');
    expect((await tzkv(['put', '-d', dir, 'c', '3'])).exitCode).toBe(0);
    const again = await tzkv(['replicate', '-d', dir, '--to', follower]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await exportOf(follower)).toBe(await exportOf(dir));
  });

  test('replicate refills a follower that lost its MANIFEST, and refuses a store it never replicated to', async () => {
    const dir = await storeDir();
    await populated(dir);
    const follower = join(await tempDir(), 'follower');
    expect((await tzkv(['replicate', '-d', dir, '--to', follower])).exitCode).toBe(0);
    rmSync(join(follower, 'MANIFEST'));
    expectDamaged(await tzkv(['get', '-d', follower, 'a']), 'MANIFEST', 'get on the follower');
    const refill = await tzkv(['replicate', '-d', dir, '--to', follower]);
    expect(refill.exitCode, refill.stderr).toBe(0);
    expect(await exportOf(follower)).toBe(await exportOf(dir));

    const other = join(await tempDir(), 'other');
    await populated(other);
    rmSync(join(other, 'MANIFEST'));
    const before = contents(other);
    const refused = await tzkv(['replicate', '-d', dir, '--to', other]);
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toMatch(/without a readable MANIFEST, and .* never replicated to it: refusing to overwrite it/);
    expect(contents(other)).toEqual(before);
  });

  test('what a first write leaves when it dies before its manifest is still an empty store; a first replicate that stopped is not a store yet', async () => {
    const dir = await storeDir();
    mkdirSync(dir);
    writeFileSync(join(dir, segmentName(1)), encodeFileHeader('TZDS', 1));
    writeFileSync(join(dir, 'MANIFEST.tmp'), 'partial');
    // Empty, so no store to check (docs/cli.md "The store directory"); a write starts one there.
    expect(await tzkv(['verify', '-d', dir])).toMatchObject({ exitCode: 5, stderr: `tzkv: no tzkv store at ${dir}: the directory holds none\n` });
    expect((await tzkv(['get', '-d', dir, 'a'])).exitCode).toBe(1);
    expect((await tzkv(['put', '-d', dir, 'a', '1'])).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, 'a'])).stdout).toBe('1');

    const follower = join(await tempDir(), 'follower');
    cpSync(dir, follower, { recursive: true });
    rmSync(join(follower, 'MANIFEST'));
    writeFileSync(join(follower, 'REPLICATING'), `${JSON.stringify([segmentName(1)])}\n`);
    for (const line of [['get', 'a'], ['put', 'b', '2'], ['verify']]) {
      const run = await tzkv([...line, '-d', follower]);
      expect(run.exitCode, line.join(' ')).toBe(5);
      expect(run.stderr, line.join(' ')).toMatch(/is not a tzkv store yet: a replicate into it stopped before its first manifest/);
    }
    expect((await tzkv(['replicate', '-d', dir, '--to', follower])).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', follower, 'a'])).stdout).toBe('1');
  });
});

describe('a file the manifest lists is missing', () => {
  /** The segment holding key k's record. */
  const segmentOf = (dir: string, m: Manifest, k: string) =>
    m.segments.map((s) => segmentName(s.file)).find((name) => readFileSync(join(dir, name)).includes(`${k}value-`));

  test('a sealed segment: verify names it; keys elsewhere read, keys in it exit 4; writes append without touching another file; compact and --repair refuse', async () => {
    const dir = await storeDir();
    const m = await populated(dir);
    const gone = segmentName(m.segments[1].file);
    const inGone = [...Array(KEYS).keys()].map(key).find((k) => segmentOf(dir, m, k) === gone)!;
    rmSync(join(dir, gone));
    const { run, json } = await tzkvJson<VerifyReport>(['verify', '-d', dir]);
    expect(run.exitCode).toBe(4);
    expect(json.problems).toContainEqual(expect.objectContaining({ file: gone, kind: 'missing-file' }));
    expect((await tzkv(['get', '-d', dir, 'a'])).stdout).toBe('1');
    expect((await tzkv(['get', '-d', dir, key(KEYS - 1)])).exitCode).toBe(0);
    expectDamaged(await tzkv(['get', '-d', dir, inGone]), gone, `get ${inGone}`);

    const before = contents(dir);
    expect((await tzkv(['put', '-d', dir, 'c', '3'])).exitCode).toBe(0);
    const active = segmentName(m.active.file);
    const after = contents(dir);
    for (const [name, bytes] of before) if (name !== active) expect(after.get(name), name).toBe(bytes);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    expectDamaged(await tzkv(['compact', '-d', dir]), gone, 'compact');
    expectDamaged(await tzkv(['verify', '-d', dir, '--repair']), gone, 'verify --repair');
    rmSync(dir, { recursive: true }); // damaged on purpose: not verified after the test
  });

  test('an index run: verify names it; keys it does not hold read, keys it holds exit 4; writes refuse and touch nothing; --repair rebuilds the index', async () => {
    const dir = await storeDir();
    const m = await populated(dir);
    const exported = await exportOf(dir);
    const run = m.runs[1]; // a middle run: newer and older runs stay
    const gone = runName(run.file);
    const inside = run.minKey.toString();
    rmSync(join(dir, gone));
    const verify = await tzkvJson<VerifyReport>(['verify', '-d', dir]);
    expect(verify.run.exitCode).toBe(4);
    expect(verify.json.problems).toContainEqual(expect.objectContaining({ file: gone, kind: 'missing-file' }));
    expect((await tzkv(['get', '-d', dir, 'a'])).stdout).toBe('1');
    expect((await tzkv(['get', '-d', dir, m.runs[0].maxKey.toString()])).exitCode).toBe(0);
    expectDamaged(await tzkv(['get', '-d', dir, inside]), gone, `get ${inside}`);
    const before = contents(dir);
    for (const w of WRITES) {
      const label = `${w.line.join(' ')}${w.slow ? ' (oclif)' : ''}`;
      expectDamaged(await write(dir, w), gone, label);
      expect(contents(dir), label).toEqual(before);
    }
    const repair = await tzkv(['verify', '-d', dir, '--repair']);
    expect(repair.exitCode, repair.stderr).toBe(0);
    expect(await exportOf(dir)).toBe(exported);
    expect(readdirSync(dir)).not.toContain(gone);
  });

  test('the active segment: every read and write exits 4 naming it (its unindexed tail may hold any key), and nothing is touched', async () => {
    const dir = await storeDir();
    const m = await populated(dir);
    const gone = segmentName(m.active.file);
    rmSync(join(dir, gone));
    const verify = await tzkvJson<VerifyReport>(['verify', '-d', dir]);
    expect(verify.run.exitCode).toBe(4);
    expect(verify.json.problems).toContainEqual(expect.objectContaining({ file: gone, kind: 'missing-file' }));
    const before = contents(dir);
    expectDamaged(await tzkv(['get', '-d', dir, 'a']), gone, 'get');
    for (const w of WRITES) expectDamaged(await write(dir, w), gone, w.line.join(' '));
    expect(contents(dir)).toEqual(before);
    rmSync(dir, { recursive: true }); // damaged on purpose: not verified after the test
  });
});
