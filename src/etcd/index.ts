// The etcd backend's entry point, loaded only when a store address is an
// etcd:// URL (the CLI bundles it apart: scripts/build.mjs).
import { openEtcd, type EtcdOpenOptions, type EtcdStore } from './etcd-store.js';
import { parseEtcdAddress } from './url.js';

export type { EtcdOpenOptions, EtcdStore };

export function openEtcdStore(location: string, options: EtcdOpenOptions): Promise<EtcdStore> {
  return openEtcd(parseEtcdAddress(location), options);
}
