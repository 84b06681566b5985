// TtlList's sorts (the census's TTL lists, docs/format.md "TTL section"): the
// radix sort, the chunks merged for a long list, and the chunks a compaction
// spills to a scratch file order (expiresAt, length) pairs exactly as a plain
// comparison sort does.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SORT_CHUNK, TtlList } from '../../src/engine/runs/ttl-list.js';
import { SpillingTtlList } from '../../src/engine/runs/ttl-spill.js';
import { realFs } from '../../src/io/fs.js';
import { seededRandom } from '../helpers/fault-fs.js';
import { tempDir } from '../helpers/temp-store.js';

function randomList(n: number, seed: number): TtlList {
  const rng = seededRandom(seed);
  const list = new TtlList(16);
  const base = 1_800_000_000_000;
  for (let i = 0; i < n; i++) {
    // Few distinct times and lengths, so ties are common; now and then a time near 2^53.
    const exp = rng() < 0.001 ? 2 ** 53 - 1 - Math.floor(rng() * 1000) : base + Math.floor(rng() * 5000) * 1000;
    list.push(exp, 20 + Math.floor(rng() * 300));
  }
  return list;
}

function sortedCopy(list: TtlList): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < list.length; i++) pairs.push([list.exp[i], list.len[i]]);
  return pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

describe('TtlList.sort', () => {
  for (const n of [3, 4096, 70_000, 2 * SORT_CHUNK + 12_345]) {
    it(`orders ${n} pairs by expiry, then length, keeping every pair`, () => {
      const list = randomList(n, n);
      const want = sortedCopy(list);
      list.sort();
      expect(list.length).toBe(n);
      let mismatch = -1;
      for (let i = 0; i < n && mismatch < 0; i++) if (list.exp[i] !== want[i][0] || list.len[i] !== want[i][1]) mismatch = i;
      expect(mismatch).toBe(-1);
    }, 60_000);
  }

  it('sortedBatches yields the same order without sorting the whole list at once', () => {
    const n = 2 * SORT_CHUNK + 999;
    const list = randomList(n, 7);
    const want = sortedCopy(list);
    let i = 0;
    let mismatch = -1;
    for (const b of list.sortedBatches(50_000)) {
      for (let j = 0; j < b.n; j++, i++) if (mismatch < 0 && (b.exp[j] !== want[i][0] || b.len[j] !== want[i][1])) mismatch = i;
    }
    expect([i, mismatch]).toEqual([n, -1]);
  }, 60_000);
});

describe('SpillingTtlList', () => {
  it('spills sorted chunks to its scratch file and reads them back merged, in order, then deletes the file', () => {
    const source = randomList(25_000, 3);
    const want = sortedCopy(source);
    const path = join(tempDir(), 'compact-1-00000009.ttl.tmp');
    const list = new SpillingTtlList(realFs, path, 4000);
    for (let i = 0; i < source.length; i++) list.push(source.exp[i], source.len[i]);
    expect(existsSync(path), 'spilled').toBe(true);
    let i = 0;
    let mismatch = -1;
    for (const b of list.sortedBatches(3000)) {
      for (let j = 0; j < b.n; j++, i++) if (mismatch < 0 && (b.exp[j] !== want[i][0] || b.len[j] !== want[i][1])) mismatch = i;
    }
    expect([list.length, i, mismatch]).toEqual([25_000, 25_000, -1]);
    list.dispose();
    expect(existsSync(path)).toBe(false);
  });
});
