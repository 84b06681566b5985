// Store.swap, Store.delIf and put's ifValue/ifVersion on a directory store
// (src/local/local-store.ts; the condition's rules in src/keys.ts), and the
// Entry.version they compare: a missing or expired key, compaction, a follower
// promoted behind its leader, bad conditions, and two processes swapping at
// once. test/model/swap.test.ts runs random sequences of the same calls.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { tempDir, tempStore } from '../helpers/temp-store.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('swap and delIf on a key that is not there', () => {
  it('a missing key holds no value and no version: only an unconditional swap or ifAbsent writes', async () => {
    const s = await tempStore();
    expect(await s.swap('k', 'v', { ifValue: '' })).toEqual({ written: false, previous: undefined });
    expect(await s.swap('k', 'v', { ifVersion: '1:16:00000000' })).toEqual({ written: false, previous: undefined });
    expect(await s.delIf('k', { ifValue: '' })).toBe(false);
    expect(await s.put('k', 'v', { ifValue: 'v' })).toBe(false);
    expect(await s.get('k')).toBeUndefined();
    const first = await s.swap('k', 'first');
    expect(first).toEqual({ written: true, previous: undefined, version: expect.stringMatching(/^\d+:\d+:[0-9a-f]{8}$/) });
    const { previous, version } = await s.swap('k', 'second', { ifValue: 'first' });
    expect(previous?.value.toString()).toBe('first');
    // The version swap gives for what it wrote is the one the next read finds; the previous one is what it replaced.
    expect(previous?.version).toBe(first.version);
    expect((await s.getEntry('k'))?.version).toBe(version);
  });

  it('an expired key counts as absent: its value and its version no longer match, ifAbsent writes', async () => {
    let now = 1_000_000;
    const s = await tempStore({ now: () => now });
    await s.put('session', 'tok', { ttlMs: 1000 });
    const before = await s.getEntry('session');
    now += 1000;
    expect(await s.swap('session', 'next', { ifValue: 'tok' })).toEqual({ written: false, previous: undefined });
    expect(await s.swap('session', 'next', { ifVersion: before!.version })).toEqual({ written: false, previous: undefined });
    expect(await s.delIf('session', { ifValue: 'tok' })).toBe(false);
    expect(await s.delIf('session', { ifVersion: before!.version })).toBe(false);
    expect(await s.swap('session', 'mine', { ifAbsent: true })).toMatchObject({ written: true, previous: undefined });
    expect((await s.get('session'))?.toString()).toBe('mine');
  });
});

describe('versions', () => {
  it('a version read before a write never matches after it, even when the value is the same again', async () => {
    const s = await tempStore();
    await s.put('k', 'same');
    const first = await s.getEntry('k');
    await s.put('k', 'same');
    expect((await s.getEntry('k'))?.version).not.toBe(first!.version);
    expect(await s.put('k', 'other', { ifVersion: first!.version })).toBe(false);
    expect(await s.put('k', 'other', { ifValue: 'same' })).toBe(true);
  });

  it('compaction moves records under new file numbers: a version read before it fails, one read after it works, and no later write ever takes the old one', async () => {
    const s = await tempStore({ segmentBytes: 1024, flushBytes: 256 });
    await s.put('k', 'v1');
    for (let i = 0; i < 40; i++) await s.put(`filler${i % 5}`, 'x'.repeat(40));
    const before = await s.getEntry('k');
    expect((await s.compact()).compacted).toBe(true);
    const after = await s.getEntry('k');
    expect(after?.value.toString()).toBe('v1');
    expect(after?.version).not.toBe(before!.version);
    expect(await s.swap('k', 'v2', { ifVersion: before!.version })).toMatchObject({ written: false });
    // Writes after the compaction fill segments again; none of them is where the old version pointed.
    const seen = new Set([before!.version, after!.version]);
    for (let i = 0; i < 60; i++) {
      await s.put('k', 'v1');
      const now = await s.getEntry('k');
      expect(seen.has(now!.version!), `write ${i} got a version seen before`).toBe(false);
      seen.add(now!.version!);
      expect(await s.delIf('k', { ifVersion: before!.version })).toBe(false);
    }
    expect(await s.put('k', 'v3', { ifVersion: after!.version })).toBe(false);
  });

  it('a follower promoted behind its leader writes where the leader did: a version read from the leader is not taken for it', async () => {
    const leaderDir = tempDir();
    const followerDir = tempDir();
    const leader = await tempStore({}, leaderDir);
    await leader.put('cfg', 'v1');
    await leader.admin()!.replicate(followerDir);
    await leader.put('cfg', 'v2'); // the follower never gets this
    const lost = await leader.getEntry('cfg');
    await leader.close();

    const promoted = await open(followerDir);
    expect(await promoted.admin()!.promote()).toBe(true);
    await promoted.put('cfg', 'v3'); // lands where v2 did on the leader
    expect(await promoted.swap('cfg', 'v4', { ifVersion: lost!.version })).toMatchObject({ written: false });
    expect(await promoted.delIf('cfg', { ifVersion: lost!.version })).toBe(false);
    expect((await promoted.get('cfg'))?.toString()).toBe('v3');
    await promoted.close();
  });

  it('every read that returns entries carries the version: getEntry, swap, update and entries()', async () => {
    const s = await tempStore();
    await s.put('a', '1');
    await s.put('b', '2');
    const a = await s.getEntry('a');
    let current: string | undefined;
    const updated = await s.update('a', (e) => {
      current = e?.version;
      return { value: '10' };
    });
    expect(current).toBe(a!.version);
    expect(updated?.version).toBe((await s.getEntry('a'))?.version);
    const listed = new Map<string, string | undefined>();
    for await (const e of s.entries()) listed.set(e.key.toString(), e.version);
    expect(listed).toEqual(new Map([['a', updated!.version], ['b', (await s.getEntry('b'))!.version]]));
    for await (const k of s.keys()) expect(k).not.toHaveProperty('version');
  });
});

