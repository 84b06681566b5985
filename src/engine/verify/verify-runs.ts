// verify's pass over the index runs: one k-way merge walk of every run's
// leaves in key order. Each entry is checked against the record the segment
// scan found at its offset (by fingerprint, through the RecordJoin), against the
// run's bloom filter, and, across runs, against shadowing order; the newest
// entry of each key feeds the census count. Then each run's branch blocks and
// TTL section, and that every record that is the newest of its key is indexed.
import { KIND_PUT, MAX_KEY_BYTES, RECORD_HEADER_BYTES } from '../../format/constants.js';
import { BloomScratch } from './bloom-check.js';
import { murmur3Pair, murmurPairSecond } from '../../format/bloom.js';
import type { Manifest } from '../../format/manifest.js';
import { RECORD_OK, RecordInfo, decodeRecord } from '../../format/record.js';
import type { FileSystem } from '../../io/fs.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { censusValid } from '../../format/manifest.js';
import { segmentName } from '../files/layout.js';
import { CHECK_DIFFERS, CHECK_NONE, CHECK_TWICE } from './record-join.js';
import type { RecordJoin } from './record-join.js';
import { fingerprint, keyHashOf } from './record-table.js';
import { openRun } from './open-run.js';
import type { OpenRun, Spill } from './open-run.js';
import type { LeafCursor } from './run-cursor.js';
import { censusLengthOf } from '../../format/seal-share.js';
import { compareBytes } from '../../format/bytes.js';
import { checkEveryRecordIndexed } from './verify-newest.js';
import { checkBranches, checkEntryCount, checkTtlSection } from './verify-run-parts.js';
import type { VerifyLog } from './verify-log.js';
import type { VerifyWorker } from './verify-worker.js';

/**
 * The checks of each entry the walk meets (against its record, its bloom
 * filter, and the newer runs' entry for its key), and the census count of the
 * keys the index holds: one a walk.
 */
class EntryCheck {
  keys = 0;
  bytes = 0;
  winnerSegment = 0;
  winnerOffset = 0;
  damaged = false;
  /** Entries checked against a record so far: their order, the same in every walk of the same store. */
  private seq = 0;
  private readonly info = new RecordInfo();
  private readonly fds = new Map<number, number>();

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    /** The store's: an encrypted store's records are opened with it. */
    readonly codec: StoreCodec,
    private readonly records: RecordJoin,
    private readonly log: VerifyLog,
  ) {}

  /** Checks the current entry of run r; `winner`: no newer run has this key. */
  entry(r: OpenRun, winner: boolean): void {
    const c = r.cursor;
    r.entries++;
    const buf = c.buf;
    const ks = c.keyStart;
    const ke = ks + c.keyLength;
    let h1: number;
    if (r.bloom) {
      h1 = murmur3Pair(buf, ks, ke) | 0; // keyHashOf's value, and the bloom's second hash with it
      r.bloom.add(h1, murmurPairSecond);
    } else {
      h1 = keyHashOf(buf, ks, ke);
    }
    const segment = c.segment;
    const offset = c.offset;
    const state = this.records.state(segment);
    if (state === undefined) {
      this.log.problem(r.name, c.blockAt, 'index-mismatch', `entry for key ${this.keyText(buf, ks, ke)} points at segment ${segment}, not in the store`);
    } else if (state) {
      const v = this.records.check(this.seq++, segment, offset, fingerprint(h1, c.kind, c.length, c.expiresAt));
      if (v === CHECK_NONE) {
        this.log.problem(r.name, c.blockAt, 'index-mismatch', `entry for key ${this.keyText(buf, ks, ke)} points at ${segmentName(segment)} offset ${offset}, where no valid indexed record starts`);
      } else if (v === CHECK_DIFFERS) {
        this.mismatch(r, segment, offset);
      } else if (v === CHECK_TWICE) {
        this.log.problem(r.name, c.blockAt, 'index-mismatch', `a second index entry points at ${segmentName(segment)} offset ${offset}`);
      }
    }
    if (winner) {
      this.winnerSegment = segment;
      this.winnerOffset = offset;
      if (c.kind === KIND_PUT) {
        this.keys++;
        this.bytes += censusLengthOf(c);
      }
    } else if (segment > this.winnerSegment || (segment === this.winnerSegment && offset >= this.winnerOffset)) {
      this.log.problem(r.name, c.blockAt, 'index-mismatch', `entry for key ${this.keyText(buf, ks, ke)} in an older run points at a record newer than the newer run's`);
    }
    if (c.kind === KIND_PUT && c.expiresAt > 0) r.ttlAdds.push(c.expiresAt, c.length);
  }

  private keyText(buf: Buffer, start: number, end: number): string {
    return JSON.stringify(buf.toString('utf8', start, end));
  }

  /** Reads the record an entry points at to say how they differ (rare: only on a fingerprint mismatch). */
  private mismatch(r: OpenRun, segment: number, offset: number): void {
    const c = r.cursor;
    const key = c.buf.subarray(c.keyStart, c.keyStart + c.keyLength);
    let why = 'its record differs';
    try {
      let fd = this.fds.get(segment);
      if (fd === undefined) {
        fd = this.fs.openRead(`${this.dir}/${segmentName(segment)}`);
        this.fds.set(segment, fd);
      }
      const buf = Buffer.allocUnsafe(Math.max(c.length, RECORD_HEADER_BYTES + MAX_KEY_BYTES));
      const n = this.fs.read(fd, buf, 0, buf.length, offset);
      if (decodeRecord(buf, 0, n, this.info, false) !== RECORD_OK && this.info.length === 0) why = 'no record there';
      else if (!buf.subarray(20, 20 + this.info.keyLength).equals(key)) why = `the record there is of key ${this.keyText(buf, 20, 20 + this.info.keyLength)}`;
      else if (this.info.kind !== c.kind) why = `the record there is a ${this.info.kind === KIND_PUT ? 'PUT' : 'DEL'}`;
      else if (this.info.length !== c.length) why = `the record is ${this.info.length} bytes, the entry says ${c.length}`;
      else if (this.info.expiresAt !== c.expiresAt) why = 'the entry has an expiry different from its record';
    } catch (err) {
      why = this.log.describe(err);
    }
    this.log.problem(r.name, c.blockAt, 'index-mismatch', `entry for key ${this.keyText(key, 0, key.length)} does not match its record at ${segmentName(segment)} offset ${offset}: ${why}`);
  }

  close(): void {
    for (const fd of this.fds.values()) this.fs.close(fd);
  }
}

