// The blocked bloom filter of an index run (docs/format.md "Bloom filter").
import type { KeyObject } from 'node:crypto';
import { ViewOf, crc32 } from './bytes.js';
import {
  BLOOM_BITS_PER_KEY,
  BLOOM_BUCKET_BYTES,
  BLOOM_BUCKETS_PER_PAGE,
  BLOOM_PAGE_BYTES,
  BLOOM_PAGE_STRIDE,
  BLOOM_PROBES,
  BLOOM_SEED_1,
  BLOOM_SEED_2,
} from './constants.js';
import { SEALED_PAGE_STRIDE, sealPage } from './seal.js';

/** MurmurHash3's scrambling of one 32-bit block. */
function scramble(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}

/** MurmurHash3's mixing of a block into the state. */
function mix(h: number, k: number): number {
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finalization. */
function finish(h: number, len: number): number {
  return finishBits(h, len) >>> 0;
}

/** finish's bits as an int32: what the hash functions hand each other (an unsigned number past 2^31 leaving a function is a heap number). */
function finishBits(h: number, len: number): number {
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** The bytes after the last whole block, as MurmurHash3 folds them in (0 when none). */
function tail(buf: Uint8Array, i: number, rest: number): number {
  let k = 0;
  if (rest === 3) k ^= buf[i + 2] << 16;
  if (rest >= 2) k ^= buf[i + 1] << 8;
  k ^= buf[i];
  return scramble(k);
}

/** MurmurHash3 x86 32-bit of buf[start, end). */
export function murmur3(buf: Uint8Array, start: number, end: number, seed: number): number {
  let h = seed >>> 0;
  const len = end - start;
  const blocksEnd = start + (len & ~3);
  let i = start;
  for (; i < blocksEnd; i += 4) h = mix(h, scramble(buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24)));
  if ((len & 3) > 0) h ^= tail(buf, i, len & 3);
  return finish(h, len);
}

/** The second hash of the last murmur3Pair call. */
export let murmurPairSecond = 0;

/**
 * murmur3 of buf[start, end) with the two bloom seeds in one pass over the
 * bytes: returns the first hash, leaves the second in murmurPairSecond.
 */
export function murmur3Pair(buf: Uint8Array, start: number, end: number): number {
  murmurPairBits(buf, null, start, end, pair);
  murmurPairSecond = pair[1] >>> 0;
  return pair[0] >>> 0;
}

const pair = new Int32Array(2);

/**
 * murmur3Pair's hashes as int32 bits, into hashes[0] (first seed) and
 * hashes[1] (second). `view`, a DataView of buf, reads a block as one word:
 * for a caller that hashes many keys of one buffer (an index run's output);
 * null reads bytes (verify hashes keys of buffers in turn).
 */
function murmurPairBits(buf: Uint8Array, view: DataView | null, start: number, end: number, hashes: Int32Array): void {
  let h = BLOOM_SEED_1;
  let g = BLOOM_SEED_2;
  const len = end - start;
  const blocksEnd = start + (len & ~3);
  let i = start;
  for (; i < blocksEnd; i += 4) {
    const k = scramble(view ? view.getInt32(i, true) : buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
    h = mix(h, k);
    g = mix(g, k);
  }
  if ((len & 3) > 0) {
    const k = tail(buf, i, len & 3);
    h ^= k;
    g ^= k;
  }
  hashes[0] = finishBits(h, len);
  hashes[1] = finishBits(g, len);
}

export function bloomPageCount(entries: number): number {
  return Math.max(1, Math.ceil((entries * BLOOM_BITS_PER_KEY) / (BLOOM_PAGE_BYTES * 8)));
}

/** Which bucket (across all pages) a key falls in. */
export function bloomBucket(key: Uint8Array, pages: number): number {
  return murmur3(key, 0, key.length, BLOOM_SEED_1) % (pages * BLOOM_BUCKETS_PER_PAGE);
}

/** Sets the key's bits. `filter` is the pages' filter bytes without CRCs (pages * 4096). */
export function bloomAdd(filter: Uint8Array, pages: number, key: Uint8Array): void {
  setBits(filter, (murmur3Pair(key, 0, key.length) % (pages * BLOOM_BUCKETS_PER_PAGE)) * BLOOM_BUCKET_BYTES, murmurPairSecond);
}

/** Sets the BLOOM_PROBES bits the second hash `h` (its 32 bits, signed or not) picks in the bucket at filter[base, base + 64). */
function setBits(filter: Uint8Array, base: number, h: number): void {
  const delta = ((h >>> 17) | (h << 15)) >>> 0;
  for (let i = 0; i < BLOOM_PROBES; i++) {
    const bit = h & 511;
    filter[base + (bit >>> 3)] |= 1 << (bit & 7);
    h = (h + delta) >>> 0;
  }
}

/** Keys a BloomBuilder hashes before it sets their bits. */
const BUILDER_BATCH = 65536;

/**
 * Builds the filter of `pages` pages of many keys (an index run's): the same
 * bits as bloomAdd, set a batch of keys at a time, page by page. A key's
 * bucket is anywhere in the filter (a cache miss for each key once the filter
 * outgrows the cache); sorted by page, a batch's keys set their bits in one
 * page after another.
 */
export class BloomBuilder {
  /** The pages' filter bytes without CRCs (pages × 4096): complete once finish() returns. */
  readonly filter: Buffer;
  private readonly buckets = new Int32Array(BUILDER_BATCH);
  private readonly seconds = new Int32Array(BUILDER_BATCH);
  private readonly order = new Int32Array(BUILDER_BATCH);
  private readonly hashes = new Int32Array(2);
  /** The buffer the keys are in: a run writer's output, the same one key after key. */
  private readonly views = new ViewOf();
  /** Keys of the batch per page, then where each page's keys go in `order`. */
  private readonly perPage: Int32Array;
  private n = 0;

  constructor(readonly pages: number) {
    this.filter = Buffer.alloc(pages * BLOOM_PAGE_BYTES);
    this.perPage = new Int32Array(pages + 1);
  }

  /** Adds the key bytes buf[start, end). */
  add(buf: Uint8Array, start: number, end: number): void {
    const n = this.n;
    const hashes = this.hashes;
    murmurPairBits(buf, this.views.of(buf), start, end, hashes);
    this.buckets[n] = (hashes[0] >>> 0) % (this.pages * BLOOM_BUCKETS_PER_PAGE);
    this.seconds[n] = hashes[1];
    if ((this.n = n + 1) === BUILDER_BATCH) this.setBatch();
  }

  /** Sets the bits of every key added: the filter is complete. */
  finish(): Buffer {
    this.setBatch();
    return this.filter;
  }

  /** Sets the bits of the batch's keys, page by page (a counting sort of the keys by page). */
  private setBatch(): void {
    const { buckets, seconds, order, perPage, filter, n } = this;
    perPage.fill(0);
    for (let i = 0; i < n; i++) perPage[((buckets[i] / BLOOM_BUCKETS_PER_PAGE) | 0) + 1]++;
    for (let p = 1; p <= this.pages; p++) perPage[p] += perPage[p - 1];
    for (let i = 0; i < n; i++) order[perPage[(buckets[i] / BLOOM_BUCKETS_PER_PAGE) | 0]++] = i;
    for (let j = 0; j < n; j++) {
      const i = order[j];
      setBits(filter, buckets[i] * BLOOM_BUCKET_BYTES, seconds[i]);
    }
    this.n = 0;
  }
}

/** Tests the key against one bucket's 64 bytes at bucket[start, start+64). */
export function bloomMayContain(bucket: Uint8Array, start: number, key: Uint8Array): boolean {
  let h = murmur3(key, 0, key.length, BLOOM_SEED_2);
  const delta = ((h >>> 17) | (h << 15)) >>> 0;
  for (let i = 0; i < BLOOM_PROBES; i++) {
    const bit = h & 511;
    if ((bucket[start + (bit >>> 3)] & (1 << (bit & 7))) === 0) return false;
    h = (h + delta) >>> 0;
  }
  return true;
}

/**
 * Lays the filter out as pages, each followed by its CRC; with a data key, as
 * sealed pages (docs/format.md "Index runs, version 2": SEALED_PAGE_STRIDE each).
 */
export function encodeBloomPages(filter: Buffer, pages: number, key?: KeyObject): Buffer {
  if (key) {
    const sealed = Buffer.allocUnsafe(pages * SEALED_PAGE_STRIDE);
    for (let p = 0; p < pages; p++) sealPage(filter.subarray(p * BLOOM_PAGE_BYTES, (p + 1) * BLOOM_PAGE_BYTES), p, key, sealed, p * SEALED_PAGE_STRIDE);
    return sealed;
  }
  const out = Buffer.allocUnsafe(pages * BLOOM_PAGE_STRIDE);
  for (let p = 0; p < pages; p++) {
    const src = p * BLOOM_PAGE_BYTES;
    const dst = p * BLOOM_PAGE_STRIDE;
    filter.copy(out, dst, src, src + BLOOM_PAGE_BYTES);
    out.writeUInt32LE(crc32(filter, src, src + BLOOM_PAGE_BYTES), dst + BLOOM_PAGE_BYTES);
  }
  return out;
}

/** The index of the page holding `bucket`. */
export function bloomPageIndex(bucket: number): number {
  return Math.floor(bucket / BLOOM_BUCKETS_PER_PAGE);
}

/** Checks the CRC of one page read from disk (4100 bytes; a sealed one SEALED_PAGE_STRIDE, its CRC over what precedes it). */
export function bloomPageValid(page: Buffer): boolean {
  const crcAt = page.length - 4;
  return (page.length === BLOOM_PAGE_STRIDE || page.length === SEALED_PAGE_STRIDE) && crc32(page, 0, crcAt) === page.readUInt32LE(crcAt);
}

export function bucketInPage(bucket: number): number {
  return (bucket % BLOOM_BUCKETS_PER_PAGE) * BLOOM_BUCKET_BYTES;
}
