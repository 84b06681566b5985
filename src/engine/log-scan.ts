// Scanning a stretch of a data segment: the valid prefix, the committed
// records in it, and how the stretch ends (docs/format.md "Recovery rules").
// Pure: works on bytes already read.
import { KIND_COMMIT, KIND_DEL, KIND_PUT, RECORD_HEADER_BYTES } from '../format/constants.js';
import { RECORD_BAD, RECORD_OK, RECORD_SHORT, RecordInfo, commitCount, decodeRecord } from '../format/record.js';

/** One committed PUT or DEL found by a scan. Keys are latin1 strings: one char per byte, so `<` is byte order. */
export interface LogEntry {
  key: string;
  kind: number;
  offset: number; // absolute offset in the segment
  length: number;
  expiresAt: number;
}

export type ScanEnd =
  | { kind: 'clean' } // the stretch ends exactly after a committed record
  | { kind: 'torn'; offset: number } // a partial record at the end: expected after a crash
  | { kind: 'uncommitted'; offset: number; records: number } // an interrupted batch at the end
  | { kind: 'corrupt'; offset: number; reason: string }; // damage followed by more data

export interface ScanResult {
  /** Absolute offset where the valid, committed prefix ends. */
  validEnd: number;
  end: ScanEnd;
  /** Committed records in log order. */
  entries: LogEntry[];
  /** Records decoded (committed or not, commit markers included). */
  records: number;
}

function allZero(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Whether a whole, CRC-valid record starts anywhere in buf(from, length). */
function validRecordAfter(buf: Buffer, from: number, length: number): boolean {
  const info = new RecordInfo();
  for (let q = from + 1; q + RECORD_HEADER_BYTES <= length; q++) {
    const kind = buf[q + 4];
    if (kind < KIND_PUT || kind > KIND_COMMIT) continue;
    if (decodeRecord(buf, q, length, info, true) === RECORD_OK) return true;
  }
  return false;
}

/**
 * Scans buf[0, length), which holds the segment's bytes from absolute offset
 * `base`. `onEntry` sees committed records in order (batch records at their
 * COMMIT); when omitted, entries are collected in the result.
 */
export function scanLog(buf: Buffer, base: number, length = buf.length, collect = true): ScanResult {
  const info = new RecordInfo();
  const entries: LogEntry[] = [];
  let pending: LogEntry[] = [];
  let pos = 0;
  let validEnd = 0;
  let records = 0;
  let end: ScanEnd = { kind: 'clean' };
  while (pos < length) {
    const status = decodeRecord(buf, pos, length, info, true);
    if (status === RECORD_SHORT) {
      // A record claiming to run past the end is torn, unless whole records follow it:
      // then its length field is damaged, and cutting it off would drop acknowledged writes.
      if (info.length > 0 && validRecordAfter(buf, pos, length)) {
        end = { kind: 'corrupt', offset: base + pos, reason: `record length ${info.length} runs past the end of data that continues with valid records` };
      } else {
        end = { kind: 'torn', offset: base + pos };
      }
      break;
    }
    if (status === RECORD_BAD) {
      // Torn: nothing but this record (or its partial header) and zero bytes up to the end.
      const extent = info.length > 0 && pos + info.length <= length ? pos + info.length : Math.min(length, pos + RECORD_HEADER_BYTES);
      if (allZero(buf, extent, length) && !validRecordAfter(buf, pos, length)) {
        end = { kind: 'torn', offset: base + pos };
      } else {
        end = { kind: 'corrupt', offset: base + pos, reason: info.reason };
      }
      break;
    }
    const len = info.length;
    records++;
    if (info.kind === KIND_COMMIT) {
      const count = commitCount(buf, pos);
      if (count !== pending.length) {
        end = { kind: 'corrupt', offset: base + pos, reason: `commit marker counts ${count} records, the batch has ${pending.length}` };
        break;
      }
      if (collect) for (const e of pending) entries.push(e);
      pending = [];
      validEnd = pos + len;
    } else {
      const entry: LogEntry = {
        key: buf.toString('latin1', pos + 20, pos + 20 + info.keyLength),
        kind: info.kind === KIND_DEL ? KIND_DEL : KIND_PUT,
        offset: base + pos,
        length: len,
        expiresAt: info.expiresAt,
      };
      if (info.batch) {
        pending.push(entry);
      } else {
        if (pending.length > 0) {
          end = { kind: 'corrupt', offset: base + pos, reason: 'a record follows a batch that has no commit marker' };
          break;
        }
        if (collect) entries.push(entry);
        validEnd = pos + len;
      }
    }
    pos += len;
  }
  if (end.kind === 'clean' && pending.length > 0) {
    end = { kind: 'uncommitted', offset: base + validEnd, records: pending.length };
  }
  return { validEnd: base + validEnd, end, entries, records };
}
