// verify's last index check (docs/design.md "Verify", step 5): every record
// that is the newest of its key in the indexed log must be indexed, unless it
// is a tombstone a merge dropped (then no older record of the key may be
// indexed either). Records no entry points at (candidates) are normal —
// overwritten, or dropped tombstones — so only their key hashes are looked
// at: the record tables are walked newest first, and a bit filter skips
// records of other hashes. What is remembered per candidate hash is bounded
// by `limits.candidates`: past it, the hashes are split into as many passes.
import { FILE_HEADER_BYTES, MAX_KEY_BYTES, RECORD_HEADER_BYTES } from '../../format/constants.js';
import { fileVersion } from '../../format/file-header.js';
import { RecordScanner } from '../log/record-scan.js';
import { segmentFormat } from '../log/segment-format.js';
import type { SegmentFormat } from '../log/segment-format.js';
import { RecordInfo, decodeRecord } from '../../format/record.js';
import type { FileSystem } from '../../io/fs.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { segmentName } from '../files/layout.js';
import type { RecordJoin } from './record-join.js';
import { REC_PUT, REC_REFERENCED } from './record-table.js';
import type { VerifyLimits } from './scratch.js';
import { MAX_KEPT } from './verify-log.js';
import type { VerifyLog } from './verify-log.js';

const BITS = 1 << 22;
const REF = 1;
const DEL_LAST = 2;

/** A problem found, with its place in newest-first order (passes find them out of order). */
interface Found {
  rank: number;
  file: string;
  offset: number;
  message: string;
}

export function checkEveryRecordIndexed(fs: FileSystem, dir: string, codec: StoreCodec, records: RecordJoin, log: VerifyLog, limits: VerifyLimits): void {
  const candidates = records.records - records.referenced;
  const passes = Math.max(1, Math.ceil(candidates / limits.candidates));
  const keyAt = keyReader(fs, dir, codec);
  let found: Found[] = [];
  let count = 0;
  try {
    for (let pass = 0; pass < passes; pass++) {
      const inPass = (hash: number) => passes === 1 || (hash >>> 0) % passes === pass;
      const mine: Found[] = [];
      count += checkPass(records, inPass, keyAt, (f) => {
        if (mine.length < MAX_KEPT) mine.push(f);
      });
      // Each pass finds in newest-first order: the first MAX_KEPT of all passes are among the first MAX_KEPT of each.
      found = found.concat(mine).sort((a, b) => a.rank - b.rank).slice(0, MAX_KEPT);
    }
  } finally {
    keyAt.close();
  }
  for (const f of found) log.problem(f.file, f.offset, 'not-indexed', f.message);
  log.problemCount += count - found.length;
}

/** One pass over the hashes `inPass` accepts; returns how many problems it found. */
function checkPass(records: RecordJoin, inPass: (hash: number) => boolean, keyAt: KeyReader, report: (f: Found) => void): number {
  const filter = new Uint8Array(BITS >>> 3);
  for (const { table: t } of records.newestFirst()) {
    for (let i = 0; i < t.length; i++) {
      if ((t.flags[i] & REC_REFERENCED) !== 0 || !inPass(t.keyHashes[i])) continue;
      const h = t.keyHashes[i] & (BITS - 1);
      filter[h >>> 3] |= 1 << (h & 7);
    }
  }
  const seen = new Map<number, { state: number; segment: number; offset: number }>();
  let rank = 0;
  let count = 0;
  for (const { segment: file, table: t } of records.newestFirst()) {
    for (let i = t.length - 1; i >= 0; i--, rank++) {
      const hash = t.keyHashes[i];
      const h = hash & (BITS - 1);
      if ((filter[h >>> 3] & (1 << (h & 7))) === 0 || !inPass(hash)) continue;
      const referenced = (t.flags[i] & REC_REFERENCED) !== 0;
      const s = seen.get(hash);
      if (s === undefined) {
        if (!referenced && (t.flags[i] & REC_PUT) !== 0) {
          count++;
          report({ rank, file: segmentName(file), offset: t.offsets[i], message: 'the newest record of its key is in no index run' });
        }
        seen.set(hash, { state: referenced ? REF : (t.flags[i] & REC_PUT) !== 0 ? REF : DEL_LAST, segment: file, offset: t.offsets[i] });
      } else if (s.state === DEL_LAST && referenced && keyAt(file, t.offsets[i]).equals(keyAt(s.segment, s.offset))) {
        count++;
        const message = `the index serves this record, but a later tombstone of its key (${segmentName(s.segment)} offset ${s.offset}) is in no index run`;
        report({ rank, file: segmentName(file), offset: t.offsets[i], message });
        s.state = REF;
      }
    }
  }
  return count;
}

type KeyReader = ((segment: number, offset: number) => Buffer) & { close(): void };

/**
 * Reads the key of the record at a location (a few, on the rare paths). In an
 * encrypted segment a key is sealed in its group, which no table records: the
 * segment is scanned with its key up to the record (rare enough to afford).
 */
function keyReader(fs: FileSystem, dir: string, codec: StoreCodec): KeyReader {
  const fds = new Map<number, number>();
  const info = new RecordInfo();
  const read = (segment: number, offset: number): Buffer => {
    let fd = fds.get(segment);
    if (fd === undefined) {
      fd = fs.openRead(`${dir}/${segmentName(segment)}`);
      fds.set(segment, fd);
    }
    const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + MAX_KEY_BYTES);
    fs.read(fd, buf, 0, FILE_HEADER_BYTES, 0);
    const format = segmentFormat(fileVersion(buf), codec, `${dir}/${segmentName(segment)}`, true);
    if (format.encrypted) return sealedKey(fs, fd, format, codec, offset);
    const n = fs.read(fd, buf, 0, buf.length, offset);
    decodeRecord(buf, 0, n, info, false);
    return buf.subarray(20, Math.min(n, 20 + info.keyLength));
  };
  return Object.assign(read, { close: () => fds.forEach((fd) => fs.close(fd)) });
}

/** The plain key of the record at `offset` of an encrypted segment (open at `fd`), found by scanning it with its key; empty when none starts there. */
function sealedKey(fs: FileSystem, fd: number, format: SegmentFormat, codec: StoreCodec, offset: number): Buffer {
  let key = Buffer.alloc(0);
  const scanner = new RecordScanner(FILE_HEADER_BYTES, codec, {
    record(buf, pos, at, info) {
      if (at === offset) key = Buffer.from(buf.subarray(pos + RECORD_HEADER_BYTES, pos + RECORD_HEADER_BYTES + info.keyLength));
    },
  }, Infinity, true, format);
  const chunk = Buffer.allocUnsafe(1 << 20);
  for (let at = FILE_HEADER_BYTES; key.length === 0 && !scanner.failure; ) {
    const n = fs.read(fd, chunk, 0, chunk.length, at);
    if (n === 0) break;
    scanner.push(chunk, 0, n);
    at += n;
  }
  return key;
}
