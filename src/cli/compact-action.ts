// What `tzkv compact` does once its command line is parsed: the --if-needed
// policy (compact only when enough of the store is dead or awaits
// compression, skip while another compaction runs), then the store's compaction. src/commands/compact.ts prints
// the result.

import type { CompactReport } from '../api.js';
import { TzkvError, isTzkvError } from '../errors.js';
import { type StoreFlags, withStore } from './open-store.js';
import { parseRatio, parseSize } from './size.js';

export interface CompactRequest extends StoreFlags {
  'dry-run': boolean;
  defrag: boolean;
  'if-needed': boolean;
  'new-data-key': boolean;
  /** Either threshold given at all implies --if-needed. */
  'min-dead-ratio'?: string;
  'min-dead-bytes'?: string;
}

/** What compact reports when --if-needed finds too little to reclaim, or another compaction running. */
export interface CompactSkipped {
  compacted: false;
  skipped: true;
  reason: string;
  deadBytes: number;
  totalBytes: number;
  /** A compressed store's: bytes of values awaiting compression (StoreStats.compression.pending). */
  pendingBytes?: number;
}

/**
 * Compacts the store, or with --if-needed (or a threshold) skips unless the
 * dead bytes reach both thresholds or, in a compressed store, the bytes of
 * values awaiting compression reach either.
 */
export async function compactStore(request: CompactRequest): Promise<CompactReport | CompactSkipped> {
  const minRatio = parseRatio(request['min-dead-ratio'] ?? '0.5', '--min-dead-ratio');
  const minBytes = parseSize(request['min-dead-bytes'] ?? '64M', '--min-dead-bytes');
  const ifNeeded = request['if-needed'] || request['min-dead-ratio'] !== undefined || request['min-dead-bytes'] !== undefined;
  if (request['new-data-key'] && request['dry-run']) throw new TzkvError('INVALID_ARGUMENT', '--new-data-key rotates the data key as the store is rewritten; --dry-run rewrites nothing: give one of them');
  return withStore(request, 'write', 'tzkv compact', async (store): Promise<CompactReport | CompactSkipped> => {
    if (ifNeeded) {
      const { deadBytes, totalBytes, compacting, compression } = await store.stats();
      if (compacting) {
        const reason = `a compaction is already running (pid ${compacting.pid}, since ${compacting.since})`;
        return { compacted: false, skipped: true, reason, deadBytes, totalBytes };
      }
      const share = (n: number) => (totalBytes === 0 ? 0 : n / totalBytes);
      const percent = (n: number) => `${(share(n) * 100).toFixed(1)}%`;
      const deadEnough = deadBytes > 0 && share(deadBytes) >= minRatio && deadBytes >= minBytes;
      // Values an import left uncompressed (docs/design.md "Compression"): either threshold is reason enough, so an imported store does not stay big.
      const pendingBytes = compression?.pending.bytes ?? 0;
      const pendingEnough = pendingBytes > 0 && (share(pendingBytes) >= minRatio || pendingBytes >= minBytes);
      if (!deadEnough && !pendingEnough) {
        const pending = pendingBytes > 0 ? `; ${pendingBytes} bytes of values await compression (${percent(pendingBytes)}): below both` : '';
        const reason = `${deadBytes} of ${totalBytes} bytes are dead (${percent(deadBytes)}): below --min-dead-ratio ${minRatio} or --min-dead-bytes ${minBytes}${pending}`;
        return { compacted: false, skipped: true, reason, deadBytes, totalBytes, ...(compression ? { pendingBytes } : {}) };
      }
    }
    try {
      return await store.compact({ dryRun: request['dry-run'], defrag: request.defrag, ...(request['new-data-key'] ? { newDataKey: true } : {}) });
    } catch (err) {
      // A compaction that started after the check above: for cron, that is a skip as well.
      if (!ifNeeded || !isTzkvError(err, 'LOCKED') || err.info?.compacting !== true) throw err;
      const { deadBytes, totalBytes } = await store.stats();
      return { compacted: false, skipped: true, reason: `a compaction is already running (pid ${String(err.info.pid)}, since ${String(err.info.since)})`, deadBytes, totalBytes };
    }
  });
}
