// Store statistics. Counts live and expired keys by merging the index
// (cost grows with the store; counters that avoid the scan are issue #5's).
import type { StoreStats } from '../api.js';
import { KIND_PUT } from '../format/constants.js';
import { isExpired } from './keys.js';
import type { View } from './view.js';

export function storeStats(v: View, now: number, formatVersion: number): StoreStats {
  const m = v.manifest;
  if (!m) {
    return {
      location: v.dir,
      formatVersion,
      keys: 0,
      expiredKeys: 0,
      segments: 0,
      totalBytes: 0,
      liveBytes: 0,
      deadBytes: 0,
      puts: 0,
      deletes: 0,
      lastCompaction: null,
      details: { runs: 0, generation: 0 },
    };
  }
  let keys = 0;
  let expiredKeys = 0;
  let liveBytes = 0;
  for (const e of v.merged(Buffer.alloc(0))) {
    if (e.kind !== KIND_PUT) continue;
    if (isExpired(e.expiresAt, now)) expiredKeys++;
    else {
      keys++;
      liveBytes += e.length;
    }
  }
  let totalBytes = 0;
  for (const s of m.segments) totalBytes += s.size ?? v.activeSize;
  return {
    location: v.dir,
    formatVersion,
    keys,
    expiredKeys,
    segments: m.segments.length,
    totalBytes,
    liveBytes,
    deadBytes: Math.max(0, totalBytes - liveBytes),
    puts: m.counters.puts + v.tailCounts.puts,
    deletes: m.counters.deletes + v.tailCounts.deletes,
    lastCompaction: m.lastCompaction,
    details: {
      generation: m.generation,
      runs: m.runs.length,
      indexEntries: m.runs.reduce((s, r) => s + r.entries, 0),
      activeSegment: m.active.file,
      tailBytes: v.tailEnd - m.active.indexedTo,
    },
  };
}
