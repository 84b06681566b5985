// The one scanner of data-segment records, fed chunk by chunk (docs/format.md
// "Data segment" and "Recovery rules"). Recovery (scanLog), verify and the
// replicator all push the bytes they read through it, so the batch framing
// rules (pending BATCH count, COMMIT count, a record after an unclosed batch)
// and the torn-or-damaged decision live here only. Pure: bytes in, events out.
import { KIND_COMMIT, MAX_KEY_BYTES, MAX_VALUE_BYTES, RECORD_HEADER_BYTES } from '../../format/constants.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { RECORD_BAD, RECORD_OK, RecordInfo, commitCount, decodeRecord } from '../../format/record.js';
import { bytesOf, nextRecordBoundary } from './record-boundary.js';

export type ScanEnd =
  | { kind: 'clean' } // the data ends exactly after a committed record
  | { kind: 'torn'; offset: number; partial: boolean } // a partial record at the end (partial: it runs past the end; else a bad one followed by zeros): expected after a crash
  | { kind: 'uncommitted'; offset: number; records: number } // an interrupted batch at the end
  | { kind: 'corrupt'; offset: number; reason: string }; // damage followed by more data

export interface ScanVisitor {
  /**
   * A whole, CRC-valid PUT or DEL at absolute offset `at`: its bytes are
   * buf[pos, pos + info.length), valid only during the call. Batch records
   * (info.batch) are reported as they come; their COMMIT follows or not.
   */
  record?(buf: Buffer, pos: number, at: number, info: RecordInfo): void;
  /** A COMMIT at `at` that closes the last `count` batch records. */
  commit?(at: number, count: number): void;
  /**
   * Damage cut the open batch (src/engine/log/resync.ts): the batch records
   * reported since the last commit will never be committed.
   */
  abandonBatch?(): void;
}

/**
 * The scanner in "committed only" mode: a visitor that passes on each
 * committed PUT or DEL once, in log order (docs/format.md "Data segment"): a
 * record outside a batch at once, a batch's records when their COMMIT comes,
 * never those of a batch damage cut (abandonBatch) or that ends without its
 * COMMIT. `keep` makes what is held of a record until then (the buffer is
 * valid only during the call: copy what is needed); `take` gets it once committed.
 * Memory: what `keep` returns for every record of the open batch.
 */
export function committedOnly<T>(keep: (buf: Buffer, pos: number, at: number, info: RecordInfo) => T, take: (record: T) => void): ScanVisitor {
  let batch: T[] = [];
  return {
    record(buf, pos, at, info) {
      const kept = keep(buf, pos, at, info);
      if (info.batch) batch.push(kept);
      else take(kept);
    },
    commit() {
      for (const kept of batch) take(kept);
      batch = [];
    },
    abandonBatch() {
      batch = [];
    },
  };
}

/** Longest possible record: what a partial record or the bytes after a failure may need held. */
const MAX_RECORD_BYTES = RECORD_HEADER_BYTES + MAX_KEY_BYTES + MAX_VALUE_BYTES;

