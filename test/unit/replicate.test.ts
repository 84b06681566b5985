import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/api.js';
import { open } from '../../src/index.js';
import { DirectoryTarget } from '../../src/replication/target.js';
import { realProcesses } from '../../src/io/processes.js';
import { FakeProcesses } from '../helpers/fake-processes.js';
import { tempDir, tempStore } from '../helpers/temp-store.js';

/** Pids the fake process table says run, and do not. */
const LIVE = 4_000_001;
const DEAD = 4_000_002;

async function dump(s: Store) {
  const out: Array<[string, string, number | null]> = [];
  for await (const e of s.entries()) out.push([e.key.toString('hex'), e.value.toString('hex'), e.expiresAt]);
  return out;
}

describe('replicate to a directory follower', () => {
  it('copies a consistent cut, then ships only what changed, and followers refuse writes', async () => {
    const leader = await tempStore({ segmentBytes: 8192, flushBytes: 1024 });
    for (let i = 0; i < 300; i++) await leader.put(`k${i}`, Buffer.from([i & 255, 0, 255]), i % 3 ? {} : { expiresAt: 4_000_000_000_000 + i });
    const dir = join(tempDir(), 'follower');
    const first = await leader.admin()!.replicate(dir);
    expect(first.initial).toBe(true);
    expect(first.filesShipped).toBeGreaterThanOrEqual(2);
    const follower = await open(dir, { readOnly: true });
    expect(await dump(follower)).toEqual(await dump(leader));
    expect((await follower.verify()).problems).toEqual([]);

    await leader.put('k5', 'changed');
    await leader.del('k6');
    const second = await leader.admin()!.replicate(dir);
    expect(second.initial).toBe(false);
    expect(second.bytesShipped).toBeLessThan(first.bytesShipped / 4);
    expect(await dump(follower)).toEqual(await dump(leader));

    const again = await leader.admin()!.replicate(dir);
    expect(again.bytesShipped).toBeLessThan(2048); // at most the follower's unindexed tail is re-sent

    const writable = await open(dir);
    await expect(writable.put('x', 'y')).rejects.toMatchObject({ code: 'READ_ONLY', message: expect.stringContaining('follower') });
    expect(await writable.admin()!.promote()).toBe(true);
    expect(await writable.put('x', 'y')).toBe(true);
    await expect(leader.admin()!.replicate(dir)).rejects.toMatchObject({ code: 'NOT_A_STORE' });
  });

  it('after a leader compaction the follower drops obsolete files and stays identical', async () => {
    const leader = await tempStore({ segmentBytes: 4096, flushBytes: 512 });
    for (let i = 0; i < 200; i++) await leader.put(`k${i % 50}`, `v${i}`);
    const dir = tempDir();
    await leader.admin()!.replicate(dir);
    await leader.compact();
    const r = await leader.admin()!.replicate(dir);
    expect(r.filesRemoved).toBeGreaterThan(0);
    const follower = await open(dir, { readOnly: true });
    expect(await dump(follower)).toEqual(await dump(leader));
    const leaderFiles = readdirSync(leader.location).filter((f) => /\.(tzds|tzix)$/.test(f)).sort();
    expect(readdirSync(dir).filter((f) => /\.(tzds|tzix)$/.test(f)).sort()).toEqual(leaderFiles);
    expect((await follower.verify()).problems).toEqual([]);
  });

  it('refuses a target that is an independent store, or a directory of other files', async () => {
    const leader = await tempStore();
    await leader.put('a', 'b');
    const other = await tempStore();
    await other.put('c', 'd');
    await expect(leader.admin()!.replicate(other.location)).rejects.toMatchObject({ code: 'NOT_A_STORE', message: expect.stringContaining('independent') });
    const junk = tempDir();
    writeFileSync(join(junk, 'notes.txt'), 'x');
    await expect(leader.admin()!.replicate(junk)).rejects.toMatchObject({ code: 'NOT_A_STORE' });
    expect(readFileSync(join(junk, 'notes.txt'), 'utf8')).toBe('x');
  });
});

