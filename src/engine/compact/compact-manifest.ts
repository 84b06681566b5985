// Compaction's manifest changes, each made in a write session under the writer
// lock (docs/design.md "Compaction"): the snapshot and its marker, the switch
// to the rewrite's output, abandoning a compaction that failed, and ending one
// whose process runs on another host (`tzkv unlock --force`). compact.ts runs
// them around the rewrite, which holds no lock.
import { TzkvError, ioError } from '../../errors.js';
import { FILE_HEADER_BYTES } from '../../format/constants.js';
import { censusValid } from '../../format/manifest.js';
import type { CompactionMarker, CompactionSummary, Manifest, RunInfo } from '../../format/manifest.js';
import { monotonicMs } from '../../io/clock.js';
import { endMarker, failedSummary, liveCompaction, markerState, newMarker, snapshotIntact } from '../files/compaction-marker.js';
import { runName, segmentName } from '../files/layout.js';
import { missingFileError, missingFiles } from '../files/manifest-files.js';
import { FileNumbers } from '../files/store-manifest.js';
import type { CensusCount, ManifestEdit } from '../files/store-manifest.js';
import { phantomOf, shadowedShift } from '../read/census.js';
import { RunReader } from '../runs/run-reader.js';
import type { View } from '../read/view.js';
import type { WriteSession } from '../write/write-session.js';
import type { RewriteOutput } from './compact-rewrite.js';

/**
 * The snapshot: indexes the tail, seals the active segment, reserves file
 * numbers for the output and records the marker, in one manifest
 * replacement. Returns the marker as recorded. Throws LOCKED when another
 * compaction is running. REQUIRES: s.prepare().
 */
export function beginCompaction(s: WriteSession, now: number): CompactionMarker {
  const running = liveCompaction(s.manifest, s.options.processes);
  if (running) {
    const foreign = markerState(running, s.options.processes) === 'foreign';
    throw new TzkvError(
      'LOCKED',
      `store ${s.dir} is being compacted by pid ${running.pid}${foreign ? ` on ${running.host}` : ''} (since ${running.started}); one compaction runs at a time${
        foreign ? '. It runs on another host, which tzkv cannot check: if that process is gone, `tzkv unlock --force` ends it' : ''
      }`,
      { path: s.dir, info: { compacting: true, pid: running.pid, host: running.host, since: running.started } },
    );
  }
  const missing = missingFiles(s.manifest, s.fs.readdir(s.dir));
  if (missing.length > 0) throw missingFileError(s.dir, missing[0], 'a compaction reads every segment (run `tzkv verify`)');
  if (s.active.end > s.manifest.active.indexedTo) s.indexTail();
  const m = s.manifest;
  const numbers = new FileNumbers(m.nextFile);
  let bytes = 0;
  for (const seg of m.segments) bytes += seg.size ?? s.active.end;
  // Any two consecutive output segments hold more than segmentBytes: this many numbers always suffice.
  const files = { first: numbers.next, count: 2 + 2 * Math.ceil(bytes / s.options.segmentBytes) };
  numbers.next += files.count;
  // The active segment is sealed into the snapshot; new writes go to a segment numbered after the output's.
  const edit: ManifestEdit = {};
  s.roll(edit, numbers);
  const marker = newMarker({ segments: m.segments.map((seg) => seg.file), runs: m.runs.map((r) => r.file), files }, now, s.options.processes);
  edit.compaction = marker;
  edit.nextFile = numbers.next;
  try {
    return s.install(edit).compaction!;
  } catch (err) {
    endMarker(marker); // the manifest may have landed: its marker is stale from now on
    throw err;
  }
}

/**
 * The switch: checks the snapshot is still in place, renames the output in,
 * and replaces the manifest: the output as the oldest data, everything written
 * since the snapshot on top. Returns the names of the snapshot's files, now
 * unlisted, for the caller to delete after releasing the lock (deleting large
 * files takes a while; should it not happen, the next writer deletes them).
 * Throws PRECONDITION when the snapshot changed (nothing is lost: the caller
 * deletes the output). REQUIRES: s.prepare().
 */
