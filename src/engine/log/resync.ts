// Reading a data segment past damage (docs/format.md "Reading past damage").
// After a record fails its checks, reading resumes at the next record boundary
// that can be proven (record-boundary.ts), as LevelDB's log reader
// resynchronises. verify (and so repair) and every reader of the tail step
// over damage through this one file, so they agree byte for byte on what is
// unreadable.
import type { StoreCodec } from '../../format/store-codec.js';
import { nextRecordBoundary } from './record-boundary.js';
import type { SegmentBytes } from './record-boundary.js';
import { RecordScanner } from './record-scan.js';
import type { ScanEnd, ScanVisitor } from './record-scan.js';
import type { SegmentFormat } from './segment-format.js';

/** A stretch of a segment a scan stepped over. */
export interface SkippedDamage {
  /** Where the record that failed starts. */
  offset: number;
  /** Why it failed, with how many bytes are unreadable up to where reading resumed. */
  message: string;
  /**
   * The unreadable bytes [from, to): from the end of the last committed
   * record before the failure (the records of a batch it left open go with
   * it: that batch can no longer be proven whole) to the next provable
   * boundary, or to the end of the data when there is none.
   */
  from: number;
  to: number;
}

export interface SegmentScanOptions {
  visitor: ScanVisitor;
  /** The store's codec, handed to the RecordScanner. */
  codec: StoreCodec;
  /**
   * The segment's format, from its header (segment-format.ts); version 1 when
   * not given. In an encrypted segment reading resumes only at a SEAL record
   * whose whole group checks.
   */
  format?: SegmentFormat;
  /** False: framing and batch rules only; the CRCs are checked elsewhere (verify's worker). */
  checkCrc?: boolean;
  /** A sealed segment has no torn end: damage with no valid record after it runs to the end. */
  sealed: boolean;
  /** Bytes asked of `read` at a time. */
  chunkBytes: number;
  /** Each stretch stepped over, in order. */
  onDamage(damage: SkippedDamage): void;
  /** Bytes read in sequence (not those of the boundary searches). */
  onRead?(n: number): void;
}

export interface SegmentScan {
  /** How the data after the last stretch stepped over ends ("clean" also when that stretch runs to the end). */
  end: ScanEnd;
  /** Absolute offset where the committed records after the last stretch stepped over end. */
  validEnd: number;
  /** Records decoded, commit markers included. */
  records: number;
}

/**
 * Scans [start, end) through RecordScanner, stepping over each damaged
 * stretch to the next provable boundary. A failure with no valid record after
 * it in an unsealed segment is left to the scanner, which tells a torn end
 * from damage. The visitor's abandonBatch is called at each stretch: batch
 * records it was told of since the last commit will never be committed.
 */
export function scanSegment(read: SegmentBytes, start: number, end: number, o: SegmentScanOptions): SegmentScan {
  const checkCrc = o.checkCrc !== false;
  let scanner = new RecordScanner(start, o.codec, o.visitor, end, checkCrc, o.format);
  let records = 0;
  let resync = true;
  for (let at = start; at < end; ) {
    const chunk = read(at, Math.min(o.chunkBytes, end - at));
    if (chunk.length === 0) break;
    scanner.push(chunk, 0, chunk.length);
    o.onRead?.(chunk.length);
    at += chunk.length;
    const f = scanner.failure;
    if (!f || !resync) continue;
    const next = nextRecordBoundary(read, f.offset, end, o.format);
    if (next < 0 && !o.sealed) {
      resync = false; // feed the rest: the scanner tells a torn end from damage
      continue;
    }
    records += scanner.records;
    const to = next < 0 ? end : next;
    const upTo = next < 0 ? 'the end' : 'the next valid record';
    const from = Math.min(f.offset, scanner.validEnd);
    o.visitor.abandonBatch?.();
    o.onDamage({ offset: f.offset, message: `${f.reason} (${to - f.offset} bytes unreadable up to ${upTo})`, from, to });
    if (next < 0) return { end: { kind: 'clean' }, validEnd: from, records };
    at = next;
    scanner = new RecordScanner(at, o.codec, o.visitor, end, checkCrc, o.format);
  }
  const result = scanner.finish();
  return { end: result, validEnd: scanner.validEnd, records: records + scanner.records };
}