describe('bad conditions', () => {
  it.each([
    ['two conditions', { ifValue: 'a', ifVersion: '1:16:00000000' }, /give one condition/],
    ['ifAbsent with ifValue', { ifAbsent: true, ifValue: 'a' }, /give one condition/],
    ['an empty version', { ifVersion: '' }, /"" is not a version/],
    ['a version of no shape', { ifVersion: 'latest' }, /"latest" is not a version/],
    ['revision 0 (etcd\'s "no such key")', { ifVersion: '0' }, /"0" is not a version/],
    ['a version without its checksum', { ifVersion: '1:16' }, /"1:16" is not a version/],
    ['a version that is not a string', { ifVersion: 42 as unknown as string }, /number is not a version/],
  ])('%s: INVALID_ARGUMENT, nothing written', async (_what, options, message) => {
    const s = await tempStore();
    await s.put('k', 'v');
    await expect(s.swap('k', 'x', options)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    await expect(s.put('k', 'x', options)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    if (!('ifAbsent' in options)) await expect(s.delIf('k', options)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await s.get('k'))?.toString()).toBe('v');
  });

  it('delIf without a condition is refused', async () => {
    const s = await tempStore();
    await expect(s.delIf('k', {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'delIf needs ifValue or ifVersion' });
  });
});

/** A process that adds 1 to the counter `rounds` times: read, then swap ifVersion, read again when another process wrote first. */
const INCREMENTER = `
import { open } from './src/index.js';
const [dir, rounds] = process.argv.slice(2);
const store = await open(dir);
for (let i = 0; i < Number(rounds); i++) {
  for (;;) {
    const e = await store.getEntry('counter');
    const next = String(Number(e.value.toString()) + 1);
    if ((await store.swap('counter', next, { ifVersion: e.version })).written) break;
  }
}
await store.close();
`;

describe('two processes', () => {
  it('read-then-swap loops in two processes lose no increment', async () => {
    const dir = tempDir();
    const script = join(tempDir(), 'incrementer.mjs');
    buildSync({ stdin: { contents: INCREMENTER, resolveDir: ROOT, loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', outfile: script, logLevel: 'error' });
    const seed = await tempStore({}, dir);
    await seed.put('counter', '0');
    await seed.close();
    const rounds = 60;
    const run = () => promisify(execFile)(process.execPath, [script, dir, String(rounds)]);
    await Promise.all([run(), run()]);
    const s = await open(dir, { readOnly: true });
    expect((await s.get('counter'))?.toString()).toBe(String(2 * rounds));
    await s.close();
  }, 60_000);
});