function allZero(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

type Failure = { offset: number; reason: string; how: 'short' | 'bad' | 'framing'; length: number };

/**
 * Scans records pushed as consecutive chunks starting at absolute offset
 * `base`. Memory: a record straddling two chunks is copied into a carry
 * buffer (at most one record); after the first failure the rest is held (at
 * most MAX_RECORD_BYTES) to tell a torn end from damage at finish().
 */
export class RecordScanner {
  /** Records decoded (commit markers included). */
  records = 0;
  /** Absolute offset where the valid, committed prefix ends. */
  validEnd: number;
  /** The first failure, once one was met; nothing after it is reported. */
  failure: Failure | null = null;
  private pos: number;
  private pending = 0;
  private readonly info = new RecordInfo();
  private carry = Buffer.alloc(0);
  private carryLength = 0;
  private restOverflow = false;

  /**
   * `limit`: the absolute end of the data when known (a record claiming to run
   * past it is short at once). `checkCrc` false: framing and batch rules only,
   * for a caller that checks the CRCs elsewhere (verify's worker thread).
   * `codec`: the store's; an encrypted segment's record bodies are opened
   * with its keys (framing and CRCs are checked without them).
   */
  constructor(
    base: number,
    readonly codec: StoreCodec,
    private readonly visitor: ScanVisitor = {},
    private readonly limit = Infinity,
    private readonly checkCrc = true,
  ) {
    this.pos = base;
    this.validEnd = base;
  }

  /** Absolute offset of the next byte expected. */
  get position(): number {
    return this.pos + this.carryLength;
  }

  /** Scans chunk[start, end). The chunk may be reused by the caller once this returns. */
  push(chunk: Buffer, start = 0, end = chunk.length): void {
    if (this.failure) return this.hold(chunk, start, end);
    let p = start;
    if (this.carryLength > 0) {
      p = this.completeCarry(chunk, p, end);
      if (this.carryLength > 0 || this.failure) return;
    }
    const info = this.info;
    const delta = this.pos - p; // absolute = p + delta
    while (p < end) {
      const status = decodeRecord(chunk, p, end, info, this.checkCrc);
      if (status === RECORD_OK) {
        if (!this.accept(chunk, p, p + delta, info)) return this.hold(chunk, p, end);
        p += info.length;
        continue;
      }
      if (status === RECORD_BAD) {
        this.fail(p + delta, info.reason, 'bad', info.length);
        return this.hold(chunk, p, end);
      }
      // Short: the record continues in the next chunk, unless it claims to run past the end.
      if (info.length > 0 && p + delta + info.length > this.limit) {
        this.fail(p + delta, 'record runs past the end of the data', 'short', info.length);
        return this.hold(chunk, p, end);
      }
      this.pos = p + delta;
      this.hold(chunk, p, end);
      return;
    }
    this.pos = p + delta;
  }

  /** Completes a record carried over from earlier chunks; returns where scanning resumes in chunk. */
  private completeCarry(chunk: Buffer, p: number, end: number): number {
    const info = this.info;
    if (this.carryLength < RECORD_HEADER_BYTES) {
      const take = Math.min(RECORD_HEADER_BYTES - this.carryLength, end - p);
      this.hold(chunk, p, p + take);
      p += take;
      if (this.carryLength < RECORD_HEADER_BYTES) return p;
    }
    let status = decodeRecord(this.carry, 0, this.carryLength, info, this.checkCrc);
    if (status === RECORD_BAD || (status !== RECORD_OK && this.pos + info.length > this.limit)) {
      this.fail(this.pos, status === RECORD_BAD ? info.reason : 'record runs past the end of the data', status === RECORD_BAD ? 'bad' : 'short', info.length);
      this.hold(chunk, p, end);
      return end;
    }
    if (status !== RECORD_OK) {
      const take = Math.min(info.length - this.carryLength, end - p);
      this.hold(chunk, p, p + take);
      p += take;
      if (this.carryLength < info.length) return p;
      status = decodeRecord(this.carry, 0, this.carryLength, info, this.checkCrc);
      if (status !== RECORD_OK) {
        this.fail(this.pos, info.reason, 'bad', info.length);
        this.hold(chunk, p, end);
        return end;
      }
    }
    if (!this.accept(this.carry, 0, this.pos, info)) {
      this.hold(chunk, p, end);
      return end;
    }
    this.pos += info.length;
    this.carryLength = 0;
    return p;
  }

  /** Applies the batch rules to a valid record; false when they fail (then scanning stops). */
  private accept(buf: Buffer, pos: number, at: number, info: RecordInfo): boolean {
    const length = info.length;
    if (info.kind === KIND_COMMIT) {
      const count = commitCount(buf, pos);
      if (count !== this.pending) {
        this.fail(at, `commit marker counts ${count} records, the batch has ${this.pending}`, 'framing', length);
        return false;
      }
      this.records++;
      this.pending = 0;
      this.validEnd = at + length;
      this.visitor.commit?.(at, count);
      return true;
    }
    if (info.batch) {
      this.pending++;
    } else {
      if (this.pending > 0) {
        this.fail(at, 'a record follows a batch that has no commit marker', 'framing', length);
        return false;
      }
      this.validEnd = at + length;
    }
    this.records++;
    this.visitor.record?.(buf, pos, at, info);
    return true;
  }

  private fail(offset: number, reason: string, how: Failure['how'], length: number): void {
    this.failure = { offset, reason, how, length };
    // What is held from here on starts at the failure: drop what the carry held before it.
    if (this.pos !== offset) this.carryLength = 0;
    this.pos = offset;
  }

  /** Keeps chunk[start, end) after what is held (a partial record, or the bytes after a failure). */
  private hold(chunk: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n <= 0 || this.restOverflow) return;
    if (this.carryLength + n > MAX_RECORD_BYTES + RECORD_HEADER_BYTES) {
      this.restOverflow = true; // far more data than one record follows: that is damage, not a torn end
      return;
    }
    if (this.carry.length < this.carryLength + n) {
      const grown = Buffer.allocUnsafe(Math.max(this.carryLength + n, this.carry.length * 2, 4096));
      this.carry.copy(grown, 0, 0, this.carryLength);
      this.carry = grown;
    }
    chunk.copy(this.carry, this.carryLength, start, end);
    this.carryLength += n;
  }

  /** How the data ends, once every chunk was pushed. */
  finish(): ScanEnd {
    if (!this.failure && this.carryLength > 0) {
      // A partial record at the end (its header may be incomplete: then its length is unknown).
      const length = this.carryLength >= RECORD_HEADER_BYTES ? (decodeRecord(this.carry, 0, this.carryLength, this.info, true), this.info.length) : 0;
      this.failure = { offset: this.pos, reason: 'record runs past the end of the data', how: 'short', length };
    }
    const f = this.failure;
    if (!f) {
      return this.pending > 0 ? { kind: 'uncommitted', offset: this.validEnd, records: this.pending } : { kind: 'clean' };
    }
    if (f.how === 'framing' || this.restOverflow) return { kind: 'corrupt', offset: f.offset, reason: f.reason };
    const rest = this.carry;
    const n = this.carryLength;
    if (f.how === 'short') {
      // A record claiming to run past the end is torn, unless whole records follow it:
      // then its length field is damaged, and cutting it off would drop acknowledged writes.
      if (f.length > 0 && nextRecordBoundary(bytesOf(rest, n), 0, n) >= 0) {
        return { kind: 'corrupt', offset: f.offset, reason: `record length ${f.length} runs past the end of data that continues with valid records` };
      }
      return { kind: 'torn', offset: f.offset, partial: true };
    }
    // Torn: nothing but this record (or its partial header) and zero bytes up to the end.
    const extent = f.length > 0 && f.length <= n ? f.length : Math.min(n, RECORD_HEADER_BYTES);
    if (allZero(rest, extent, n) && nextRecordBoundary(bytesOf(rest, n), 0, n) < 0) return { kind: 'torn', offset: f.offset, partial: false };
    return { kind: 'corrupt', offset: f.offset, reason: f.reason };
  }
}
