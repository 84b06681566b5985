// verify's check that every key of a run is in the run's bloom filter. A
// probe per key in key order touches a random bucket of a filter that can be
// megabytes: one cache miss a key. So the walk only records each key's
// bucket and second hash (BloomCheck); they are then grouped by page (a
// counting sort) and checked page by page, each page staying in cache for all
// its keys (BloomProbe). At most CHECK_KEYS keys are held: a run of more is
// checked in as many rounds. On one thread the filter is not held: a round
// reads the pages its keys fall in, a window of WINDOW_PAGES at a time, so the
// runs of a walk hold their recorded keys and share one window. With two
// threads the worker runs both parts, over the leaf blocks and filter pages
// the main thread sends it, and holds the filters (verify-worker-thread.ts).
import type { KeyObject } from 'node:crypto';
import { SEALED_PAGE_STRIDE, openPage } from '../../format/seal.js';
import { BLOOM_BUCKETS_PER_PAGE, BLOOM_BUCKET_BYTES, BLOOM_PAGE_STRIDE, BLOOM_PROBES } from '../../format/constants.js';
import type { FileSystem } from '../../io/fs.js';

/** Keys recorded before a round of checks: 8 bytes each, and as much again while sorted by page. */
const CHECK_KEYS = 1 << 18;
/** Filter pages read at a time (1 MiB). */
const WINDOW_PAGES = 256;
const NO_PAGES: Buffer = Buffer.alloc(0);

/**
 * What a round works in, shared by the checks of one walk (their rounds never
 * overlap): the keys sorted by page, and the window of filter pages.
 */
export class BloomScratch {
  sortedBucket = new Uint32Array(0);
  sortedH2 = new Int32Array(0);
  private pagesWindow: Buffer | null = null;
  private openedWindow: Buffer | null = null;

  /** `windowPages`: filter pages read at a time (tests). */
  constructor(readonly windowPages = WINDOW_PAGES) {}

  /** The window of filter pages; made on first use (the worker, which holds its filters, has none). */
  get window(): Buffer {
    // Room for the pages of an encrypted run too, whose stride is the larger (docs/format.md "Index runs, version 2").
    return (this.pagesWindow ??= Buffer.allocUnsafe(this.windowPages * SEALED_PAGE_STRIDE));
  }

  /** A window of an encrypted run's pages opened, laid out as plain pages (BLOOM_PAGE_STRIDE each), for the worker. */
  get opened(): Buffer {
    return (this.openedWindow ??= Buffer.allocUnsafe(this.windowPages * BLOOM_PAGE_STRIDE));
  }
}

/** Where the walk records each key of a run by its two bloom hashes; after the walk, how many of them the filter rules out. */
export interface KeyProbe {
  add(h1: number, h2: number): void;
  missing(): number;
}

/**
 * Where a round finds a run's filter pages: `load(first)` returns a buffer
 * holding page `first` at its start and as many whole pages after it as the
 * source gives at a time (each BLOOM_PAGE_STRIDE bytes, its CRC last). The
 * buffer is valid until the next call.
 */
export interface FilterPages {
  load(first: number): Buffer;
}

/** The pages of a filter at `offset` in an open file, read a window of `scratch` at a time; `fd` stays open while they are used. */
export function filePages(fs: FileSystem, fd: number, offset: number, pages: number, scratch: BloomScratch): FilterPages {
  return {
    load(first) {
      const count = Math.min(scratch.windowPages, pages - first);
      fs.read(fd, scratch.window, 0, count * BLOOM_PAGE_STRIDE, offset + first * BLOOM_PAGE_STRIDE);
      return scratch.window.subarray(0, count * BLOOM_PAGE_STRIDE);
    },
  };
}

/**
 * The pages of an encrypted run's filter (sealed, SEALED_PAGE_STRIDE each) at
 * `offset`, opened with `key` into the window as plain pages at
 * BLOOM_PAGE_STRIDE, as filePages lays them out. A page whose CRC or tag
 * fails is left as it is: openRun marked it not ok, and its keys are not probed.
 */
