// The one scanner of data-segment records, fed chunk by chunk (docs/format.md
// "Data segment" and "Recovery rules"). Recovery (scanLog), verify and the
// replicator all push the bytes they read through it, so the batch framing
// rules (pending BATCH count, COMMIT count, a record after an unclosed batch)
// and the torn-or-damaged decision live here only. Pure: bytes in, events out.
//
// In an encrypted segment (docs/format.md "Records, version 2") the unit of
// scanning is a SEAL record with its group: the group is checked whole
// (record-group.ts) before any of its records is reported, and a failure
// anywhere in it is reported at its SEAL.
import { FLAG_BATCH, KIND_COMMIT, KIND_SEAL, MAX_KEY_BYTES, MAX_VALUE_BYTES, RECORD_HEADER_BYTES } from '../../format/constants.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { RECORD_BAD, RECORD_OK, RecordInfo, commitCount, decodeRecord } from '../../format/record.js';
import { SEAL_RECORD_BYTES } from '../../format/seal.js';
import { bytesOf, nextRecordBoundary } from './record-boundary.js';
import { GroupHeaders, MAX_GROUP_BYTES, checkGroup, isGroupFailure, sealedGroupLength } from './record-group.js';
import { type SegmentFormat, V1_SEGMENT } from './segment-format.js';

export type ScanEnd =
  | { kind: 'clean' } // the data ends exactly after a committed record
  | { kind: 'torn'; offset: number; partial: boolean } // a partial record at the end (partial: it runs past the end; else a bad one followed by zeros): expected after a crash
  | { kind: 'uncommitted'; offset: number; records: number } // an interrupted batch at the end
  | { kind: 'corrupt'; offset: number; reason: string }; // damage followed by more data

/**
 * The group a reported record lies in: its SEAL record's offset, and the SEAL
 * plus its G bytes (0 and 0: in no group, as in every segment that is not
 * encrypted). `sealed`: the record's bytes are as stored, its body encrypted
 * (a scan without the key): nobody may read a key or value from them.
 * Reused between calls: valid only during the visitor's call.
 */
export interface RecordGroup {
  offset: number;
  length: number;
  sealed: boolean;
}

