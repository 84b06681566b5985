// What verify's segment scan remembers of each indexed record, so the index
// walk can check entries against records by offset without reading them
// again: 17 bytes a record in typed arrays (docs/design.md "Verify").
import { BLOOM_SEED_1 } from '../../format/constants.js';
import { murmur3 } from '../../format/bloom.js';

export const REC_PUT = 1;
export const REC_REFERENCED = 2;

const TWO_32 = 0x100000000;

/**
 * A record's (or index entry's) fingerprint: the key's bloom hash mixed with
 * kind, length and expiry. Equal fingerprints mean the same key, kind, length
 * and expiry, but for a 2^-32 chance; a mismatch is re-read for its reason.
 */
export function fingerprint(keyHash: number, kind: number, length: number, expiresAt: number): number {
  let h = keyHash ^ Math.imul(kind, 0x9e3779b1) ^ Math.imul(length, 0x85ebca6b);
  h ^= Math.imul(expiresAt >>> 0, 0xc2b2ae35);
  h ^= Math.imul((expiresAt / TWO_32) >>> 0, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return (h ^ (h >>> 12)) | 0;
}

/** The key hash a fingerprint starts from (the bloom filter's first hash). */
export function keyHashOf(buf: Uint8Array, start: number, end: number): number {
  return murmur3(buf, start, end, BLOOM_SEED_1) | 0;
}

/** The valid PUT and DEL records of one segment's indexed part, in log order. */
export class RecordTable {
  offsets: Float64Array;
  prints: Int32Array;
  keyHashes: Int32Array;
  flags: Uint8Array;
  length = 0;
  /** Where the last find() landed: entries that follow log order are found in O(1). */
  private cursor = 0;

  constructor(capacity = 1024) {
    this.offsets = new Float64Array(capacity);
    this.prints = new Int32Array(capacity);
    this.keyHashes = new Int32Array(capacity);
    this.flags = new Uint8Array(capacity);
  }

  push(offset: number, print: number, keyHash: number, put: boolean): void {
    if (this.length === this.offsets.length) this.grow();
    const i = this.length++;
    this.offsets[i] = offset;
    this.prints[i] = print;
    this.keyHashes[i] = keyHash;
    this.flags[i] = put ? REC_PUT : 0;
  }

  private grow(): void {
    const n = this.offsets.length * 2;
    const offsets = new Float64Array(n);
    offsets.set(this.offsets);
    const prints = new Int32Array(n);
    prints.set(this.prints);
    const keyHashes = new Int32Array(n);
    keyHashes.set(this.keyHashes);
    const flags = new Uint8Array(n);
    flags.set(this.flags);
    this.offsets = offsets;
    this.prints = prints;
    this.keyHashes = keyHashes;
    this.flags = flags;
  }

  /** Index of the record starting at `offset`, or -1. */
  find(offset: number): number {
    const o = this.offsets;
    const c = this.cursor;
    if (c < this.length && o[c] === offset) return c;
    if (c + 1 < this.length && o[c + 1] === offset) return (this.cursor = c + 1);
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = o[mid];
      if (v === offset) return (this.cursor = mid);
      if (v < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