export function openedPages(fs: FileSystem, fd: number, offset: number, pages: number, scratch: BloomScratch, key: KeyObject): FilterPages {
  const sealed = Buffer.allocUnsafe(SEALED_PAGE_STRIDE);
  return {
    load(first) {
      const count = Math.min(scratch.windowPages, pages - first);
      const window = scratch.window;
      for (let i = 0; i < count; i++) {
        fs.read(fd, sealed, 0, SEALED_PAGE_STRIDE, offset + (first + i) * SEALED_PAGE_STRIDE);
        openPage(sealed, first + i, key)?.copy(window, i * BLOOM_PAGE_STRIDE);
      }
      return window.subarray(0, count * BLOOM_PAGE_STRIDE);
    },
  };
}

/**
 * A round: the keys sorted by page (a counting sort), then each probed in its
 * page while the page is in cache. Keys of a page whose CRC failed
 * (`pageOk[page]` 0) are not checked.
 */
export class BloomProbe {
  constructor(
    private readonly pages: FilterPages,
    private readonly pageOk: Uint8Array,
    private readonly scratch: BloomScratch,
  ) {}

  /** Checks keys [0, n) of `buckets` and `h2s`; returns how many the filter rules out. The arrays may be reused once it returns. */
  round(buckets: Uint32Array, h2s: Int32Array, n: number): number {
    const pages = this.pageOk.length;
    const starts = new Uint32Array(pages + 1);
    for (let i = 0; i < n; i++) starts[Math.floor(buckets[i] / BLOOM_BUCKETS_PER_PAGE) + 1]++;
    for (let p = 0; p < pages; p++) starts[p + 1] += starts[p];
    const at = starts.slice(0, pages);
    // Kept for the next round: arrays of megabytes allocated every round would pile up as garbage.
    const sc = this.scratch;
    if (sc.sortedBucket.length < n) {
      sc.sortedBucket = new Uint32Array(Math.max(n, buckets.length));
      sc.sortedH2 = new Int32Array(sc.sortedBucket.length);
    }
    const { sortedBucket, sortedH2 } = sc;
    for (let i = 0; i < n; i++) {
      const page = Math.floor(buckets[i] / BLOOM_BUCKETS_PER_PAGE);
      const j = at[page]++;
      sortedBucket[j] = buckets[i];
      sortedH2[j] = h2s[i];
    }
    let f = NO_PAGES;
    let first = 0;
    let end = 0; // f holds pages [first, end)
    let missing = 0;
    for (let i = 0; i < n; i++) {
      const bucket = sortedBucket[i];
      const page = Math.floor(bucket / BLOOM_BUCKETS_PER_PAGE);
      if (this.pageOk[page] !== 1) continue;
      if (page >= end) {
        f = this.pages.load(page);
        first = page;
        end = page + Math.floor(f.length / BLOOM_PAGE_STRIDE);
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

/** Records a run's keys by their two bloom hashes, CHECK_KEYS at most, and has its probe check them a round at a time. */
export class BloomCheck implements KeyProbe {
  private buckets: Uint32Array;
  private h2s: Int32Array;
  private length = 0;
  private missed = 0;
  private readonly bucketCount: number;

  /** `pages`: the filter's page count; `expected`: how many keys will be added (a hint). */
  constructor(
    private readonly probe: BloomProbe,
    pages: number,
    expected: number,
  ) {
    this.bucketCount = pages * BLOOM_BUCKETS_PER_PAGE;
    this.buckets = new Uint32Array(Math.max(16, Math.min(CHECK_KEYS, expected)));
    this.h2s = new Int32Array(this.buckets.length);
  }

  /** Records a key by its two bloom hashes. */
  add(h1: number, h2: number): void {
    if (this.length === CHECK_KEYS) {
      this.missed += this.probe.round(this.buckets, this.h2s, this.length);
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
    const missed = this.missed + this.probe.round(this.buckets, this.h2s, this.length);
    this.missed = 0;
    this.length = 0;
    return missed;
  }
}
