// Compaction: rewrite live records into new segments with one fresh index run,
// then switch by replacing the manifest (docs/design.md "Compaction").
import type { CompactReport } from '../api.js';
import { FILE_HEADER_BYTES, KIND_PUT } from '../format/constants.js';
import { encodeRecord } from '../format/record.js';
import { isExpired } from './keys.js';
import type { View } from './view.js';
import type { Writer } from './writer.js';

export function compactStore(v: View, w: Writer | null, now: number, dryRun: boolean): CompactReport {
  const started = Date.now();
  const m = v.manifest;
  let bytesBefore = 0;
  if (m) for (const s of m.segments) bytesBefore += s.size ?? v.activeSize;
  let kept = 0;
  let liveBytes = 0;
  let dropped = 0;
  if (m) {
    for (const e of v.merged(Buffer.alloc(0))) {
      if (e.kind === KIND_PUT && !isExpired(e.expiresAt, now)) {
        kept++;
        liveBytes += e.length;
      } else dropped++;
    }
  }
  const report: CompactReport = {
    compacted: false,
    dryRun,
    bytesBefore,
    bytesAfter: m ? liveBytes + FILE_HEADER_BYTES * 2 : 0,
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

