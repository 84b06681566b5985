// The Store interface (src/api.ts) over an etcd v3 cluster (docs/etcd.md).
// Reads are linearizable (etcd's default); listings page through one
// revision, so a listing is one consistent cut however long it runs.
// Arguments arrive checked (CheckedStore); etcd's own request limit is checked here.
import type {
  Batch,
  CompactOptions,
  CompactReport,
  Entry,
  KeyInfo,
  StoreStats,
  Swapped,
  Transaction,
  VerifyOptions,
  VerifyReport,
  WatchEvent,
} from '../api.js';
import { CheckedStore, type CheckedUpdate, type Listing, type Watching } from '../checked-store.js';
import { TzkvError } from '../errors.js';
import { type Condition, isExpired } from '../keys.js';
import { EtcdBatch } from './batch.js';
import { b64, EtcdClient, type EtcdClientOptions, prefixEnd } from './client.js';
import {
  absent,
  checkEtcdValue,
  commit,
  type Compare,
  deleteOp,
  entryOf,
  MAX_TXN_OPS,
  present,
  putOp,
  putReturningOp,
  rangeOne,
  rangeOp,
  rangePages,
  type RangeReply,
  txn,
  unchangedSince,
  valueIs,
  valueOf,
  versionIs,
} from './kv.js';
import { Leases } from './leases.js';
import { transactOnEtcd } from './transaction.js';
import { compactCluster, clusterStats, verifyCluster } from './maintenance.js';
import type { EtcdAddress } from './url.js';
import { watchEtcd } from './watch.js';

export interface EtcdOpenOptions extends Omit<EtcdClientOptions, 'endpoints'> {
  readOnly?: boolean;
  now?: () => number;
}

export class EtcdStore extends CheckedStore {
  private readonly client: EtcdClient;
  private readonly prefix: Buffer;
  private closed = false;

  constructor(
    readonly address: EtcdAddress,
    options: EtcdOpenOptions,
  ) {
    super(address.display, options.readOnly ?? false, options.now ?? Date.now);
    this.prefix = address.prefix;
    this.client = new EtcdClient({ ...options, endpoints: address.endpoints });
  }

  private full(key: Buffer): Buffer {
    this.usable();
    return Buffer.concat([this.prefix, key]);
  }

  private usable(): void {
    if (this.closed) throw new TzkvError('CLOSED', `the store ${this.location} is closed`);
  }

  private writable(): void {
    this.usable();
    if (this.readOnly) throw new TzkvError('READ_ONLY', `the store ${this.location} was opened read-only`);
  }

  private leases(): Leases {
    return new Leases(this.client, this.now);
  }

  protected async _get(key: Buffer): Promise<Buffer | undefined> {
    const kv = await rangeOne(this.client, this.full(key));
    return kv ? valueOf(kv) : undefined;
  }

  protected async _getEntry(key: Buffer): Promise<Entry | undefined> {
    const kv = await rangeOne(this.client, this.full(key));
    return kv ? entryOf(kv, this.prefix, this.leases()) : undefined;
  }

  protected async _has(key: Buffer): Promise<boolean> {
    return (await this._get(key)) !== undefined;
  }

  protected async _expiry(key: Buffer): Promise<number | null | undefined> {
    const kv = await rangeOne(this.client, this.full(key));
    if (!kv) return undefined;
    return (await entryOf(kv, this.prefix, this.leases()))?.expiresAt;
  }

  protected async _put(key: Buffer, value: Buffer, expiresAt: number, ifAbsent: boolean): Promise<boolean> {
    const k = this.full(key);
    const v = checkEtcdValue(value);
    this.writable();
    const lease = await this.leases().forExpiry(expiresAt);
    if (!ifAbsent) {
      await txn(this.client, [], [putOp(k, v, lease)]);
      return true;
    }
    const reply = await txn(this.client, [absent(k)], [putOp(k, v, lease)]);
    return reply.succeeded === true;
  }

  /** One transaction: the condition's compare, then a put returning the previous kv, or else a read of the current one. */
  protected async _swap(key: Buffer, value: Buffer, expiresAt: number, condition: Condition | undefined): Promise<Swapped> {
    const k = this.full(key);
    const v = checkEtcdValue(value);
    this.writable();
    const compare = condition === undefined ? [] : [compareOf(k, condition)];
    const reply = await txn(this.client, compare, [putReturningOp(k, v, await this.leases().forExpiry(expiresAt))], [rangeOp(k)]);
    const response = reply.responses?.[0];
    const kv = reply.succeeded ? response?.response_put?.prev_kv : response?.response_range?.kvs?.[0];
    const previous = kv ? await entryOf(kv, this.prefix, this.leases()) : undefined;
    // The put is the transaction's one write: the key's new mod_revision is the revision it made.
    return reply.succeeded ? { written: true, previous, version: reply.header.revision } : { written: false, previous };
  }

  protected async _delIf(key: Buffer, condition: Condition): Promise<boolean> {
    const k = this.full(key);
    this.writable();
    const reply = await txn(this.client, [compareOf(k, condition)], [deleteOp(k)]);
    return reply.succeeded === true;
  }

  protected async _del(keys: Buffer[]): Promise<number> {
    const all = keys.map((key) => this.full(key));
    this.writable();
    let deleted = 0;
    for (let i = 0; i < all.length; i += MAX_TXN_OPS) {
      const reply = await txn(this.client, [], all.slice(i, i + MAX_TXN_OPS).map(deleteOp));
      for (const r of reply.responses ?? []) deleted += Number(r.response_delete_range?.deleted ?? 0);
    }
    return deleted;
  }

