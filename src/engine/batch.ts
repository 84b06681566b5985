// An atomic batch being assembled: records are encoded into memory chunks as
// they arrive (BATCH-flagged), so committing is one append of ready bytes and
// a COMMIT marker (docs/format.md "Data segment").
import type { Batch, PutOptions, KeyInput, ValueInput } from '../api.js';
import { TzkvError } from '../errors.js';
import { FLAG_BATCH, KIND_DEL, KIND_PUT, RECORD_HEADER_BYTES } from '../format/constants.js';
import { writeRecord } from '../format/record.js';
import { checkKeyFast, checkValue, expiryFrom } from './keys.js';
import type { BatchEntries } from './writer.js';

const CHUNK_BYTES = 4 * 1024 * 1024;

export class StagedBatch {
  readonly chunks: Buffer[] = [];
  private current: Buffer = Buffer.allocUnsafe(0);
  private used = 0;
  /** Bytes staged so far (offset of the next record relative to the batch start). */
  bytes = 0;
  readonly entries: BatchEntries = {
    keys: [],
    kinds: new Uint8Array(1024),
    offsets: new Float64Array(1024),
    lengths: new Uint32Array(1024),
    expiries: new Float64Array(1024),
  };
  puts = 0;
  deletes = 0;

  get count(): number {
    return this.entries.keys.length;
  }

  /** REQUIRES: key checked; a string key is the latin1 form (one char per byte). */
  add(kind: number, key: Buffer | string, value: Buffer | null, expiresAt: number): void {
    const length = RECORD_HEADER_BYTES + key.length + (value === null ? 0 : value.length);
    if (this.used + length > this.current.length) this.newChunk(length);
    writeRecord(this.current, this.used, kind, FLAG_BATCH, key, value, expiresAt);
    this.used += length;
    const e = this.entries;
    const i = e.keys.length;
    if (i === e.kinds.length) this.grow();
    e.keys.push(typeof key === 'string' ? key : key.toString('latin1'));
    e.kinds[i] = kind;
    e.offsets[i] = this.bytes;
    e.lengths[i] = length;
    e.expiries[i] = expiresAt;
    this.bytes += length;
    if (kind === KIND_PUT) this.puts++;
    else this.deletes++;
  }

  private grow(): void {
    const e = this.entries;
    const n = e.kinds.length * 2;
    const kinds = new Uint8Array(n);
    kinds.set(e.kinds);
    const offsets = new Float64Array(n);
    offsets.set(e.offsets);
    const lengths = new Uint32Array(n);
    lengths.set(e.lengths);
    const expiries = new Float64Array(n);
    expiries.set(e.expiries);
    Object.assign(e, { kinds, offsets, lengths, expiries });
  }

  private newChunk(atLeast: number): void {
    this.sealChunk();
    this.current = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, atLeast));
    this.used = 0;
  }

  private sealChunk(): void {
    if (this.used > 0) this.chunks.push(this.current.subarray(0, this.used));
  }

  /** The encoded records, in order. */
  finish(): Buffer[] {
    this.sealChunk();
    this.current = Buffer.allocUnsafe(0);
    this.used = 0;
    return this.chunks;
  }
}

/** The public Batch over a StagedBatch; `commit` is supplied by the store. */
export class LocalBatch implements Batch {
  private staged: StagedBatch | undefined = new StagedBatch();

  constructor(
    private readonly now: () => number,
    private readonly commit: (staged: StagedBatch) => Promise<void>,
  ) {}

  private live(): StagedBatch {
    if (!this.staged) throw new TzkvError('INVALID_ARGUMENT', 'this batch was already written or discarded');
    return this.staged;
  }

  put(key: KeyInput, value: ValueInput, options?: Omit<PutOptions, 'ifAbsent'>): this {
    const staged = this.live();
    const exp = options === undefined ? 0 : expiryFrom(options, this.now());
    staged.add(KIND_PUT, checkKeyFast(key), checkValue(value), exp);
    return this;
  }

  del(key: KeyInput): this {
    this.live().add(KIND_DEL, checkKeyFast(key), null, 0);
    return this;
  }

  get length(): number {
    return this.staged?.count ?? 0;
  }

  async write(): Promise<void> {
    const staged = this.live();
    this.staged = undefined;
    if (staged.count === 0) return;
    await this.commit(staged);
  }

  async discard(): Promise<void> {
    this.staged = undefined;
  }
}
