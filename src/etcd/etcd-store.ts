// The Store interface (src/api.ts) over an etcd v3 cluster (docs/etcd.md).
// Reads are linearizable (etcd's default); listings page through one
// revision, so a listing is one consistent cut however long it runs.
import type {
  Batch,
  CompactionInfo,
  CompactOptions,
  CompactReport,
  Entry,
  KeyInfo,
  KeyInput,
  ListOptions,
  LockHolderInfo,
  PutOptions,
  ReplicateReport,
  Store,
  StoreStats,
  ValueInput,
  VerifyOptions,
  VerifyReport,
} from '../api.js';
import { checkExpiry, checkKey, checkValue, putExpiry, toBytes } from '../engine/keys.js';
import { TzkvError } from '../errors.js';
import { EtcdBatch } from './batch.js';
import { EtcdClient, type EtcdClientOptions, prefixEnd, unb64 } from './client.js';
import { absent, checkEtcdValue, deleteOp, Leases, MAX_TXN_OPS, present, putOp, rangeOne, rangePages, type RangeReply, type RawKv, txn, unchangedSince, valueOf } from './kv.js';
import { compactCluster, clusterStats, verifyCluster } from './maintenance.js';
import type { EtcdAddress } from './url.js';

export interface EtcdOpenOptions extends Omit<EtcdClientOptions, 'endpoints'> {
  readOnly?: boolean;
  now?: () => number;
}

export class EtcdStore implements Store {
  readonly location: string;
  readonly readOnly: boolean;
  private readonly client: EtcdClient;
  private readonly prefix: Buffer;
  private readonly now: () => number;
  private closed = false;

  constructor(
    readonly address: EtcdAddress,
    options: EtcdOpenOptions,
  ) {
    this.location = address.display;
    this.readOnly = options.readOnly ?? false;
    this.prefix = address.prefix;
    this.now = options.now ?? Date.now;
    this.client = new EtcdClient({ ...options, endpoints: address.endpoints });
  }

