// Store statistics (docs/design.md "Census"). Keys and bytes come from the
// census in the manifest plus the expiry counts in each run's TTL section
// (binary searches) and the short unindexed tail, so the cost does not grow
// with the store. A store whose census is missing or stale (written before
// it, or by an older tzkv) is counted by merging the index instead, until the
// next compaction rebuilds the census.
import type { CompactionSummary, StoreStats, VerifyProblem } from '../../api.js';
import { isTzkvError } from '../../errors.js';
import { FILE_HEADER_BYTES, KIND_PUT } from '../../format/constants.js';
import type { Census, CompactionSummary as CompactionRecord } from '../../format/manifest.js';
import { CensusDelta } from './census.js';
import { censusValid } from '../../format/manifest.js';
import { compactionInfo, liveCompaction } from '../files/compaction-marker.js';
import type { Processes } from '../../io/processes.js';
import { isExpired } from '../../keys.js';
import { sortedLookup } from '../runs/run-probe.js';
import { ttlSection, ttlUpTo } from '../runs/run-ttl.js';
import { TtlList } from '../runs/ttl-list.js';
import type { View } from './view.js';
import { mergedEntries } from './merged-entries.js';
import { censusLengthOf } from '../../format/seal-share.js';
import { compressionFacts, encryptionFacts } from './store-settings.js';

interface KeyCounts {
  keys: number;
  expiredKeys: number;
  liveBytes: number;
}

/** From the census; null when a run lacks its TTL section. */
function fromCensus(v: View, census: Census, now: number): KeyCounts | null {
  const runs = v.manifest!.runs;
  let expired = 0;
  let expiredBytes = 0;
  for (let i = 0; i < runs.length; i++) {
    const run = v.run(i);
    const section = ttlSection(run);
    if (!section) return null;
    const added = ttlUpTo(run, section, 0, now);
    const removed = ttlUpTo(run, section, 1, now);
    expired += added.count - removed.count;
    expiredBytes += added.bytes - removed.bytes;
  }
  // The tail is not indexed yet: weigh it as the next flush will.
  const delta = new CensusDelta(sortedLookup(runs, (i) => v.run(i)));
  const adds = new TtlList();
  for (const e of v.tailSorted()) {
    delta.account(e.key, e.kind, censusLengthOf(e));
    if (e.kind === KIND_PUT && e.expiresAt > 0) adds.push(e.expiresAt, e.length);
  }
  const added = adds.countUpTo(now);
  const removed = delta.removes.countUpTo(now);
  expired += added.count - removed.count;
  expiredBytes += added.bytes - removed.bytes;
  // Expired PUTs a compaction dropped while newer runs list them as removed (all expired by then).
  expired += census.phantom?.keys ?? 0;
  expiredBytes += census.phantom?.bytes ?? 0;
  return {
    keys: census.keys + delta.keys - expired,
    expiredKeys: expired,
    liveBytes: census.bytes + delta.bytes - expiredBytes,
  };
}

/** By merging every run and the tail: O(keys). Damage is stepped over and told to onDamage. */
function byScan(v: View, now: number, onDamage: (damage: VerifyProblem) => void): KeyCounts {
  const counts: KeyCounts = { keys: 0, expiredKeys: 0, liveBytes: 0 };
  for (const e of mergedEntries(v, Buffer.alloc(0), Buffer.alloc(0), onDamage)) {
    if (e.kind !== KIND_PUT) continue;
    if (isExpired(e.expiresAt, now)) counts.expiredKeys++;
    else {
      counts.keys++;
      counts.liveBytes += censusLengthOf(e);
    }
  }
  return counts;
}

/**
 * The store's facts. Damaged data is stepped over and told to onDamage; when
 * an index part the census needs is damaged, the counts come from a scan of
 * what is readable (`counted: "scan"`).
 */
export function storeStats(
  v: View,
  now: number,
  formatVersion: number,
  onDamage: (damage: VerifyProblem) => void,
  processes: Processes,
): Omit<StoreStats, 'lockHolder' | 'followers' | 'lastVerify'> {
  const m = v.manifest;
  const running = liveCompaction(m, processes);
  const base = {
    location: v.dir,
    formatVersion,
    encryption: encryptionFacts(v.fs, v.dir, m, onDamage),
    compression: compressionFacts(m),
    lastCompaction: m?.lastCompaction ?? null,
    lastCompactionReport: m?.lastCompactionReport ? compactionSummary(m.lastCompactionReport) : null,
    compacting: running ? compactionInfo(running) : null,
    compactedRecords: m?.counters.compactedRecords ?? 0,
  };
  if (!m) {
    return {
      ...base,
      keys: 0,
      expiredKeys: 0,
      segments: 0,
      totalBytes: 0,
      liveBytes: 0,
      deadBytes: 0,
      deadRatio: 0,
      puts: 0,
      deletes: 0,
      counted: 'census',
      details: { runs: 0, generation: 0 },
    };
  }
  let census: KeyCounts | null = null;
  if (censusValid(m)) {
    v.reportTailDamage(onDamage);
    try {
      census = fromCensus(v, m.census, now);
    } catch (err) {
      // A damaged index part the census needs: count by a scan, which reports what it cannot read.
      if (!isTzkvError(err, 'CORRUPT')) throw err;
    }
  }
  const counts = census ?? byScan(v, now, onDamage);
  let totalBytes = 0;
  for (const s of m.segments) totalBytes += s.size ?? v.activeSize;
  // A segment's file header is neither live nor dead: no compaction reclaims it (docs/design.md "Census").
  const deadBytes = Math.max(0, totalBytes - counts.liveBytes - FILE_HEADER_BYTES * m.segments.length);
  return {
    ...base,
    ...counts,
    segments: m.segments.length,
    totalBytes,
    deadBytes,
    deadRatio: totalBytes === 0 ? 0 : deadBytes / totalBytes,
    puts: m.counters.puts + v.tailCounts.puts,
    deletes: m.counters.deletes + v.tailCounts.deletes,
    counted: census ? (!v.withKey && v.tailCounts.puts + v.tailCounts.deletes > 0 ? 'indexed' : 'census') : 'scan',
    details: {
      generation: m.generation,
      runs: m.runs.length,
      indexEntries: m.runs.reduce((s, r) => s + r.entries, 0),
      activeSegment: m.active.file,
      tailBytes: v.tailEnd - m.active.indexedTo,
    },
  };
}

/** The manifest's record of the last compaction, as the API shows it. */
function compactionSummary(r: CompactionRecord): CompactionSummary {
  const { at, result, durationMs, lockHeldMs, bytesBefore, bytesAfter, recordsKept, recordsDropped, expiredDropped } = r;
  return { at, result, durationMs, lockHeldMs, bytesBefore, bytesAfter, recordsKept, recordsDropped, expiredDropped };
}
