// Lookups of keys in ascending order across the index runs, as a flush and
// stats weigh a sorted set of entries for the census (docs/design.md
// "Census"). Each run keeps the leaf it last read, its branch blocks and the
// bloom pages it has checked, so keys that share a leaf cost one block read
// and keys the bloom filter rules out cost no read after the first on a page.
import { bloomBucket, bloomMayContain, bloomPageIndex, bucketInPage } from '../../format/bloom.js';
import type { BranchEntry, IndexEntry } from '../../format/index-block.js';
import type { RunInfo } from '../../format/manifest.js';
import type { RunReader } from './run-reader.js';
import { keyRange } from './run-range.js';

const scratch = Buffer.allocUnsafe(1024);

class RunProbe {
  /** The leaf last read: its entries and their keys as latin1 strings (compared as bytes). */
  private leaf: IndexEntry[] = [];
  private leafKeys: string[] = [];
  private readonly branches = new Map<number, BranchEntry[]>();
  private readonly bloomPages = new Map<number, Buffer>();
  /** The run's key range in latin1 form, opened at the first lookup (an encrypted store's needs the key: a probe never asked needs none). */
  private range: { min: string; max: string } | undefined;

  constructor(
    private readonly run: RunReader,
    private readonly info: RunInfo,
  ) {}

  private outside(key: string): boolean {
    if (this.info.entries === 0) return true;
    if (this.range === undefined) {
      const r = keyRange(this.info, this.run.codec, this.run.dir);
      this.range = { min: r.min.toString('latin1'), max: r.max.toString('latin1') };
    }
    return key < this.range.min || key > this.range.max;
  }

  /** `key` in latin1 form. REQUIRES: keys asked in ascending order. */
  find(key: string): IndexEntry | undefined {
    let keys = this.leafKeys;
    if (keys.length === 0 || key > keys[keys.length - 1]) {
      if (this.outside(key)) return undefined;
      const n = scratch.write(key, 0, 'latin1');
      const bytes = scratch.subarray(0, n);
      if (!this.mayContain(bytes)) return undefined;
      const leaf = this.run.leafFor(Buffer.from(bytes), (offset, length) => this.branchAt(offset, length))?.entries ?? [];
      this.leaf = leaf;
      this.leafKeys = keys = leaf.map((e) => e.key.toString('latin1'));
    }
    let lo = 0;
    let hi = keys.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid];
      if (k === key) return this.leaf[mid];
      if (k < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  private mayContain(key: Buffer): boolean {
    const bucket = bloomBucket(key, this.run.header.bloomPages);
    const index = bloomPageIndex(bucket);
    let page = this.bloomPages.get(index);
    if (!page) {
      page = this.run.bloomPage(index);
      this.bloomPages.set(index, page);
    }
    return bloomMayContain(page, bucketInPage(bucket), key);
  }

  private branchAt(offset: number, length: number): BranchEntry[] {
    let children = this.branches.get(offset);
    if (!children) {
      children = this.run.branchAt(offset, length);
      this.branches.set(offset, children);
    }
    return children;
  }
}

/** The newest entry of each key, asked in ascending key order, across runs (newest first). */
export function sortedLookup(runs: RunInfo[], reader: (i: number) => RunReader): (key: string) => IndexEntry | undefined {
  const probes = runs.map((info, i) => new RunProbe(reader(i), info));
  return (key) => {
    for (const p of probes) {
      const e = p.find(key);
      if (e) return e;
    }
    return undefined;
  };
}
