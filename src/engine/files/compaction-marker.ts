// The manifest's `compaction` marker (docs/format.md "MANIFEST"): who is
// compacting, from which snapshot, into which reserved file numbers. Its
// holder is judged like the lock's: a marker naming a dead process is stale.
import type { CompactionMarker, CompactionSummary, Manifest } from '../../format/manifest.js';
import type { CompactionInfo } from '../../api.js';
import { type HolderState, holderState } from '../../lock/lock-holder.js';
import type { Processes } from '../../io/processes.js';
import { ownIdentity } from '../../io/processes.js';
import { randomHex } from '../../io/random.js';

/** Tokens of the compactions this process runs now: a marker naming this process with another token is a leftover. */
const running = new Set<string>();

/** The marker of a compaction this process starts; the manifest that records it gives it its generation (store-manifest.ts). */
export function newMarker(snapshot: Pick<CompactionMarker, 'segments' | 'runs' | 'files'>, now: number, processes: Processes): Omit<CompactionMarker, 'generation'> {
  const token = randomHex(8);
  running.add(token);
  return {
    ...ownIdentity(processes),
    token,
    started: new Date(now).toISOString(),
    ...snapshot,
  };
}

/** The compaction of `marker` has ended in this process (whatever the outcome): its marker is stale from now on. */
export function endMarker(marker: Pick<CompactionMarker, 'token'>): void {
  running.delete(marker.token);
}

/** Whether the marker's compaction may still be running: judged as the lock's holder is. One from another host is never judged stale. */
export function markerLive(c: CompactionMarker, processes: Processes): boolean {
  return markerState(c, processes) !== 'dead';
}

/** The marker's process: alive or dead on this host, or on another host ('foreign': it cannot be seen). */
export function markerState(c: CompactionMarker, processes: Processes): HolderState {
  return holderState(c, processes, running);
}

/** The report of a compaction that ended without a result. */
export function failedSummary(at: string, result: string, durationMs = 0, lockHeldMs = 0): CompactionSummary {
  return { at, result, durationMs, lockHeldMs, bytesBefore: 0, bytesAfter: 0, recordsKept: 0, recordsDropped: 0, expiredDropped: 0 };
}

/** What the API and the CLI show of a marker. */
export function compactionInfo(c: CompactionMarker): CompactionInfo {
  return { pid: c.pid, host: c.host, since: c.started, snapshotGeneration: c.generation };
}

/** The running compaction a manifest names, or null (none, or stale). */
export function liveCompaction(m: Manifest | null, processes: Processes): CompactionMarker | null {
  return m?.compaction && markerLive(m.compaction, processes) ? m.compaction : null;
}

/** How many of the runs (newest first) a merge may touch: not the snapshot of a running compaction. */
export function mergeableRuns(m: Manifest, processes: Processes): number {
  const c = liveCompaction(m, processes);
  if (!c || c.runs.length === 0) return m.runs.length;
  const frozen = new Set(c.runs);
  const first = m.runs.findIndex((r) => frozen.has(r.file));
  return first < 0 ? m.runs.length : first;
}

/**
 * True when `m` still holds the snapshot of `marker` exactly: the same marker,
 * its segments first (same sizes implied: sealed segments never change), its
 * runs last, in order. Anything else (another compaction, a writer that does
 * not know markers) means its output may no longer match the store.
 */
export function snapshotIntact(m: Manifest, marker: CompactionMarker): boolean {
  if (m.compaction?.token !== marker.token) return false;
  const { segments, runs } = marker;
  if (m.segments.length <= segments.length || m.runs.length < runs.length) return false;
  for (let i = 0; i < segments.length; i++) if (m.segments[i].file !== segments[i] || m.segments[i].size === null) return false;
  const offset = m.runs.length - runs.length;
  for (let i = 0; i < runs.length; i++) if (m.runs[offset + i].file !== runs[i]) return false;
  return true;
}
