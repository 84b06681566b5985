import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/api.js';
import { open } from '../../src/index.js';
import { tempDir, tempStore } from '../helpers/temp-store.js';

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
    const first = await leader.replicate(dir);
    expect(first.initial).toBe(true);
    expect(first.filesShipped).toBeGreaterThanOrEqual(2);
    const follower = await open(dir, { readOnly: true });
    expect(await dump(follower)).toEqual(await dump(leader));
    expect((await follower.verify()).problems).toEqual([]);

    await leader.put('k5', 'changed');
    await leader.del('k6');
    const second = await leader.replicate(dir);
    expect(second.initial).toBe(false);
    expect(second.bytesShipped).toBeLessThan(first.bytesShipped / 4);
    expect(await dump(follower)).toEqual(await dump(leader));

    const again = await leader.replicate(dir);
    expect(again.bytesShipped).toBeLessThan(2048); // at most the follower's unindexed tail is re-sent

    const writable = await open(dir);
    await expect(writable.put('x', 'y')).rejects.toMatchObject({ code: 'READ_ONLY', message: expect.stringContaining('follower') });
    expect(await writable.promote()).toBe(true);
    expect(await writable.put('x', 'y')).toBe(true);
    await expect(leader.replicate(dir)).rejects.toMatchObject({ code: 'NOT_A_STORE' });
  });

  it('after a leader compaction the follower drops obsolete files and stays identical', async () => {
    const leader = await tempStore({ segmentBytes: 4096, flushBytes: 512 });
    for (let i = 0; i < 200; i++) await leader.put(`k${i % 50}`, `v${i}`);
    const dir = tempDir();
    await leader.replicate(dir);
    await leader.compact();
    const r = await leader.replicate(dir);
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
    await expect(leader.replicate(other.location)).rejects.toMatchObject({ code: 'NOT_A_STORE', message: expect.stringContaining('independent') });
    const junk = tempDir();
    writeFileSync(join(junk, 'notes.txt'), 'x');
    await expect(leader.replicate(junk)).rejects.toMatchObject({ code: 'NOT_A_STORE' });
    expect(readFileSync(join(junk, 'notes.txt'), 'utf8')).toBe('x');
  });
});
