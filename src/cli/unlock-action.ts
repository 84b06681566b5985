// What `tzkv unlock` does once its command line is parsed: reads who holds
// the writer lock and which compaction the store records as running, or with
// --force removes the lock and then ends that compaction, warning on stderr of
// what it removed. Also the words for a holder and the advice on a lock, which
// src/commands/unlock.ts prints with the result.

import type { CompactionInfo, LockHolderInfo } from '../api.js';
import { printMessage } from './output.js';
import { type StoreFlags, storeDirectory, withStore } from './open-store.js';

export interface UnlockRequest extends StoreFlags {
  force: boolean;
}

/** What unlock found and did (its --json document). */
export interface UnlockReport {
  locked: boolean;
  holder: LockHolderInfo | null;
  removed: boolean;
  compaction: CompactionInfo | null;
  compactionEnded: boolean;
}

/** A lock's holder in words: pid, host, command and since when. */
export function describeHolder(h: LockHolderInfo): string {
  if (h.pid === 0) return 'an unreadable lock file';
  const since = h.since === null ? '' : ` since ${h.since}`;
  return `pid ${h.pid} on ${h.host} (${h.command || 'unknown command'})${since}`;
}

export const describeCompaction = (c: CompactionInfo) => `pid ${c.pid} on ${c.host} since ${c.since}`;

/** What to do about a lock, by what tzkv can tell of its holder: --force only for one it cannot judge. */
export function lockAdvice(dir: string, h: LockHolderInfo): string {
  const force = `\`tzkv unlock --force -d ${dir}\` removes the lock`;
  if (h.pid === 0) return `${dir} is locked and its lock file is unreadable, so tzkv cannot tell who holds it: if no tzkv process is writing to this store, ${force}`;
  switch (h.state) {
    case 'alive':
      return `${dir} is locked by ${describeHolder(h)}, which is still running: wait for it to finish, or give the command that waits for it a longer --lock-timeout. Do not use --force while it runs: two writers at once can damage the store`;
    case 'dead':
      return `${dir} is locked by ${describeHolder(h)}, which is no longer running: the next writer removes the lock by itself`;
    case 'unknown':
      return `${dir} is locked by ${describeHolder(h)}, on another host, where tzkv cannot see whether it still runs: once you know it has ended, ${force}`;
  }
}

/** Shows the lock, or with --force removes it and ends the recorded compaction (the store ends only one from another host). */
export async function unlockStore(request: UnlockRequest): Promise<UnlockReport> {
  const dir = storeDirectory(request.dir);
  const lock = await withStore(request, 'read', 'tzkv unlock', async (store) => {
    const compaction = (await store.stats()).compacting;
    const admin = store.admin(); // none for an etcd cluster: it takes no writer lock
    if (!request.force) {
      const holder = (await admin?.lockHolder()) ?? null;
      return { locked: holder !== null, holder, removed: false, compaction };
    }
    const holder = (await admin?.forceUnlock()) ?? null;
    return { locked: false, holder, removed: holder !== null, compaction };
  });
  // Under the writer lock, once it is free: the store ends the compaction only if it runs on another host.
  const ended = request.force && lock.compaction !== null ? await withStore(request, 'write', 'tzkv unlock', async (store) => (await store.admin()?.forceEndCompaction()) ?? null) : null;
  const report = { ...lock, compactionEnded: ended !== null };
  if (report.removed && report.holder) {
    printMessage(`warning: removed the writer lock of ${describeHolder(report.holder)} from ${dir}; if that process is still writing, run \`tzkv verify\` once it ends`);
  }
  if (ended) printMessage(`warning: ended the compaction of ${describeCompaction(ended)} in ${dir}; the next compaction starts afresh`);
  return report;
}
