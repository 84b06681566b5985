// verify's check that every key of a run is in the run's bloom filter. A
// probe per key in key order touches a random bucket of a filter that can be
// megabytes: one cache miss a key. So the walk only records each key's
// bucket and second hash; they are then grouped by page (a counting sort)
// and checked page by page, each page staying in cache for all its keys. At
// most CHECK_KEYS keys are held: a run of more is checked in as many rounds.
// The filter is not held: a round reads the pages its keys fall in, a
// window of WINDOW_PAGES at a time, so the runs of a walk hold their recorded
// keys and share one window.
import { BLOOM_BUCKETS_PER_PAGE, BLOOM_BUCKET_BYTES, BLOOM_PAGE_STRIDE, BLOOM_PROBES } from '../../format/constants.js';
import type { FileSystem } from '../../io/fs.js';

/** Keys recorded before a round of checks: 8 bytes each, and as much again while sorted by page. */
const CHECK_KEYS = 1 << 18;
/** Filter pages read at a time (1 MiB). */
const WINDOW_PAGES = 256;

/**
 * What a round works in, shared by the checks of one walk (their rounds never
 * overlap): the keys sorted by page, and the window of filter pages.
 */
export class BloomScratch {
  sortedBucket = new Uint32Array(0);
  sortedH2 = new Int32Array(0);
  readonly window: Buffer;

  /** `windowPages`: filter pages read at a time (tests). */
  constructor(readonly windowPages = WINDOW_PAGES) {
    this.window = Buffer.allocUnsafe(windowPages * BLOOM_PAGE_STRIDE);
  }
}

/** Where a run's filter is: `fd` stays open while the check is used. */
interface BloomSource {
  fs: FileSystem;
  fd: number;
  /** Where the filter's first page starts in the file. */
  offset: number;
}

export class BloomCheck {
  private buckets: Uint32Array;
  private h2s: Int32Array;
  private length = 0;
  private missed = 0;
  private readonly bucketCount: number;

  /** `source`: the pages with their CRCs; `pageOk[i]` 0 for a damaged page (its keys are not checked). */
  constructor(
    private readonly source: BloomSource,
    private readonly pageOk: Uint8Array,
    expected: number,
    private readonly scratch: BloomScratch,
  ) {
    this.bucketCount = pageOk.length * BLOOM_BUCKETS_PER_PAGE;
    this.buckets = new Uint32Array(Math.max(16, Math.min(CHECK_KEYS, expected)));
    this.h2s = new Int32Array(this.buckets.length);
  }

  /** Records a key by its two bloom hashes. */
  add(h1: number, h2: number): void {
    if (this.length === CHECK_KEYS) {
      this.missed += this.round();
      this.length = 0;
    }
    if (this.length === this.buckets.length) {
      const b = new Uint32Array(Math.min(this.length * 2, CHECK_KEYS));
      b.set(this.buckets);
      this.buckets = b;
      const h = new Int32Array(b.length);
      h.set(this.h2s);
      this.h2s = h;
    }
    this.buckets[this.length] = (h1 >>> 0) % this.bucketCount;
    this.h2s[this.length++] = h2;
  }

  /** How many recorded keys the filter rules out. */
  missing(): number {
    const missed = this.missed + this.round();
    this.missed = 0;
    this.length = 0;
    return missed;
  }

  /** Checks the keys recorded since the last round. */
  private round(): number {
    const n = this.length;
    const pages = this.pageOk.length;
    const starts = new Uint32Array(pages + 1);
    for (let i = 0; i < n; i++) starts[Math.floor(this.buckets[i] / BLOOM_BUCKETS_PER_PAGE) + 1]++;
    for (let p = 0; p < pages; p++) starts[p + 1] += starts[p];
    const at = starts.slice(0, pages);
    // Kept for the next round: arrays of megabytes allocated every round would pile up as garbage.
    const sc = this.scratch;
    if (sc.sortedBucket.length < n) {
      sc.sortedBucket = new Uint32Array(Math.max(n, this.buckets.length));
      sc.sortedH2 = new Int32Array(sc.sortedBucket.length);
    }
    const { sortedBucket, sortedH2 } = sc;
    for (let i = 0; i < n; i++) {
      const page = Math.floor(this.buckets[i] / BLOOM_BUCKETS_PER_PAGE);
      const j = at[page]++;
      sortedBucket[j] = this.buckets[i];
      sortedH2[j] = this.h2s[i];
    }
    const f = sc.window;
    const { fs, fd, offset } = this.source;
    let first = 0;
    let end = 0; // the window holds pages [first, end)
    let missing = 0;
    for (let i = 0; i < n; i++) {
      const bucket = sortedBucket[i];
      const page = Math.floor(bucket / BLOOM_BUCKETS_PER_PAGE);
      if (this.pageOk[page] !== 1) continue;
      if (page >= end) {
        first = page;
        end = Math.min(pages, page + sc.windowPages);
        fs.read(fd, f, 0, (end - first) * BLOOM_PAGE_STRIDE, offset + first * BLOOM_PAGE_STRIDE);
      }
      const base = (page - first) * BLOOM_PAGE_STRIDE + (bucket % BLOOM_BUCKETS_PER_PAGE) * BLOOM_BUCKET_BYTES;
      let h = sortedH2[i] >>> 0;
      const delta = ((h >>> 17) | (h << 15)) >>> 0;
      for (let k = 0; k < BLOOM_PROBES; k++) {
        const bit = h & 511;
        if ((f[base + (bit >>> 3)] & (1 << (bit & 7))) === 0) {
          missing++;
          break;
        }
        h = (h + delta) >>> 0;
      }
    }
    return missing;
  }
}