export interface ScanVisitor {
  /**
   * A whole, CRC-valid PUT or DEL at absolute offset `at`: its bytes are
   * buf[pos, pos + info.length), valid only during the call (in an encrypted
   * segment read with the key, the opened copy: the body plain). Batch
   * records (info.batch) are reported as they come; their COMMIT follows or not.
   */
  record?(buf: Buffer, pos: number, at: number, info: RecordInfo, group: RecordGroup): void;
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
export function committedOnly<T>(keep: (buf: Buffer, pos: number, at: number, info: RecordInfo, group: RecordGroup) => T, take: (record: T) => void): ScanVisitor {
  let batch: T[] = [];
  return {
    record(buf, pos, at, info, group) {
      const kept = keep(buf, pos, at, info, group);
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

/** Where a record lies in no group. */
const NO_GROUP: RecordGroup = Object.freeze({ offset: 0, length: 0, sealed: false });

function allZero(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

type Failure = { offset: number; reason: string; how: 'short' | 'bad' | 'framing'; length: number };

/**
 * Scans records pushed as consecutive chunks starting at absolute offset
 * `base`. Memory: a record (or a SEAL and its group) straddling two chunks is
 * copied into a carry buffer; after the first failure the rest is held (at
 * most one record or group) to tell a torn end from damage at finish().
 */
export class RecordScanner {
  /** Records decoded (commit markers included, SEAL records not). */
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
  /** The length of the unit step() last found incomplete (0: its header was). */
  private needed = 0;
  private readonly group: RecordGroup = { offset: 0, length: 0, sealed: false };
  /** The headers of the group being reported, decoded once by checkGroup. */
  private readonly headers = new GroupHeaders();
  private readonly maxHeld: number;

  /**
   * `limit`: the absolute end of the data when known (a record claiming to run
   * past it is short at once). `checkCrc` false: framing and batch rules only,
   * for a caller that checks the CRCs elsewhere (verify's worker thread).
   * `codec`: the store's. `format`: the segment's, from its header
   * (segment-format.ts): version 1 when not given.
   */
  constructor(
    base: number,
    readonly codec: StoreCodec,
    private readonly visitor: ScanVisitor = {},
    private readonly limit = Infinity,
    private readonly checkCrc = true,
    readonly format: SegmentFormat = V1_SEGMENT,
  ) {
    this.pos = base;
    this.validEnd = base;
    this.maxHeld = (format.encrypted ? SEAL_RECORD_BYTES + MAX_GROUP_BYTES : MAX_RECORD_BYTES) + RECORD_HEADER_BYTES;
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
    const delta = this.pos - p; // absolute = p + delta
    while (p < end) {
      const n = this.step(chunk, p, end, p + delta);
      if (n > 0) {
        p += n;
        continue;
      }
      // Failed (the rest is held to tell a torn end from damage), or the unit continues in the next chunk.
      if (!this.failure) this.pos = p + delta;
      return this.hold(chunk, p, end);
    }
    this.pos = p + delta;
  }

  /**
   * Takes the unit at buf[p, end) (absolute `at`): a record, or in an
   * encrypted segment a SEAL record and its group. Returns its length; 0 when
   * it failed (this.failure) or needs bytes past `end` (this.needed).
   */
  private step(buf: Buffer, p: number, end: number, at: number): number {
    const info = this.info;
    const status = decodeRecord(buf, p, end, info, this.checkCrc, this.format.version2);
    if (status === RECORD_BAD) return this.fail(at, info.reason, 'bad', info.length);
    if (status !== RECORD_OK) return this.short(at, info.length, 'record runs past the end of the data');
    if (info.kind === KIND_SEAL) return this.sealedGroup(buf, p, end, at);
    if (this.format.encrypted && info.kind !== KIND_COMMIT) return this.fail(at, 'a record outside a group in an encrypted segment', 'framing', info.length);
    return this.accept(buf, p, at, info, NO_GROUP) ? info.length : 0;
  }

  /** A unit of `length` bytes (0: its header is incomplete) that runs past the bytes at hand: short now if it runs past the limit. */
  private short(at: number, length: number, reason: string): 0 {
    this.needed = length;
    if (length > 0 && at + length > this.limit) this.fail(at, reason, 'short', length);
    return 0;
  }

  /** The SEAL record at buf[p] (decoded) and its group: checked whole, then its records reported. */
  private sealedGroup(buf: Buffer, p: number, end: number, at: number): number {
    const info = this.info;
    if (!this.format.encrypted) return this.fail(at, 'a seal record in a segment that is not encrypted', 'framing', info.length);
    const g = sealedGroupLength(buf, p);
    if (isGroupFailure(g)) return this.fail(at, g.reason, g.how, info.length);
    const total = SEAL_RECORD_BYTES + g;
    if (end - p < total) return this.short(at, total, 'group runs past the end of the data');
    const headers = this.headers;
    const checked = checkGroup(buf, p, at, this.format, this.checkCrc, info, headers);
    if (isGroupFailure(checked)) return this.fail(at, checked.reason, checked.how, total);
    const from = p + SEAL_RECORD_BYTES;
    const broken = this.batchRulesBreak(buf, from);
    if (broken) return this.fail(at, broken, 'framing', total);
    const group = this.group;
    group.offset = at;
    group.length = total;
    group.sealed = checked === null;
    const src = checked ?? buf;
    const shift = checked === null ? 0 : from;
    for (let i = 0, q = from; i < headers.count; i++, q += info.length) {
      headers.load(i, info);
      this.accept(src, q - shift, at + q - p, info, group);
    }
    return total;
  }

  /**
   * Why the records of the group starting at buf[from], whose headers
   * this.headers holds, would break the batch rules,
   * or undefined: a group is reported whole or not at all. A group that
   * commits records and then ends inside a batch is refused too: the
   * committed end of the data must fall on a group's end.
   */
  private batchRulesBreak(buf: Buffer, from: number): string | undefined {
    const headers = this.headers;
    const info = this.info;
    let pending = this.pending;
    let committed = false;
    for (let i = 0, q = from; i < headers.count; i++, q += info.length) {
      headers.load(i, info);
      if (info.kind === KIND_COMMIT) {
        const count = commitCount(buf, q);
        if (count !== pending) return `commit marker counts ${count} records, the batch has ${pending}`;
        pending = 0;
        committed = true;
      } else if ((info.flags & FLAG_BATCH) !== 0) {
        pending++;
      } else {
        if (pending > 0) return 'a record follows a batch that has no commit marker';
        committed = true;
      }
    }
    return committed && pending > 0 ? 'a group commits records, then ends inside a batch' : undefined;
  }

  /** Completes a unit carried over from earlier chunks; returns where scanning resumes in chunk. */
  private completeCarry(chunk: Buffer, p: number, end: number): number {
    for (;;) {
      const n = this.step(this.carry, 0, this.carryLength, this.pos);
      if (n > 0) {
        this.pos += n;
        this.carryLength = 0;
        return p;
      }
      if (this.failure) {
        this.hold(chunk, p, end);
        return end;
      }
      const want = (this.needed > 0 ? this.needed : RECORD_HEADER_BYTES) - this.carryLength;
      const take = Math.min(want, end - p);
      this.hold(chunk, p, p + take);
      p += take;
      if (take < want) return p;
    }
  }

  /** Applies the batch rules to a valid record; false when they fail (then scanning stops). */
  private accept(buf: Buffer, pos: number, at: number, info: RecordInfo, group: RecordGroup): boolean {
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
    this.visitor.record?.(buf, pos, at, info, group);
    return true;
  }

  private fail(offset: number, reason: string, how: Failure['how'], length: number): 0 {
    this.failure = { offset, reason, how, length };
    // What is held from here on starts at the failure: drop what the carry held before it.
    if (this.pos !== offset) this.carryLength = 0;
    this.pos = offset;
    return 0;
  }

  /** Keeps chunk[start, end) after what is held (a partial unit, or the bytes after a failure). */
  private hold(chunk: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n <= 0 || this.restOverflow) return;
    if (this.carryLength + n > this.maxHeld) {
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
      // A partial unit at the end (its header may be incomplete: then its length is unknown).
      const length = this.carryLength >= RECORD_HEADER_BYTES ? this.needed : 0;
      const group = this.carryLength >= RECORD_HEADER_BYTES && this.carry[4] === KIND_SEAL && this.format.encrypted;
      this.failure = { offset: this.pos, reason: group ? 'group runs past the end of the data' : 'record runs past the end of the data', how: 'short', length };
    }
    const f = this.failure;
    if (!f) {
      return this.pending > 0 ? { kind: 'uncommitted', offset: this.validEnd, records: this.pending } : { kind: 'clean' };
    }
    if (f.how === 'framing' || this.restOverflow) return { kind: 'corrupt', offset: f.offset, reason: f.reason };
    const rest = this.carry; // from the failure on: rest[0] is at f.offset
    const n = this.carryLength;
    if (f.how === 'short') {
      // A record claiming to run past the end is torn, unless whole records follow it:
      // then its length field is damaged, and cutting it off would drop acknowledged writes.
      if (f.length > 0 && nextRecordBoundary(bytesOf(rest, n, f.offset), f.offset, f.offset + n, this.format) >= 0) {
        return { kind: 'corrupt', offset: f.offset, reason: `record length ${f.length} runs past the end of data that continues with valid records` };
      }
      return { kind: 'torn', offset: f.offset, partial: true };
    }
    // Torn: nothing but this record (or its partial header) and zero bytes up to the end.
    const extent = f.length > 0 && f.length <= n ? f.length : Math.min(n, RECORD_HEADER_BYTES);
    if (allZero(rest, extent, n) && nextRecordBoundary(bytesOf(rest, n, f.offset), f.offset, f.offset + n, this.format) < 0) return { kind: 'torn', offset: f.offset, partial: false };
    return { kind: 'corrupt', offset: f.offset, reason: f.reason };
  }
}