export function finishCompaction(
  s: WriteSession,
  marker: CompactionMarker,
  out: RewriteOutput,
  now: number,
  summary: (lockHeldMs: number) => CompactionSummary,
  heldBefore: number,
): string[] {
  const m = s.manifest;
  if (!snapshotIntact(m, marker)) {
    throw new TzkvError(
      'PRECONDITION',
      `store ${s.dir} changed under the compaction (another compaction, or a writer that does not know compaction markers, replaced its snapshot); nothing was changed, run it again`,
      { path: s.dir },
    );
  }
  const newerRuns = m.runs.slice(0, m.runs.length - marker.runs.length);
  const newerSegments = m.segments.slice(marker.segments.length);
  // Everything that reads or can fail comes before the renames: after them, a failure would leave numbered files unlisted.
  const census = censusAfter(s.view, m, out, newerRuns, now);
  const renames: Array<[string, string]> = out.segments.map((o) => [o.tmp, `${s.dir}/${segmentName(o.file)}`]);
  if (out.run) renames.push([out.run.tmp, `${s.dir}/${runName(out.run.info.file)}`]);
  try {
    for (const [from, to] of renames) s.fs.rename(from, to);
    s.fs.fsyncDir(s.dir);
  } catch (err) {
    throw ioError(err, 'cannot rename compacted files into', s.dir);
  }
  // Every byte of the output is a copy of the snapshot: a follower of the log (engine/follow/) reads none of it as new.
  const copiedFrom = marker.segments[marker.segments.length - 1];
  const output = out.segments.map((o) => ({ file: o.file, size: o.size, copied: o.size, copiedFrom, ...(o.key > 0 ? { key: o.key } : {}) }));
  const edit: ManifestEdit = {
    census,
    // The output run takes the snapshot's runs' place, the oldest (there is none when the snapshot had no run: nothing was kept).
    runs: { remove: marker.runs, add: out.run ? [out.run.info] : [] },
    segments: { remove: marker.segments, add: output },
    compaction: null,
    counted: { expiredDropped: out.expiredDropped, compactedRecords: out.dropped },
    lastCompaction: new Date(now).toISOString(),
  };
  const gone = [...marker.segments.map(segmentName), ...marker.runs.map(runName)];
  const started = newerSegments[newerSegments.length - 1];
  if (newerSegments.length === 1 && s.active.end === FILE_HEADER_BYTES && output.length > 0) {
    // Nothing was written since the snapshot: the last output segment becomes the active one again.
    edit.segments = { remove: [...marker.segments, started.file], add: output };
    edit.indexedTo = output[output.length - 1].size!;
    gone.push(segmentName(started.file));
    s.active.close(); // an empty segment about to be deleted
  }
  edit.compactionReport = summary(heldBefore + (monotonicMs() - s.lockedAt));
  s.install(edit);
  return gone;
}

/**
 * The census after a switch (docs/design.md "Census"). Keys shadowed by runs
 * written since the snapshot were accounted when those runs were written; the
 * rest of the dropped expired PUTs leave the census now. Removes those runs
 * hold for dropped expired PUTs would now dangle: counted as `phantom`. None
 * (stats counts by a scan) when records shrank by compression and runs were
 * written since the snapshot.
 */
function censusAfter(view: View, m: Manifest, out: RewriteOutput, newerRuns: RunInfo[], now: number): CensusCount | null {
  if (newerRuns.length === 0) return { keys: out.kept, bytes: out.keptBytes };
  // Values this compaction compressed shrank their records, by how much for keys newer runs did not shadow is not known here: stale until the next compaction.
  if (!censusValid(m) || out.compressedSaved > 0) return null;
  const phantom = phantomOf(view, newerRuns.length, now);
  let moved = out.keptShift;
  if (moved !== 0 && out.run) {
    const output = RunReader.open(view.fs, view.dir, out.run.info.file, view.codec, out.run.tmp.slice(view.dir.length + 1));
    try {
      moved -= shadowedShift(view, newerRuns.length, output, out.run.info);
    } finally {
      output.close();
    }
  }
  return {
    keys: m.census.keys - (out.expiredDropped - phantom.keys),
    bytes: m.census.bytes - (out.expiredDroppedBytes - phantom.censusBytes) + moved,
    ...(phantom.keys > 0 ? { phantom: { keys: phantom.keys, bytes: phantom.bytes } } : {}),
  };
}

/**
 * Ends a compaction that failed: removes its marker and records the failure,
 * when the marker is still its own. When nothing was written since the
 * snapshot, the empty segment the snapshot started goes too and the one it
 * sealed is the active segment again: the store is as before the compaction.
 * REQUIRES: s.prepare(); the compaction's temporary files already removed.
 */
export function abandonCompaction(s: WriteSession, marker: CompactionMarker, summary: CompactionSummary): void {
  const m = s.manifest;
  if (m.compaction?.token !== marker.token) return;
  const edit: ManifestEdit = { compaction: null, compactionReport: summary };
  const started = m.segments[m.segments.length - 1];
  const untouched =
    snapshotIntact(m, marker) && m.segments.length === marker.segments.length + 1 && m.runs.length === marker.runs.length && s.active.end === FILE_HEADER_BYTES;
  if (untouched) {
    // The snapshot indexed the sealed segment whole.
    edit.segments = { remove: [started.file], add: [] };
    edit.indexedTo = m.segments[m.segments.length - 2].size!;
    s.active.close(); // an empty segment about to be deleted
  }
  s.install(edit);
  if (untouched) s.removeFile(segmentName(started.file));
}

/**
 * Ends the compaction marker of a process on another host (`tzkv unlock
 * --force`), recording the compaction as failed. Returns the marker, or null
 * when there is none or its process runs on this host. REQUIRES: s.prepare().
 */
export function forceEndCompaction(s: WriteSession): CompactionMarker | null {
  const c = s.manifest.compaction;
  if (!c || markerState(c, s.options.processes) !== 'foreign') return null;
  const at = new Date(s.options.now()).toISOString();
  s.install({ compaction: null, compactionReport: failedSummary(at, `failed: ended by \`tzkv unlock --force\` (pid ${c.pid} on ${c.host} never switched it in)`) });
  return c;
}