/** The k-way merge: newest run first wins a key; a run alone ahead of the others streams with one compare an entry. */
function mergeWalk(runs: OpenRun[], check: EntryCheck): void {
  const live = runs.filter((r) => r.cursor.next());
  const cmp = (a: LeafCursor, b: LeafCursor) => compareBytes(a.buf, a.keyStart, a.keyStart + a.keyLength, b.buf, b.keyStart, b.keyStart + b.keyLength);
  for (;;) {
    let min = -1;
    let second = -1;
    for (let i = 0; i < live.length; i++) {
      if (live[i].cursor.done) continue;
      if (min < 0) min = i;
      else if (cmp(live[i].cursor, live[min].cursor) < 0) {
        second = min;
        min = i;
      } else if (second < 0 || cmp(live[i].cursor, live[second].cursor) < 0) second = i;
    }
    if (min < 0) return;
    const lead = live[min].cursor;
    if (second >= 0 && cmp(lead, live[second].cursor) === 0) {
      // Several runs hold this key: the newest (lowest index) wins, the rest are shadowed.
      const equal: number[] = [];
      for (let i = 0; i < live.length; i++) if (!live[i].cursor.done && (i === min || cmp(live[i].cursor, lead) === 0)) equal.push(i);
      equal.sort((a, b) => a - b);
      equal.forEach((i, n) => check.entry(live[i], n === 0));
      for (const i of equal) live[i].cursor.next();
      continue;
    }
    const bound = second >= 0 ? live[second].cursor : null;
    do {
      check.entry(live[min], true);
    } while (lead.next() && (bound === null || cmp(lead, bound) < 0));
  }
}

/** The walk over every run, and the per-run checks after it; `incomplete` when some index could not be read whole. */
function walkRuns(fs: FileSystem, dir: string, codec: StoreCodec, m: Manifest, records: RecordJoin, log: VerifyLog, worker: VerifyWorker | null, spill: Spill): { check: EntryCheck; incomplete: boolean } {
  const runs: OpenRun[] = [];
  let incomplete = false;
  const check = new EntryCheck(fs, dir, codec, records, log);
  const bloomScratch = new BloomScratch();
  try {
    for (const info of m.runs) {
      const r = openRun(fs, dir, codec, info.file, info.entries, log, bloomScratch, worker, spill);
      if (r) runs.push(r);
      else incomplete = true;
    }
    mergeWalk(runs, check);
    for (const r of runs) {
      if (r.cursor.damaged) incomplete = true;
      if (!checkEntryCount(r, log)) incomplete = true;
      const missing = r.bloom?.missing() ?? 0;
      if (missing > 0) log.problem(r.name, r.header.bloomOffset, 'bloom-mismatch', `the bloom filter rules out ${missing} of the keys the run holds`);
      checkBranches(fs, r, log);
      if (!checkTtlSection(fs, r, log)) incomplete = true;
    }
  } finally {
    check.close();
    for (const r of runs) {
      fs.close(r.fd);
      r.ttlAdds.dispose();
    }
  }
  return { check, incomplete };
}

/**
 * Checks every run of the manifest against the segments' records (and its keys
 * against its bloom filter, on `worker` when given). When
 * the records were spilled, their join with the entries comes after the walk,
 * and the walk is run again if it found wrong entries (record-join.ts).
 * Returns the last checks (every newest record indexed, the census), to be
 * run once all the data's damage is known: they are skipped when some index
 * or data could not be read whole (they would only repeat that).
 */
export function verifyRuns(fs: FileSystem, dir: string, codec: StoreCodec, m: Manifest, records: RecordJoin, log: VerifyLog, spill: Spill, worker: VerifyWorker | null): () => void {
  const mark = log.mark();
  let { check, incomplete } = walkRuns(fs, dir, codec, m, records, log, worker, spill);
  const wrong = records.join();
  if (wrong > 0) {
    log.rollback(mark);
    ({ check, incomplete } = walkRuns(fs, dir, codec, m, records, log, worker, spill));
    log.problemCount += records.unlisted(wrong);
  }
  if (records.anyUnreadable) incomplete = true;
  return () => {
    if (incomplete || log.unreadableRanges.length > 0) return;
    if (records.referenced < records.records) checkEveryRecordIndexed(fs, dir, codec, records, log, spill.limits);
    if (censusValid(m) && (m.census.keys !== check.keys || m.census.bytes !== check.bytes)) {
      log.problem('MANIFEST', null, 'census-mismatch', `the census counts ${m.census.keys} keys of ${m.census.bytes} bytes; the index holds ${check.keys} keys of ${check.bytes} bytes`);
    }
  };
}
