// open(): a store directory, or an etcd cluster when the location is an
// etcd:// address (docs/etcd.md). The etcd backend is imported only then.
import type { OpenOptions, Store } from './api.js';
import { open as openDirectory } from './local/local-store.js';
import { isEtcdAddress } from './etcd/url.js';

/** The default of OpenOptions.etcd.timeoutMs. */
const DEFAULT_ETCD_TIMEOUT_MS = 5_000;

export async function open(location: string, options: OpenOptions = {}): Promise<Store> {
  if (typeof location === 'string' && isEtcdAddress(location)) {
    const { openEtcdStore } = await import('./etcd/index.js');
    const { timeoutMs = DEFAULT_ETCD_TIMEOUT_MS, ...connect } = options.etcd ?? {};
    return openEtcdStore(location, { ...connect, timeoutMs, readOnly: options.readOnly, now: options.now });
  }
  return openDirectory(location, options);
}
