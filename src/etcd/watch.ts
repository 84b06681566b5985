// Store.watch() on etcd (docs/etcd.md "Watch"): etcd's own watch, streamed
// by the gateway (/v3/watch), over the watched key or the range of the
// prefix. Each event carries its revision, so a stream a member ended is
// taken up on any member from the revision after the last one seen: nothing
// missed, nothing twice. A delete whose key's lease has run out is the key's
// expiry (etcd deletes a key when its lease ends), reported as `expire`.
import type { WatchEvent } from '../api.js';
import type { Watching } from '../checked-store.js';
import { TzkvError } from '../errors.js';
import { b64, type EtcdClient, prefixEnd, unb64 } from './client.js';
import { type RangeReply, type RawKv, rangePages, valueOf } from './kv.js';
import { Leases } from './leases.js';

interface WatchReply {
  result?: {
    header?: { revision?: string };
    created?: boolean;
    canceled?: boolean;
    compact_revision?: string;
    cancel_reason?: string;
    events?: Array<{ type?: 'PUT' | 'DELETE'; kv: RawKv; prev_kv?: RawKv }>;
  };
}

/** How long to wait before taking up a stream a member ended (ms). */
const RESUME_MS = 100;

/** The watch's events, as Store.watch() documents them. `prefix`: the store's own prefix in etcd. REQUIRES: `w` checked. */
export async function* watchEtcd(client: EtcdClient, prefix: Buffer, w: Watching, now: () => number): AsyncGenerator<WatchEvent> {
  const { signal } = w;
  const start = Buffer.concat([prefix, w.match]);
  const range = w.exact ? {} : { range_end: b64(prefixEnd(start)) };
  const leases = new Leases(client, now);
  /** The event of a change. A put whose lease has run out already (its key about to go) expires now. */
  const event = async (kv: RawKv, deleted: boolean, before: RawKv | undefined): Promise<WatchEvent> => {
    const key = unb64(kv.key).subarray(prefix.length);
    if (deleted) {
      const expired = before?.lease !== undefined && before.lease !== '0' && (await leaseEnded(client, before.lease));
      return expired ? { type: 'expire', key, value: null, expiresAt: now() } : { type: 'del', key, value: null, expiresAt: null };
    }
    if (!kv.lease || kv.lease === '0') return { type: 'put', key, value: valueOf(kv), expiresAt: null };
    return { type: 'put', key, value: valueOf(kv), expiresAt: (await leases.expiryOf(kv.lease)) ?? now() };
  };
  // The revision the watch has seen everything up to: the existing keys' (their range's), else the stream's first header.
  let seen: bigint | undefined;
  if (w.existing) {
    const first = await client.call<RangeReply>('kv/range', { key: b64(start), ...range, count_only: true });
    seen = BigInt(first.header.revision);
    const end = w.exact ? Buffer.concat([start, Buffer.from([0])]) : prefixEnd(start);
    for await (const kvs of rangePages((body) => client.call<RangeReply>('kv/range', body), start, end, { revision: String(seen) })) {
      for (const kv of kvs) {
        if (signal?.aborted) return;
        const e = await event(kv, false, undefined);
        if (e.expiresAt === null || e.expiresAt > now()) yield e;
      }
    }
  }
  for (;;) {
    const create = { key: b64(start), ...range, prev_kv: true, ...(seen === undefined ? {} : { start_revision: String(seen + 1n) }) };
    try {
      for await (const reply of client.stream('watch', { create_request: create }, signal) as AsyncIterable<WatchReply>) {
        const result = reply.result;
        if (!result) continue;
        if (result.canceled) {
          const why = result.compact_revision ? `etcd compacted revision ${result.compact_revision}, which the watch had not read yet` : (result.cancel_reason ?? 'etcd cancelled it');
          throw new TzkvError('IO', `the watch of ${start.toString('utf8')} ended: ${why}`);
        }
        if (seen === undefined && result.header?.revision !== undefined) seen = BigInt(result.header.revision);
        for (const e of result.events ?? []) {
          if (signal?.aborted) return;
          yield await event(e.kv, e.type === 'DELETE', e.prev_kv);
          seen = BigInt(e.kv.mod_revision ?? String(seen ?? 0n));
        }
      }
    } catch (err) {
      // A member that went away mid-stream: another takes it up (no member at all is UNAVAILABLE, from the stream's start).
      if (err instanceof TzkvError) throw err;
    }
    if (signal?.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, RESUME_MS));
  }
}

/** Whether a lease has run out (etcd answers TTL -1 for a lease that is gone). */
async function leaseEnded(client: EtcdClient, lease: string): Promise<boolean> {
  const reply = await client.call<{ TTL?: string }>('lease/timetolive', { ID: lease });
  return Number(reply.TTL ?? 0) < 0;
}
