// Compaction: rewrite live records into new segments with one fresh index run,
// then switch by replacing the manifest (docs/design.md "Compaction").
import type { CompactReport } from '../api.js';
import { FILE_HEADER_BYTES, KIND_PUT } from '../format/constants.js';
import { encodeRecord } from '../format/record.js';
import { isExpired } from './keys.js';
import type { View } from './view.js';
import type { Writer } from './writer.js';

export function compactStore(v: View, w: Writer | null, now: number, dryRun: boolean, segmentBytes: number): CompactReport {
  const started = Date.now();
  const m = v.manifest;
  let bytesBefore = 0;
  if (m) for (const s of m.segments) bytesBefore += s.size ?? v.activeSize;
  let kept = 0;
  let dropped = 0;
  // The size after: live records laid out exactly as the rewrite will, a header per segment.
  let bytesAfter = 0;
  let pos = FILE_HEADER_BYTES;
  if (m) {
    for (const e of v.merged(Buffer.alloc(0))) {
      if (e.kind === KIND_PUT && !isExpired(e.expiresAt, now)) {
        kept++;
        if (pos > FILE_HEADER_BYTES && pos + e.length > segmentBytes) {
          bytesAfter += pos;
          pos = FILE_HEADER_BYTES;
        }
        pos += e.length;
      } else dropped++;
    }
    bytesAfter += pos;
  }
  const report: CompactReport = {
    compacted: false,
    dryRun,
    bytesBefore,
    bytesAfter,
    recordsKept: kept,
    recordsDropped: dropped,
    durationMs: 0,
  };
  if (!dryRun && w && m) {
    report.bytesAfter = w.rewriteLive((emit) => {
      for (const e of v.merged(Buffer.alloc(0))) {
        if (e.kind !== KIND_PUT || isExpired(e.expiresAt, now)) continue;
        emit(e.key, encodeRecord(KIND_PUT, 0, e.key, v.readValue(e.key, e), e.expiresAt), e.expiresAt);
      }
    }, new Date(now).toISOString());
    report.compacted = true;
  }
  report.durationMs = Date.now() - started;
  return report;
}

