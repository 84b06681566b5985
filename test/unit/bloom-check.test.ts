// verify's bloom check (src/engine/verify/bloom-check.ts) holds no run's filter: a
// round reads the pages its keys fall in, a window at a time. Whatever the
// window, it must rule out exactly the keys a probe of the whole filter rules
// out, and skip the keys of a page whose CRC failed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BloomCheck, BloomProbe, BloomScratch, filePages } from '../../src/engine/verify/bloom-check.js';
import { bloomAdd, bloomBucket, bloomMayContain, bloomPageCount, encodeBloomPages, murmur3Pair, murmurPairSecond } from '../../src/format/bloom.js';
import { BLOOM_BUCKETS_PER_PAGE, BLOOM_BUCKET_BYTES, BLOOM_PAGE_BYTES } from '../../src/format/constants.js';
import { realFs } from '../../src/io/fs.js';
import { tempDir } from '../helpers/temp-store.js';

const ADDED = 20_000;
const key = (prefix: string, i: number) => Buffer.from(`${prefix}${i}`);

/** A filter of ADDED keys written `at` bytes into a file; returns the file and the bare filter. */
function filterFile(dir: string, at: number): { path: string; pages: number; filter: Buffer } {
  const pages = bloomPageCount(ADDED);
  const filter = Buffer.alloc(pages * BLOOM_PAGE_BYTES);
  for (let i = 0; i < ADDED; i++) bloomAdd(filter, pages, key('in', i));
  const path = join(dir, 'run');
  writeFileSync(path, Buffer.concat([Buffer.alloc(at, 0xee), encodeBloomPages(filter, pages)]));
  return { path, pages, filter };
}

/** How many of the keys `check` rules out. */
function missing(check: BloomCheck, prefix: string): number {
  for (let i = 0; i < ADDED; i++) {
    const k = key(prefix, i);
    const h1 = murmur3Pair(k, 0, k.length) | 0;
    check.add(h1, murmurPairSecond);
  }
  return check.missing();
}

describe('bloom check by windows of pages', () => {
  it('rules out what a probe of the whole filter rules out, for any window, skipping damaged pages', () => {
    const dir = tempDir();
    const at = 333;
    const { path, pages, filter } = filterFile(dir, at);
    expect(pages).toBeGreaterThan(4);
    const damaged = 2;
    let outside = 0;
    let outsideKept = 0;
    for (let i = 0; i < ADDED; i++) {
      const k = key('out', i);
      const bucket = bloomBucket(k, pages);
      if (bloomMayContain(filter, bucket * BLOOM_BUCKET_BYTES, k)) continue;
      outside++;
      if (Math.floor(bucket / BLOOM_BUCKETS_PER_PAGE) !== damaged) outsideKept++;
    }
    expect(outside).toBeGreaterThan(0);
    const fd = realFs.openRead(path);
    try {
      for (const windowPages of [1, 2, 3, pages, 256]) {
        const allOk = new Uint8Array(pages).fill(1);
        const oneBad = allOk.slice();
        oneBad[damaged] = 0;
        const scratch = new BloomScratch(windowPages);
        const checkOf = (ok: Uint8Array) => new BloomCheck(new BloomProbe(filePages(realFs, fd, at, pages, scratch), ok, scratch), pages, ADDED);
        expect(missing(checkOf(allOk), 'in'), `window of ${windowPages}`).toBe(0);
        expect(missing(checkOf(allOk), 'out'), `window of ${windowPages}`).toBe(outside);
        expect(missing(checkOf(oneBad), 'out'), `window of ${windowPages}, page ${damaged} damaged`).toBe(outsideKept);
      }
    } finally {
      realFs.close(fd);
    }
  });
});