  /** One DeleteRange over PREFIX+prefix: etcd deletes the whole range at one revision. */
  protected async _delPrefix(prefix: Buffer): Promise<number> {
    const start = this.full(prefix);
    this.writable();
    const reply = await this.client.call<{ deleted?: string }>('kv/deleterange', { key: b64(start), range_end: b64(prefixEnd(start)) });
    return Number(reply.deleted ?? 0);
  }

  protected async _setExpiry(key: Buffer, exp: number): Promise<boolean> {
    const k = this.full(key);
    this.writable();
    if (isExpired(exp, this.now())) {
      const reply = await txn(this.client, [present(k)], [deleteOp(k)]);
      return reply.succeeded === true;
    }
    // ignore_value keeps the value and changes only the lease, atomically.
    const reply = await txn(this.client, [present(k)], [putOp(k, null, await this.leases().forExpiry(exp))]);
    return reply.succeeded === true;
  }

  protected async _update(key: Buffer, fn: (current: Entry | undefined) => CheckedUpdate | undefined): Promise<Entry | undefined> {
    const k = this.full(key);
    this.writable();
    for (;;) {
      const leases = this.leases();
      const kv = await rangeOne(this.client, k);
      const current = kv ? await entryOf(kv, this.prefix, leases) : undefined;
      const next = fn(current);
      if (next === undefined) return current;
      const value = checkEtcdValue(next.value);
      const exp = next.expiresAt;
      const guard = kv ? unchangedSince(k, kv.mod_revision!) : absent(k);
      // An expiry already passed ends the key now, as on a directory store: a lease would keep it for etcd's minimum TTL.
      const ended = isExpired(exp, this.now());
      // The expiry it read keeps the key's lease (leases.ts): the guard makes sure the lease is still the key's.
      const write = ended ? deleteOp(k) : putOp(k, value, await leases.forExpiry(exp, kv?.lease));
      const reply = await commit(this.client, [guard], [write]);
      // The put is the transaction's one write, so the key's new mod_revision is the revision it made.
      if (reply) return { key: k.subarray(this.prefix.length), value, expiresAt: exp === 0 ? null : exp, ...(ended ? {} : { version: reply.header.revision }) };
      // Another client wrote the key between the read and the write (or a new lease ran out first): read again.
    }
  }

  protected async *_keys(listing: Listing): AsyncIterableIterator<KeyInfo> {
    for await (const e of this.scan(listing, true)) yield { key: e.key, expiresAt: e.expiresAt };
  }

  protected _entries(listing: Listing): AsyncIterableIterator<Entry> {
    return this.scan(listing, false);
  }

  /** Pages through the keys under PREFIX+prefix at the revision of the first page. */
  private async *scan({ prefix, start: from, limit }: Listing, keysOnly: boolean): AsyncIterableIterator<Entry> {
    this.usable();
    const start = Buffer.concat([this.prefix, prefix]);
    const leases = this.leases();
    const send = (body: Record<string, unknown>) => this.client.call<RangeReply>('kv/range', body);
    let given = 0;
    const order = { sort_order: 'ASCEND', sort_target: 'KEY', keys_only: keysOnly };
    for await (const kvs of rangePages(send, Buffer.concat([this.prefix, from]), prefixEnd(start), order, () => limit - given)) {
      for (const kv of kvs) {
        const e = await entryOf(kv, this.prefix, leases);
        if (!e) continue; // its lease ran out a moment ago
        given++;
        yield e;
        if (given >= limit) return;
      }
    }
  }

  protected async *_watch(watching: Watching): AsyncIterableIterator<WatchEvent> {
    this.usable();
    yield* watchEtcd(this.client, this.prefix, watching, this.now);
  }

  protected async _transact<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T> {
    this.writable();
    return transactOnEtcd(this.client, this.prefix, this.now, fn);
  }

  batch(): Batch {
    this.usable();
    return new EtcdBatch(this.client, this.prefix, this.now, () => this.writable());
  }

  async stats(): Promise<StoreStats> {
    this.usable();
    return clusterStats(this.client, this.location, this.prefix);
  }

  protected async _verify(options: VerifyOptions | undefined): Promise<VerifyReport> {
    this.usable();
    return verifyCluster(this.client, this.prefix, options);
  }

  async compact(options?: CompactOptions): Promise<CompactReport> {
    this.writable();
    if (options?.newDataKey) throw new TzkvError('INVALID_ARGUMENT', `${this.location} is an etcd cluster, not an encrypted store: --new-data-key rotates the data key of an encrypted store directory`);
    return compactCluster(this.client, options ?? {});
  }

  /** None: etcd takes no writer lock (every write is a transaction), and replicates and repairs its members itself. */
  admin(): undefined {
    return undefined;
  }

  /** Nothing to do: etcd acknowledges a write once a quorum of its members has it on disk. */
  async sync(): Promise<void> {
    this.usable();
  }

  /**
   * None: telling whether a key changed costs a linearizable round trip, as
   * reading it does, and a watch's events arrive after the write is
   * acknowledged, so a cache fed by one could serve a value an acknowledged
   * write had replaced (docs/design.md "Change feed").
   */
  changes(): undefined {
    this.usable();
    return undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }
}

/** A condition as an etcd compare: absent is create_revision 0, a version the mod_revision (an expired key is gone in etcd). */
function compareOf(key: Buffer, condition: Condition): Compare {
  if ('absent' in condition) return absent(key);
  if ('value' in condition) return valueIs(key, condition.value);
  return versionIs(key, condition.version);
}

/** Opens no connection yet: the first call finds a member (one round trip saved on every command). */
export async function openEtcd(address: EtcdAddress, options: EtcdOpenOptions): Promise<EtcdStore> {
  return new EtcdStore(address, options);
}
