// Store addresses that name an etcd cluster instead of a directory
// (docs/etcd.md "Addressing"): etcd://host:port[,host:port...]/PREFIX, or
// etcds:// for TLS. Credentials never appear in the address.
import { TzkvError } from '../errors.js';

export interface EtcdAddress {
  tls: boolean;
  /** `http(s)://host:port` of each member, in the order to try them. */
  endpoints: string[];
  /** Every tzkv key lives under these bytes: the URL's path and a `/`. */
  prefix: Buffer;
  /** The address as given, for messages (it holds no secret). */
  display: string;
}

const SCHEME = /^(etcds?):\/\/([^/]*)(\/.*)?$/;

export function isEtcdAddress(location: string): boolean {
  return /^etcds?:\/\//.test(location);
}

export function parseEtcdAddress(location: string): EtcdAddress {
  // Whatever came before an @ may be a password: never echo it.
  const shown = location.replace(/^(etcds?:\/\/)[^/]*@/, '$1***@');
  const bad = (why: string) => new TzkvError('INVALID_ARGUMENT', `bad etcd address "${shown}": ${why} (expected etcd://host:port[,host:port...]/PREFIX)`);
  const m = SCHEME.exec(location);
  if (!m) throw bad('not an etcd:// or etcds:// address');
  const tls = m[1] === 'etcds';
  if (m[2].includes('@')) throw bad('credentials do not belong in the address: use --etcd-user and TZKV_ETCD_PASSWORD');
  const endpoints = m[2].split(',').map((hostPort) => {
    const hp = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(hostPort);
    if (!hp || Number(hp[2]) < 1 || Number(hp[2]) > 65535) throw bad(`"${hostPort}" is not host:port`);
    return `${tls ? 'https' : 'http'}://${hp[1]}:${hp[2]}`;
  });
  let path: string;
  try {
    path = decodeURIComponent((m[3] ?? '').replace(/^\/+|\/+$/g, ''));
  } catch {
    throw bad('the prefix is not valid percent-encoding');
  }
  if (path === '') throw bad('no PREFIX: tzkv keeps its keys under a prefix, never in the whole key space');
  return { tls, endpoints, prefix: Buffer.from(`${path}/`), display: location };
}