  private full(key: KeyInput): Buffer {
    this.usable();
    return Buffer.concat([this.prefix, checkKey(key)]);
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

  private async entryOf(kv: RawKv, leases: Leases): Promise<Entry | undefined> {
    const key = unb64(kv.key).subarray(this.prefix.length);
    if (!kv.lease || kv.lease === '0') return { key, value: valueOf(kv), expiresAt: null };
    const expiresAt = await leases.expiryOf(kv.lease);
    return expiresAt === null ? undefined : { key, value: valueOf(kv), expiresAt };
  }

  async get(key: KeyInput): Promise<Buffer | undefined> {
    const kv = await rangeOne(this.client, this.full(key));
    return kv ? valueOf(kv) : undefined;
  }

  async getEntry(key: KeyInput): Promise<Entry | undefined> {
    const kv = await rangeOne(this.client, this.full(key));
    return kv ? this.entryOf(kv, this.leases()) : undefined;
  }

  async has(key: KeyInput): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async expiry(key: KeyInput): Promise<number | null | undefined> {
    const kv = await rangeOne(this.client, this.full(key));
    if (!kv) return undefined;
    return (await this.entryOf(kv, this.leases()))?.expiresAt;
  }

  async put(key: KeyInput, value: ValueInput, options?: PutOptions): Promise<boolean> {
    const k = this.full(key);
    const v = checkEtcdValue(checkValue(value));
    const expiresAt = putExpiry(options, this.now());
    this.writable();
    const lease = await this.leases().forExpiry(expiresAt);
    if (!options?.ifAbsent) {
      await txn(this.client, [], [putOp(k, v, lease)]);
      return true;
    }
    const reply = await txn(this.client, [absent(k)], [putOp(k, v, lease)]);
    return reply.succeeded === true;
  }

  async del(...keys: KeyInput[]): Promise<number> {
    const unique = new Map(keys.map((key) => this.full(key)).map((k) => [k.toString('latin1'), k]));
    this.writable();
    let deleted = 0;
    const all = [...unique.values()];
    for (let i = 0; i < all.length; i += MAX_TXN_OPS) {
      const reply = await txn(this.client, [], all.slice(i, i + MAX_TXN_OPS).map(deleteOp));
      for (const r of reply.responses ?? []) deleted += Number(r.response_delete_range?.deleted ?? 0);
    }
    return deleted;
  }

  async setExpiry(key: KeyInput, expiresAt: number | null): Promise<boolean> {
    const k = this.full(key);
    const exp = checkExpiry(expiresAt);
    this.writable();
    if (exp !== 0 && exp <= this.now()) {
      const reply = await txn(this.client, [present(k)], [deleteOp(k)]);
      return reply.succeeded === true;
    }
    // ignore_value keeps the value and changes only the lease, atomically.
    const reply = await txn(this.client, [present(k)], [putOp(k, null, await this.leases().forExpiry(exp))]);
    return reply.succeeded === true;
  }

  async update(
    key: KeyInput,
    fn: (current: Entry | undefined) => { value: ValueInput; expiresAt?: number | null } | undefined,
  ): Promise<Entry | undefined> {
    const k = this.full(key);
    this.writable();
    for (;;) {
      const leases = this.leases();
      const kv = await rangeOne(this.client, k);
      const current = kv ? await this.entryOf(kv, leases) : undefined;
      const next = fn(current);
      if (next === undefined) return current;
      const value = checkEtcdValue(checkValue(next.value));
      const exp = next.expiresAt === undefined ? (current?.expiresAt ?? 0) : checkExpiry(next.expiresAt);
      const guard = kv ? unchangedSince(k, kv.mod_revision!) : absent(k);
      const reply = await txn(this.client, [guard], [putOp(k, value, await leases.forExpiry(exp))]);
      if (reply.succeeded) return { key: k.subarray(this.prefix.length), value, expiresAt: exp === 0 ? null : exp };
      // Another client wrote the key between the read and the write: read again.
    }
  }

  async *keys(options?: ListOptions): AsyncIterableIterator<KeyInfo> {
    for await (const e of this.scan(options, true)) yield { key: e.key, expiresAt: e.expiresAt };
  }

  entries(options?: ListOptions): AsyncIterableIterator<Entry> {
    return this.scan(options, false);
  }

  /** Pages through the keys under PREFIX+prefix at the revision of the first page. */
  private async *scan(options: ListOptions | undefined, keysOnly: boolean): AsyncIterableIterator<Entry> {
    this.usable();
    const sub = options?.prefix === undefined ? Buffer.alloc(0) : toBytes(options.prefix);
    const limit = options?.limit ?? Infinity;
    if (limit !== Infinity && (!Number.isSafeInteger(limit) || limit < 0)) {
      throw new TzkvError('INVALID_ARGUMENT', `limit must be a whole number ≥ 0, got ${options?.limit}`);
    }
    const start = Buffer.concat([this.prefix, sub]);
    const leases = this.leases();
    const send = (body: Record<string, unknown>) => this.client.call<RangeReply>('kv/range', body);
    let given = 0;
    const order = { sort_order: 'ASCEND', sort_target: 'KEY', keys_only: keysOnly };
    for await (const kvs of rangePages(send, start, prefixEnd(start), order, () => limit - given)) {
      for (const kv of kvs) {
        const e = await this.entryOf(kv, leases);
        if (!e) continue; // its lease ran out a moment ago
        given++;
        yield e;
        if (given >= limit) return;
      }
    }
  }

  batch(): Batch {
    this.usable();
    return new EtcdBatch(this.client, this.prefix, this.now, () => this.writable());
  }

  async stats(): Promise<StoreStats> {
    this.usable();
    return clusterStats(this.client, this.location, this.prefix);
  }

  async verify(options?: VerifyOptions): Promise<VerifyReport> {
    this.usable();
    return verifyCluster(this.client, this.prefix, options);
  }

  async compact(options?: CompactOptions): Promise<CompactReport> {
    this.writable();
    return compactCluster(this.client, options ?? {});
  }

  async replicate(): Promise<ReplicateReport> {
    throw new TzkvError('INVALID_ARGUMENT', `replicate from an etcd store (${this.location}) is not supported yet; replicate into etcd from a directory store`);
  }

  async promote(): Promise<boolean> {
    throw new TzkvError('INVALID_ARGUMENT', `${this.location} is an etcd cluster, never a follower: there is nothing to promote`);
  }

  async lockHolder(): Promise<LockHolderInfo | null> {
    return null; // etcd needs no writer lock: every write is a transaction
  }

  async forceUnlock(): Promise<LockHolderInfo | null> {
    return null;
  }

  async forceEndCompaction(): Promise<CompactionInfo | null> {
    return null; // etcd's compaction is the cluster's own, and leaves no marker behind
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }
}

/** Opens no connection yet: the first call finds a member (one round trip saved on every command). */
export async function openEtcd(address: EtcdAddress, options: EtcdOpenOptions): Promise<EtcdStore> {
  return new EtcdStore(address, options);
}
