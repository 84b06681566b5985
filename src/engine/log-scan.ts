// Scanning a stretch of a data segment already in memory: the valid prefix,
// the committed records in it, and how the stretch ends (docs/format.md
// "Recovery rules"). The rules themselves are RecordScanner's (record-scan.ts).
import { KIND_DEL, KIND_PUT } from '../format/constants.js';
import { RecordScanner } from './record-scan.js';
import type { ScanEnd } from './record-scan.js';

export type { ScanEnd } from './record-scan.js';

/** One committed PUT or DEL found by a scan. Keys are latin1 strings: one char per byte, so `<` is byte order. */
export interface LogEntry {
  key: string;
  kind: number;
  offset: number; // absolute offset in the segment
  length: number;
  expiresAt: number;
}

export interface ScanResult {
  /** Absolute offset where the valid, committed prefix ends. */
  validEnd: number;
  end: ScanEnd;
  /** Committed records in log order. */
  entries: LogEntry[];
  /** Records decoded (committed or not, commit markers included). */
  records: number;
}

/**
 * Scans buf[0, length), which holds the segment's bytes from absolute offset
 * `base`, to its end. With `collect`, the committed records are returned in
 * order (batch records at their COMMIT).
 */
export function scanLog(buf: Buffer, base: number, length = buf.length, collect = true): ScanResult {
  const entries: LogEntry[] = [];
  let pending: LogEntry[] = [];
  const scanner = new RecordScanner(
    base,
    collect
      ? {
          record(b, pos, at, info) {
            const entry: LogEntry = {
              key: b.toString('latin1', pos + 20, pos + 20 + info.keyLength),
              kind: info.kind === KIND_DEL ? KIND_DEL : KIND_PUT,
              offset: at,
              length: info.length,
              expiresAt: info.expiresAt,
            };
            if (info.batch) pending.push(entry);
            else entries.push(entry);
          },
          commit() {
            for (const e of pending) entries.push(e);
            pending = [];
          },
        }
      : {},
    base + length,
  );
  scanner.push(buf, 0, length);
  const end = scanner.finish();
  return { validEnd: scanner.validEnd, end, entries, records: scanner.records };
}
