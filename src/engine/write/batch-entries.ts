// The index entries of a batch being staged (batch.ts), what its index run is
// written from (tail-run.ts): struct-of-arrays, and the keys back to back in
// one buffer, so a batch of millions of records holds no object per record
// for the garbage collector to trace or move.
import { ViewOf, compareViews, copyBytes, grown } from '../../format/bytes.js';

const INITIAL_ENTRIES = 1024;

export class BatchEntries {
  /** Entries filed; valid indexes are [0, count). */
  count = 0;
  /** Every key's bytes, back to back: key i is keyBytes[keyStarts[i], keyStarts[i + 1]). */
  keyBytes: Buffer = Buffer.allocUnsafe(INITIAL_ENTRIES * 16);
  keyStarts = new Float64Array(INITIAL_ENTRIES + 1);
  kinds = new Uint8Array(INITIAL_ENTRIES);
  /** Where each record starts, relative to the batch's first. */
  offsets = new Float64Array(INITIAL_ENTRIES);
  lengths = new Uint32Array(INITIAL_ENTRIES);
  expiries = new Float64Array(INITIAL_ENTRIES);
  /** Where each record's group (its SEAL record) starts, relative to the batch's first byte; meaningful where groupLengths is not 0. */
  groups = new Float64Array(INITIAL_ENTRIES);
  /** Each record's group length (SEAL record and records); 0: in no group (a store that is not encrypted). */
  groupLengths = new Uint32Array(INITIAL_ENTRIES);
  /** Every key was greater than the one before it (a bulk load of sorted input): they need no sort. */
  ascending = true;
  private readonly views = { source: new ViewOf(), keys: new ViewOf() };

  /** Files the entry of a record whose key is src[keyStart, keyEnd); `group`: its group's offset (its length follows: setGroupLength). */
  add(src: Buffer, keyStart: number, keyEnd: number, kind: number, offset: number, length: number, expiresAt: number, group = 0): void {
    const i = this.count;
    if (i === this.kinds.length) this.grow();
    const at = this.keyStarts[i];
    const end = at + keyEnd - keyStart;
    if (end > this.keyBytes.length) this.keyBytes = grownBytes(this.keyBytes, Math.max(end, this.keyBytes.length * 2));
    const keys = this.views.keys.of(this.keyBytes);
    copyBytes(this.views.source.of(src), keyStart, keyEnd, keys, at);
    // Compared with the key before while both are in the cache, not in a second pass.
    if (this.ascending && i > 0 && compareViews(keys, this.keyStarts[i - 1], at, keys, at, end) >= 0) this.ascending = false;
    this.keyStarts[i + 1] = end;
    this.kinds[i] = kind;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.expiries[i] = expiresAt;
    this.groups[i] = group;
    this.groupLengths[i] = 0;
    this.count = i + 1;
  }

  /** Sets the group length of entries [from, count): the records of a group just closed. */
  setGroupLength(from: number, length: number): void {
    this.groupLengths.fill(length, from, this.count);
  }

  /** Key i in its latin1 form (one char per byte). */
  key(i: number): string {
    return this.keyBytes.toString('latin1', this.keyStarts[i], this.keyStarts[i + 1]);
  }

  private grow(): void {
    const n = this.kinds.length * 2;
    this.keyStarts = grown(this.keyStarts, n + 1);
    this.kinds = grown(this.kinds, n);
    this.offsets = grown(this.offsets, n);
    this.lengths = grown(this.lengths, n);
    this.expiries = grown(this.expiries, n);
    this.groups = grown(this.groups, n);
    this.groupLengths = grown(this.groupLengths, n);
  }
}

function grownBytes(buf: Buffer, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  buf.copy(b);
  return b;
}
