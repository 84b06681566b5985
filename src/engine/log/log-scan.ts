// Scanning a stretch of a data segment already in memory: the committed
// records in it, the damaged stretches it stepped over, and how it ends
// (docs/format.md "Recovery rules" and "Reading past damage"). The rules
// themselves are RecordScanner's (record-scan.ts, its committedOnly mode
// included) and resync.ts's.
import { KIND_DEL, KIND_PUT, RECORD_HEADER_BYTES } from '../../format/constants.js';
import type { RecordInfo } from '../../format/record.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { bytesOf } from './record-boundary.js';
import { committedOnly } from './record-scan.js';
import type { RecordGroup, ScanEnd } from './record-scan.js';
import { scanSegment } from './resync.js';
import type { SkippedDamage } from './resync.js';
import { type SegmentFormat, V1_SEGMENT } from './segment-format.js';

export type { ScanEnd } from './record-scan.js';
export type { SkippedDamage } from './resync.js';

/** One committed PUT or DEL found by a scan. Keys are latin1 strings: one char per byte, so `<` is byte order. */
export interface LogEntry {
  key: string;
  kind: number;
  offset: number; // absolute offset in the segment
  length: number;
  expiresAt: number;
  /** Absolute offset of the record's SEAL record; 0: in no group (a segment that is not encrypted). */
  group: number;
  /** The SEAL record plus its group's bytes; 0: in no group. */
  groupLength: number;
}

export interface ScanResult {
  /** Absolute offset where the committed records after the last damaged stretch end. */
  validEnd: number;
  /** How the data after the last damaged stretch ends. */
  end: ScanEnd;
  /** Committed records in log order, from before and after every damaged stretch. */
  entries: LogEntry[];
  /** The stretches stepped over, in log order. */
  damage: SkippedDamage[];
  /** Records decoded (committed or not, commit markers included). */
  records: number;
  /** Sealed groups read (an encrypted segment's; each one GCM open). */
  groups: number;
}

/**
 * Scans buf[0, length), which holds the segment's bytes from absolute offset
 * `base`, to its end, stepping over damage. The committed records are
 * returned in order (batch records at their COMMIT). `codec`: the store's.
 * `format`: the segment's (segment-format.ts). An encrypted segment's read
 * with its key: the entries' keys are read from the opened records; without
 * it, they are the stored (encrypted) bytes, good for counts and positions only.
 */
export function scanLog(buf: Buffer, base: number, codec: StoreCodec, length = buf.length, format: SegmentFormat = V1_SEGMENT): ScanResult {
  const entries: LogEntry[] = [];
  const damage: SkippedDamage[] = [];
  const bytes = bytesOf(buf, length);
  let groups = 0;
  let lastGroup = 0;
  const entryOf = (b: Buffer, pos: number, at: number, info: RecordInfo, group: RecordGroup): LogEntry => {
    if (group.offset !== lastGroup) {
      groups++;
      lastGroup = group.offset;
    }
    return entry(b, pos, at, info, group);
  };
  const entry = (b: Buffer, pos: number, at: number, info: RecordInfo, group: RecordGroup): LogEntry => ({
    key: b.toString('latin1', pos + RECORD_HEADER_BYTES, pos + RECORD_HEADER_BYTES + info.keyLength),
    kind: info.kind === KIND_DEL ? KIND_DEL : KIND_PUT,
    offset: at,
    length: info.length,
    expiresAt: info.expiresAt,
    group: group.offset,
    groupLength: group.length,
  });
  const scan = scanSegment((at, n) => bytes(at - base, n), base, base + length, {
    visitor: committedOnly(entryOf, (e) => entries.push(e)),
    codec,
    format,
    sealed: false,
    chunkBytes: Math.max(1, length),
    onDamage: (d) => damage.push(d),
  });
  return { validEnd: scan.validEnd, end: scan.end, entries, damage, records: scan.records, groups };
}
