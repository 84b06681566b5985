// A region of import input parsed into puts (PackedPuts, checked-batch.ts):
// spans of the region's own bytes, each with the line it came from, so a bulk
// load makes no object per line. One PackedInput is reused from region to
// region; its arrays grow to the most lines a region held.

import type { PackedPuts } from '../checked-batch.js';
import { grown } from '../format/bytes.js';

const INITIAL_ENTRIES = 1024;

export class PackedInput implements PackedPuts {
  bytes: Buffer = Buffer.alloc(0);
  count = 0;
  keyStart = new Uint32Array(INITIAL_ENTRIES);
  keyEnd = new Uint32Array(INITIAL_ENTRIES);
  valueStart = new Uint32Array(INITIAL_ENTRIES);
  valueEnd = new Uint32Array(INITIAL_ENTRIES);
  expiresAt = new Float64Array(INITIAL_ENTRIES);
  /** The input line of each put, counted from 1. */
  lines = new Float64Array(INITIAL_ENTRIES);
  /** Entries of this region left out because their expiry had passed. */
  expired = 0;

  constructor(
    /** Put before every key (a bucket's). */
    readonly prefix: Buffer,
  ) {}

  /** Starts over on a new region. */
  reset(bytes: Buffer): void {
    this.bytes = bytes;
    this.count = 0;
    this.expired = 0;
  }

  /** Adds the put of key bytes[keyStart, keyEnd) and value bytes[valueStart, valueEnd) from `line`; expiresAt 0 is never. */
  push(line: number, keyStart: number, keyEnd: number, valueStart: number, valueEnd: number, expiresAt: number): void {
    const i = this.count;
    if (i === this.keyStart.length) this.grow();
    this.keyStart[i] = keyStart;
    this.keyEnd[i] = keyEnd;
    this.valueStart[i] = valueStart;
    this.valueEnd[i] = valueEnd;
    this.expiresAt[i] = expiresAt;
    this.lines[i] = line;
    this.count = i + 1;
  }

  private grow(): void {
    const n = this.keyStart.length * 2;
    this.keyStart = grown(this.keyStart, n);
    this.keyEnd = grown(this.keyEnd, n);
    this.valueStart = grown(this.valueStart, n);
    this.valueEnd = grown(this.valueEnd, n);
    this.expiresAt = grown(this.expiresAt, n);
    this.lines = grown(this.lines, n);
  }
}
