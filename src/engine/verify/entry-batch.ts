// The index entries verify's record join files for one partition of spilled
// record tables (record-join.ts): columns as they go to the scratch file.
/** Index entries buffered per partition before they are appended to the entries file (fewer when a partition is smaller). */
export const ENTRY_BATCH = 1024;

/** A partition's batch of index entries, columns as they are spilled: offset, walk sequence, fingerprint, segment. */
export class EntryBatch {
  readonly offsets: Float64Array;
  readonly seqs: Float64Array;
  readonly prints: Int32Array;
  readonly segments: Uint32Array;
  n = 0;
  /** Where this partition's full batches are in the entries file. */
  readonly spilled: Array<{ at: number; n: number }> = [];
  /** Whether the partition was held in memory during the walk (once at most). */
  wasResident = false;
  /** Wrong entries of this partition kept for the report. */
  kept = 0;

  constructor(size: number) {
    this.offsets = new Float64Array(size);
    this.seqs = new Float64Array(size);
    this.prints = new Int32Array(size);
    this.segments = new Uint32Array(size);
  }

  columns(n: number): Uint8Array[] {
    return [this.offsets, this.seqs, this.prints, this.segments].map((c) => new Uint8Array(c.buffer, 0, n * c.BYTES_PER_ELEMENT));
  }
}
