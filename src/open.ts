// open(): a store directory, or an etcd cluster when the location is an
// etcd:// address (docs/etcd.md). The etcd backend is imported only then.
import type { InitOptions, InitReport, OpenOptions, Store } from './api.js';
import { TzkvError } from './errors.js';
import { initStore } from './local/init-store.js';
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

/**
 * Creates a directory store, plain, encrypted and/or compressed (docs/cli.md
 * "init"). An etcd address is INVALID_ARGUMENT: an etcd prefix needs no
 * init, and encryption and compression are properties of directory stores
 * (etcd has its own encryption at rest).
 */
export function init(location: string, options: InitOptions = {}): Promise<InitReport> {
  if (typeof location === 'string' && isEtcdAddress(location)) {
    const what = options.encrypt || options.compression !== undefined ? 'encryption and compression are properties of directory stores (etcd has its own encryption at rest)' : 'an etcd prefix needs no init: its first write starts it';
    return Promise.reject(new TzkvError('INVALID_ARGUMENT', `init makes directory stores, not ${location}: ${what}`));
  }
  return initStore(location, options);
}
