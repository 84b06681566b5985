// The key-value calls of the etcd backend (docs/etcd.md "Mapping"): a tzkv
// key is PREFIX + key in etcd; an expiry is a lease; conditional writes are
// transactions comparing revisions, retried when another client got there
// first, so concurrent clients never lose an update (leases: leases.ts).
import type { Entry } from '../api.js';
import { TzkvError } from '../errors.js';
import { b64, type EtcdClient, unb64 } from './client.js';
import { isLeaseGone, type Leases } from './leases.js';

/** etcd's default request size limit is 1.5 MiB; a value must leave room for its key and the envelope. */
const MAX_ETCD_REQUEST_BYTES = 1.5 * 1024 * 1024;
const MAX_ETCD_VALUE_BYTES = MAX_ETCD_REQUEST_BYTES - 64 * 1024;
/** etcd's default --max-txn-ops. */
export const MAX_TXN_OPS = 128;
/** Raw key and value bytes per transaction, under the 1.5 MiB request limit with room for framing. */
export const MAX_TXN_BYTES = 1024 * 1024;
/** Keys per range request when paging. */
const PAGE = 1000;

export interface RawKv {
  key?: string;
  value?: string;
  mod_revision?: string;
  create_revision?: string;
  lease?: string;
}

export interface RangeReply {
  header: { revision: string };
  kvs?: RawKv[];
  more?: boolean;
  count?: string;
}

export interface TxnReply {
  header: { revision: string };
  succeeded?: boolean;
  responses?: Array<{ response_delete_range?: { deleted?: string }; response_put?: { prev_kv?: RawKv }; response_range?: { kvs?: RawKv[] } }>;
}

export type Compare = Record<string, unknown>;
export type RequestOp = Record<string, unknown>;

export const putOp = (key: Buffer, value: Buffer | null, lease: string): RequestOp => ({
  request_put: value === null ? { key: b64(key), ignore_value: true, lease } : { key: b64(key), value: b64(value), lease },
});
/** A put whose reply carries the key's previous kv (response_put.prev_kv). */
export const putReturningOp = (key: Buffer, value: Buffer, lease: string): RequestOp => ({
  request_put: { key: b64(key), value: b64(value), lease, prev_kv: true },
});
export const rangeOp = (key: Buffer): RequestOp => ({ request_range: { key: b64(key) } });
export const deleteOp = (key: Buffer): RequestOp => ({ request_delete_range: { key: b64(key) } });
export const absent = (key: Buffer): Compare => ({ key: b64(key), target: 'CREATE', result: 'EQUAL', create_revision: '0' });
export const present = (key: Buffer): Compare => ({ key: b64(key), target: 'CREATE', result: 'GREATER', create_revision: '0' });
export const unchangedSince = (key: Buffer, modRevision: string): Compare => ({
  key: b64(key),
  target: 'MOD',
  result: 'EQUAL',
  mod_revision: modRevision,
});

export const valueIs = (key: Buffer, value: Buffer): Compare => ({ key: b64(key), target: 'VALUE', result: 'EQUAL', value: b64(value) });
/** An etcd key's version is its mod_revision; a directory store's version (keys.ts recordVersion) matches no key: -1 is no revision. */
export const versionIs = (key: Buffer, version: string): Compare => unchangedSince(key, /^[0-9]+$/.test(version) ? version : '-1');

/** The entry an etcd key-value holds, its key without `prefix`, its version its mod_revision; undefined when its lease has run out. */
export async function entryOf(kv: RawKv, prefix: Buffer, leases: Leases): Promise<Entry | undefined> {
  const key = unb64(kv.key).subarray(prefix.length);
  const version = kv.mod_revision!;
  if (!kv.lease || kv.lease === '0') return { key, value: valueOf(kv), expiresAt: null, version };
  const expiresAt = await leases.expiryOf(kv.lease);
  return expiresAt === null ? undefined : { key, value: valueOf(kv), expiresAt, version };
}

export async function rangeOne(client: EtcdClient, key: Buffer): Promise<RawKv | undefined> {
  const reply = await client.call<RangeReply>('kv/range', { key: b64(key) });
  return reply.kvs?.[0];
}

export async function txn(client: EtcdClient, compare: Compare[], success: RequestOp[], failure: RequestOp[] = []): Promise<TxnReply> {
  return client.call<TxnReply>('kv/txn', { compare, success, failure });
}

/**
 * A guarded write: etcd's reply when it applied the transaction; undefined
 * when a compare failed, or when a lease it puts a key with ran out or was
 * revoked before it arrived (it wrote nothing then either: read and try again).
 */
export async function commit(client: EtcdClient, compare: Compare[], success: RequestOp[]): Promise<TxnReply | undefined> {
  let reply: TxnReply;
  try {
    reply = await txn(client, compare, success);
  } catch (err) {
    if (isLeaseGone(err)) return undefined;
    throw err;
  }
  return reply.succeeded ? reply : undefined;
}

export const valueOf = (kv: RawKv): Buffer => unb64(kv.value);

/**
 * The keys in [start, end) a page at a time, in key order, every page at the
 * revision of the first (or at `body.revision`). `send` makes one range
 * request (the whole cluster, or one member); `pageSize` is asked before
 * each page (a listing with a limit asks for no more than it still needs).
 */
export async function* rangePages(
  send: (body: Record<string, unknown>) => Promise<RangeReply>,
  start: Buffer,
  end: Buffer,
  body: Record<string, unknown> = {},
  pageSize: () => number = () => PAGE,
): AsyncGenerator<RawKv[]> {
  let from = start;
  let revision = body.revision as string | undefined;
  for (;;) {
    const size = Math.min(PAGE, pageSize());
    if (size <= 0) return;
    const reply = await send({ ...body, key: b64(from), range_end: b64(end), limit: String(size), ...(revision === undefined ? {} : { revision }) });
    revision ??= reply.header.revision;
    const kvs = reply.kvs ?? [];
    if (kvs.length > 0) yield kvs;
    if (!reply.more || kvs.length === 0) return;
    from = Buffer.concat([unb64(kvs[kvs.length - 1].key), Buffer.from([0])]);
  }
}

export function checkEtcdValue(value: Buffer): Buffer {
  if (value.length > MAX_ETCD_VALUE_BYTES) {
    throw new TzkvError(
      'INVALID_ARGUMENT',
      `value is ${value.length} bytes, over the ${MAX_ETCD_VALUE_BYTES}-byte limit of an etcd request (etcd's --max-request-bytes is 1.5 MiB by default)`,
      { info: { limit: MAX_ETCD_VALUE_BYTES } },
    );
  }
  return value;
}
