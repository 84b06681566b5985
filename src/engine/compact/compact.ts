// Compaction in three phases (docs/design.md "Compaction"): a snapshot under
// the writer lock, the rewrite without it, and the switch under it again.
// Writers work between the phases; readers never wait.
import type { CompactReport } from '../../api.js';
import { FILE_HEADER_BYTES, KIND_PUT } from '../../format/constants.js';
import type { CompactionSummary } from '../../format/manifest.js';
import type { FileSystem } from '../../io/fs.js';
import { removeQuietly } from '../../io/fs.js';
import { endMarker, failedSummary } from '../files/compaction-marker.js';
import { keptByCompaction, removeOutput, rewriteSnapshot, rollsOver } from './compact-rewrite.js';
import type { RewriteOutput } from './compact-rewrite.js';
import type { View } from '../read/view.js';
import { mergedEntries } from '../read/merged-entries.js';
import type { WriteSession } from '../write/write-session.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { abandonCompaction, beginCompaction, finishCompaction } from './compact-manifest.js';
import { monotonicMs } from '../../io/clock.js';
import { requireKeys } from '../keys-given.js';

/** Where a test may act between the phases: after the snapshot, and after the rewrite (before the switch). */
export type CompactPhase = 'snapshot' | 'rewritten';

/** What a dry run reports: the live records laid out exactly as the rewrite would, a header per segment. */
export function dryRunReport(v: View, now: number, segmentBytes: number): CompactReport {
  const started = monotonicMs();
  const m = v.manifest;
  const report: CompactReport = {
    compacted: false,
    dryRun: true,
    bytesBefore: 0,
    bytesAfter: 0,
    recordsKept: 0,
    recordsDropped: 0,
    expiredDropped: 0,
    durationMs: 0,
    lockHeldMs: 0,
  };
  if (m) {
    for (const s of m.segments) report.bytesBefore += s.size ?? v.activeSize;
    let pos = FILE_HEADER_BYTES;
    let any = false;
    for (const e of mergedEntries(v, Buffer.alloc(0), Buffer.alloc(0))) {
      if (keptByCompaction(e, now)) {
        report.recordsKept++;
        if (rollsOver(pos, e.length, segmentBytes)) {
          report.bytesAfter += pos;
          pos = FILE_HEADER_BYTES;
        }
        pos += e.length;
        any = true;
      } else {
        report.recordsDropped++;
        if (e.kind === KIND_PUT) report.expiredDropped++;
      }
    }
    if (any) report.bytesAfter += pos;
  }
  report.durationMs = Math.round(monotonicMs() - started);
  return report;
}

export interface CompactContext {
  fs: FileSystem;
  dir: string;
  /** The store's: what the rewrite reads the snapshot with and writes its output with. */
  codec: StoreCodec;
  now: number;
  segmentBytes: number;
  /** Runs fn under the writer lock (in a prepared write session); heldMs: how long the lock was held. */
  locked<T>(fn: (s: WriteSession) => T): Promise<{ value: T; heldMs: number }>;
  onPhase?: (phase: CompactPhase) => unknown;
  /** Tests: TTL expiries the rewrite keeps in memory before spilling them to its scratch file (default SORT_CHUNK). */
  ttlSpillChunk?: number;
}

/**
 * Runs a compaction: snapshot, rewrite, switch. On failure the store is as
 * before it (less the marker) and the error is rethrown. An encrypted store
 * opened without its secret is refused (KEY_REQUIRED) before anything is locked or written.
 */
export async function compactPhased(c: CompactContext): Promise<CompactReport> {
  requireKeys(c.codec);
  const started = monotonicMs();
  const snapshot = await c.locked((s) => ({
    marker: beginCompaction(s, c.now),
    bytes: s.manifest.segments.reduce((n, seg) => n + (seg.size ?? 0), 0),
    deferred: new Set(s.manifest.segments.filter((seg) => (seg.pending ?? 0) > 0).map((seg) => seg.file)),
  }));
  const { marker, deferred } = snapshot.value;
  let held = snapshot.heldMs;
  let out: RewriteOutput | undefined;
  try {
    await c.onPhase?.('snapshot');
    out = await rewriteSnapshot(c.fs, c.dir, c.codec, marker, c.now, c.segmentBytes, deferred, c.ttlSpillChunk);
    await c.onPhase?.('rewritten');
    const o = out;
    const report: CompactReport = {
      compacted: true,
      dryRun: false,
      bytesBefore: snapshot.value.bytes,
      bytesAfter: o.bytesAfter,
      recordsKept: o.kept,
      recordsDropped: o.dropped,
      expiredDropped: o.expiredDropped,
      durationMs: 0,
      lockHeldMs: 0,
    };
    const summary = (lockHeldMs: number): CompactionSummary => ({
      at: new Date(c.now).toISOString(),
      result: 'ok',
      durationMs: Math.round(monotonicMs() - started),
      lockHeldMs: Math.round(lockHeldMs * 10) / 10,
      bytesBefore: report.bytesBefore,
      bytesAfter: report.bytesAfter,
      recordsKept: report.recordsKept,
      recordsDropped: report.recordsDropped,
      expiredDropped: report.expiredDropped,
      ...(o.values ? { values: o.values } : {}),
    });
    const heldBefore = held;
    const sw = await c.locked((s) => finishCompaction(s, marker, o, c.now, summary, heldBefore));
    held += sw.heldMs;
    for (const name of sw.value) removeQuietly(c.fs, `${c.dir}/${name}`);
    report.durationMs = Math.round(monotonicMs() - started);
    report.lockHeldMs = Math.round(held * 10) / 10;
    return report;
  } catch (err) {
    if (out) removeOutput(c.fs, out);
    const reason = err instanceof Error ? err.message : String(err);
    const failed = failedSummary(new Date(c.now).toISOString(), `failed: ${reason}`, Math.round(monotonicMs() - started), held);
    try {
      await c.locked((s) => abandonCompaction(s, marker, failed));
    } catch {
      // The marker stays; it names this process, so it is stale as soon as this compaction ends (below).
    }
    throw err;
  } finally {
    endMarker(marker);
  }
}
