// What `tzkv replicate` does once its command line is parsed: a follower copy
// of a directory store (the store's replicate, with a progress bar), or, when
// either side is an etcd cluster, a key-by-key merge of the two stores.
// src/commands/replicate.ts prints the report.

import type { ReplicateReport } from '../api.js';
import { TzkvError } from '../errors.js';
import { isEtcdAddress } from '../etcd/url.js';
import { syncStores, type SyncReport } from '../replication/store-sync.js';
import { DEFAULT_LOCK_TIMEOUT_MS, modeOf, openStore, secretOf, type StoreFlags, storeDirectory, withStore } from './open-store.js';
import { givenPath } from './paths.js';
import { prepareProgress, type Progress } from './progress.js';
import { adminOf } from './store-admin.js';

export interface ReplicateRequest extends StoreFlags {
  /** The follower directory, or an etcd:// address. */
  to: string;
  /** Also compare every follower file byte for byte (directory stores only). */
  check?: boolean;
  json: boolean;
}

/** A follower brought up to date, or two stores merged key by key when one side is an etcd cluster. */
export type ReplicateOutcome = { follower: ReplicateReport } | { sync: SyncReport };

export async function replicateStore(request: ReplicateRequest): Promise<ReplicateOutcome> {
  const target = storeDirectory(givenPath(request.to, '--to', 'a follower directory cannot be empty'));
  if (isEtcdAddress(target) || (request.dir !== undefined && isEtcdAddress(request.dir))) return { sync: await syncWith(request, target) };
  const follower = await withStore(request, 'read', 'tzkv replicate', async (store) => {
    // The bar's code is loaded first: the copy may run without yielding, and draws it from its callbacks.
    const makeBar = await prepareProgress('replicating', request.json);
    let progress: Progress | undefined;
    try {
      const admin = adminOf(store, (at) => `replicate from an etcd store (${at}) is not supported yet; replicate into etcd from a directory store`);
      return await admin.replicate(target, {
        check: request.check,
        mode: modeOf(request),
        onProgress: (done, total) => {
          progress ??= makeBar(total);
          progress.update(done);
        },
      });
    } finally {
      progress?.stop();
    }
  });
  return { follower };
}

/** Replication where one side is an etcd cluster: a key-by-key merge of the two stores. */
async function syncWith(request: ReplicateRequest, target: string): Promise<SyncReport> {
  if (request.check) throw new TzkvError('INVALID_ARGUMENT', '--check compares store files: it works only between two directory stores');
  return withStore(request, 'read', 'tzkv replicate', async (source) => {
    const dest = await openStore({ dir: target, command: 'tzkv replicate', access: 'create', lockTimeoutMs: DEFAULT_LOCK_TIMEOUT_MS, etcd: request, secret: secretOf(request) });
    try {
      return await syncStores(source, dest);
    } finally {
      await dest.close();
    }
  });
}
