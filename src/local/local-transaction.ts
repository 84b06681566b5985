// The commit of a transaction on a store directory (Store.transact): its
// writes become one atomic batch (docs/design.md "Atomic batches"), staged
// and committed under the writer lock the transaction ran under. A delete of
// a key the store does not hold live writes nothing.
import type { TransactionWrite } from '../checked-transaction.js';
import { KIND_DEL, KIND_PUT } from '../format/constants.js';
import { StagedBatch, type SpillTo } from '../engine/write/batch.js';
import type { WriteSession } from '../engine/write/write-session.js';

/**
 * Commits `writes` through `w` as one batch; nothing when none is left.
 * `holds` says whether the store holds a key live. REQUIRES: w prepared, under the lock.
 */
export function commitTransaction(w: WriteSession, writes: TransactionWrite[], spill: SpillTo, holds: (key: Buffer) => boolean): void {
  const staged = new StagedBatch(w.codec, spill);
  try {
    for (const { key, value, expiresAt } of writes) {
      if (value !== null) staged.add(KIND_PUT, key, value, expiresAt);
      else if (holds(Buffer.from(key, 'latin1'))) staged.add(KIND_DEL, key, null, 0);
    }
    if (staged.count > 0) w.commitBatch(staged.finish());
  } finally {
    staged.cleanup();
  }
}

