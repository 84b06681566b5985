// Replication between stores of different kinds (docs/etcd.md "replicate"):
// a directory store to an etcd prefix, an etcd prefix to a directory, through
// nothing but the Store interface. Both sides are listed in key order at the
// same time and merged: a key whose value or expiry differs is put, a key the
// source no longer has is deleted, everything else is left alone. Only what
// changed is written; reading both sides whole is the price of needing no
// shared history (a directory follower of a directory store uses
// replicator.ts, which ships files and reads neither side whole).
import type { Entry, Store } from '../api.js';

export interface SyncReport {
  source: string;
  target: string;
  /** The target held no key under its prefix before this run. */
  initial: boolean;
  /** Keys written (new, changed value or changed expiry) and deleted. */
  records: number;
  deleted: number;
  unchanged: number;
  /** Key and value bytes written. */
  bytesShipped: number;
  durationMs: number;
}

/** etcd keeps expiries in whole seconds: closer than this counts as equal. */
const EXPIRY_SLACK_MS = 1500;

function sameExpiry(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= EXPIRY_SLACK_MS;
}

async function next(it: AsyncIterator<Entry>): Promise<Entry | undefined> {
  const r = await it.next();
  return r.done ? undefined : r.value;
}

/** Makes `target` hold exactly the live keys of `source`. REQUIRES: target opened for writing. */
export async function syncStores(source: Store, target: Store): Promise<SyncReport> {
  const started = Date.now();
  const from = source.entries()[Symbol.asyncIterator]();
  const to = target.entries()[Symbol.asyncIterator]();
  const batch = target.batch();
  const report: SyncReport = { source: source.location, target: target.location, initial: true, records: 0, deleted: 0, unchanged: 0, bytesShipped: 0, durationMs: 0 };
  let a = await next(from);
  let b = await next(to);
  if (b) report.initial = false;
  while (a || b) {
    const order = !a ? 1 : !b ? -1 : Buffer.compare(a.key, b.key);
    if (order > 0) {
      batch.del(b!.key);
      report.deleted++;
      b = await next(to);
      continue;
    }
    if (order === 0 && a!.value.equals(b!.value) && sameExpiry(a!.expiresAt, b!.expiresAt)) report.unchanged++;
    else {
      batch.put(a!.key, a!.value, { expiresAt: a!.expiresAt });
      report.records++;
      report.bytesShipped += a!.key.length + a!.value.length;
    }
    a = await next(from);
    if (order === 0) b = await next(to);
  }
  if (batch.length > 0) await batch.write();
  else await batch.discard();
  report.durationMs = Date.now() - started;
  return report;
}