describe('a follower changed on its own', () => {
  async function setUp() {
    const leader = await tempStore({ segmentBytes: 4096, flushBytes: 1024 });
    for (let i = 0; i < 200; i++) await leader.put(`k${i}`, `value ${i}`);
    const dir = join(tempDir(), 'follower');
    await leader.admin()!.replicate(dir);
    const sealed = readdirSync(dir).filter((n) => n.endsWith('.tzds')).sort()[0];
    return { leader, dir, sealed };
  }

  it('a file edited in place at the same size is found by its fingerprint and shipped whole again', async () => {
    const { leader, dir, sealed } = await setUp();
    const path = join(dir, sealed);
    const bytes = readFileSync(path);
    bytes[100] ^= 0xff;
    writeFileSync(path, bytes);
    const report = await leader.admin()!.replicate(dir);
    expect(report.resynced).toEqual([sealed]);
    expect(report.bytesShipped).toBeGreaterThanOrEqual(bytes.length);
    const follower = await open(dir, { readOnly: true });
    expect(await dump(follower)).toEqual(await dump(leader));
    expect((await follower.verify()).problems).toEqual([]);
    expect((await leader.admin()!.replicate(dir)).resynced).toEqual([]);
  });

  it('damage that left no trace in the fingerprint is found by --check, and only then', async () => {
    const { leader, dir, sealed } = await setUp();
    const path = join(dir, sealed);
    const bytes = readFileSync(path);
    bytes[100] ^= 0xff;
    writeFileSync(path, bytes);
    // Forge the fingerprint the last replicate recorded, as bit rot would leave it.
    const { decodeManifest, encodeManifest } = await import('../../src/format/manifest.js');
    const { realFs, replaceFile } = await import('../../src/io/fs.js');
    const m = decodeManifest(readFileSync(join(dir, 'MANIFEST')));
    const mark = m.follower!;
    mark.files![sealed] = new DirectoryTarget(realFs, dir, realProcesses).fingerprint(sealed)!;
    replaceFile(realFs, dir, 'MANIFEST', encodeManifest(m));
    expect((await leader.admin()!.replicate(dir)).resynced).toEqual([]);
    const checked = await leader.admin()!.replicate(dir, { check: true });
    expect(checked.resynced).toEqual([sealed]);
    expect(checked.checkedBytes).toBeGreaterThan(0);
    const follower = await open(dir, { readOnly: true });
    expect(await dump(follower)).toEqual(await dump(leader));
    expect((await follower.verify()).problems).toEqual([]);
  });

  it('the leader lists its followers and when each caught up', async () => {
    const { leader, dir } = await setUp();
    const other = join(tempDir(), 'second');
    await leader.admin()!.replicate(other);
    await leader.put('late', 'write');
    const stats = await leader.stats();
    expect(stats.followers.map((f) => f.location).sort()).toEqual([dir, other].sort());
    for (const f of stats.followers) {
      expect(Date.parse(f.replicatedAt)).toBeGreaterThan(0);
      expect(f.generation).toBeLessThanOrEqual(Number(stats.details.generation));
    }
  });
});

describe("a replicate's cleanup of the follower", () => {
  it("keeps a running process's VERIFIED.PID.tmp and LOCK.TOKEN.tmp there, and removes a dead one's", async () => {
    const processes = new FakeProcesses().start(LIVE);
    const leader = await tempStore({ processes });
    await leader.put('a', '1');
    const dir = join(tempDir(), 'follower');
    await leader.admin()!.replicate(dir);
    const holder = (pid: number, token: string) =>
      JSON.stringify({ pid, host: processes.host(), startTime: processes.startTime(pid), acquiredAt: new Date().toISOString(), command: 'tzkv verify', token }) + '\n';
    writeFileSync(join(dir, `VERIFIED.${LIVE}.tmp`), '{}\n');
    writeFileSync(join(dir, `VERIFIED.${DEAD}.tmp`), '{}\n');
    writeFileSync(join(dir, 'LOCK.0a0a0a0a.tmp'), holder(LIVE, '0a0a0a0a'));
    writeFileSync(join(dir, 'LOCK.0b0b0b0b.tmp'), holder(DEAD, '0b0b0b0b'));
    await leader.put('b', '2');
    const report = await leader.admin()!.replicate(dir);
    const left = readdirSync(dir);
    expect(left).toContain(`VERIFIED.${LIVE}.tmp`);
    expect(left).toContain('LOCK.0a0a0a0a.tmp');
    expect(left).not.toContain(`VERIFIED.${DEAD}.tmp`);
    expect(left).not.toContain('LOCK.0b0b0b0b.tmp');
    expect(report.filesRemoved).toBe(2);
  });
});
