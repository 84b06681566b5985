// A TTL list that keeps at most one chunk in memory: a compaction's new run
// may list the expiry of millions of keys (docs/design.md "Compaction",
// Memory). Full chunks are sorted and written to a scratch file; the sorted
// pairs are read back merged, as the run's TTL section is written.
import { ioError } from '../../errors.js';
import type { FileSystem } from '../../io/fs.js';
import { removeQuietly, closeQuietly } from '../../io/fs.js';
import { SORT_CHUNK, TtlList } from './ttl-list.js';

/** Spilled pair: f64 expiresAt, u32 length. */
const PAIR_BYTES = 12;
/** Pairs read at a time from each spilled chunk while merging. */
const READ_PAIRS = 4096;

export class SpillingTtlList {
  length = 0;
  private readonly memory: TtlList;
  private fd = -1;
  private readonly chunks: Array<{ at: number; n: number }> = [];
  private fileBytes = 0;

  /** `path`: the scratch file, created at the first spill (a function: asked for its name then). */
  constructor(
    private readonly fs: FileSystem,
    private where: string | (() => string),
    private readonly chunk = SORT_CHUNK,
  ) {
    this.memory = new TtlList(Math.min(chunk, 1024));
  }

  get path(): string {
    if (typeof this.where === 'function') this.where = this.where();
    return this.where;
  }

  push(expiresAt: number, length: number): void {
    if (this.memory.length === this.chunk) this.spill();
    this.memory.push(expiresAt, length);
    this.length++;
  }

  private spill(): void {
    try {
      if (this.fd < 0) this.fd = this.fs.createTruncate(this.path);
      const at = this.fileBytes;
      const buf = Buffer.allocUnsafe(READ_PAIRS * PAIR_BYTES);
      for (const b of this.memory.sortedBatches(READ_PAIRS)) {
        for (let i = 0; i < b.n; i++) {
          buf.writeDoubleLE(b.exp[i], i * PAIR_BYTES);
          buf.writeUInt32LE(b.len[i], i * PAIR_BYTES + 8);
        }
        this.fs.write(this.fd, buf, 0, b.n * PAIR_BYTES, this.fileBytes);
        this.fileBytes += b.n * PAIR_BYTES;
      }
      this.chunks.push({ at, n: this.memory.length });
    } catch (err) {
      throw ioError(err, 'cannot write', this.path);
    }
    this.memory.length = 0;
  }

  /** The pairs in (expiresAt, length) order, in batches of up to `size` (reused buffers). */
  *sortedBatches(size: number): Generator<{ exp: Float64Array; len: Uint32Array; n: number }> {
    if (this.chunks.length === 0) {
      yield* this.memory.sortedBatches(size);
      return;
    }
    if (this.memory.length > 0) this.spill();
    const readers = this.chunks.map((c) => ({ next: c.at, end: c.at + c.n * PAIR_BYTES, buf: Buffer.alloc(0), pos: 0 }));
    const head = (r: (typeof readers)[number]): boolean => {
      if (r.pos < r.buf.length) return true;
      if (r.next >= r.end) return false;
      const bytes = Math.min(READ_PAIRS * PAIR_BYTES, r.end - r.next);
      r.buf = Buffer.allocUnsafe(bytes);
      if (this.fs.read(this.fd, r.buf, 0, bytes, r.next) !== bytes) throw ioError(new Error('short read'), 'cannot read', this.path);
      r.next += bytes;
      r.pos = 0;
      return true;
    };
    const exp = new Float64Array(size);
    const len = new Uint32Array(size);
    let k = 0;
    for (;;) {
      let best = -1;
      let bestExp = 0;
      let bestLen = 0;
      for (let c = 0; c < readers.length; c++) {
        const r = readers[c];
        if (!head(r)) continue;
        const e = r.buf.readDoubleLE(r.pos);
        const l = r.buf.readUInt32LE(r.pos + 8);
        if (best < 0 || e < bestExp || (e === bestExp && l < bestLen)) {
          best = c;
          bestExp = e;
          bestLen = l;
        }
      }
      if (best < 0) break;
      readers[best].pos += PAIR_BYTES;
      exp[k] = bestExp;
      len[k] = bestLen;
      if (++k === size) {
        yield { exp, len, n: k };
        k = 0;
      }
    }
    if (k > 0) yield { exp, len, n: k };
  }

  /** Closes and deletes the scratch file. */
  dispose(): void {
    if (this.fd >= 0) {
      closeQuietly(this.fs, this.fd); // scratch only
      this.fd = -1;
    }
    if (typeof this.where === 'string') removeQuietly(this.fs, this.where);
  }
}
