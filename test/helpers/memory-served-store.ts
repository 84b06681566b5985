// A ServedStore in memory, for tests of the Redis protocol layer: the
// contract of src/serve/core/served-store.ts (one write unit at a time, in
// order; a unit that throws applies nothing; reads see every committed
// write) without a store behind it.
import type { Entry, KeyInfo, KeyInput, ListOptions, StoreStats, Transaction, ValueInput } from '../../src/api.js';
import type { ServedStore, ServedStoreCounters } from '../../src/serve/core/served-store.js';

const bytes = (input: KeyInput | ValueInput): Buffer => (typeof input === 'string' ? Buffer.from(input) : Buffer.from(input));

export class MemoryServedStore implements ServedStore {
  readonly counters: ServedStoreCounters = { cacheHits: 0, cacheMisses: 0, cacheBytes: 0, cacheEntries: 0, commits: 0, writes: 0 };
  private readonly data = new Map<string, Entry>();
  private queue: Promise<unknown> = Promise.resolve();
  private nextVersion = 1;
  private closed = false;
  /** Synchronous runs in which get() or getMany() was called: the real store looks at what changed once in each. */
  readRuns = 0;
  private inRun = false;

  constructor(private readonly now: () => number = Date.now) {}

  async get(key: Buffer): Promise<Entry | undefined> {
    if (!this.inRun) {
      this.inRun = true;
      this.readRuns++;
      queueMicrotask(() => {
        this.inRun = false;
      });
    }
    const entry = this.live(key.toString('latin1'));
    if (entry) this.counters.cacheHits++;
    else this.counters.cacheMisses++;
    return entry;
  }

  async getMany(keys: readonly Buffer[]): Promise<Array<Entry | undefined>> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  write<T>(fn: (tx: Transaction) => T | Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store closed'));
    const unit = this.queue.then(async () => {
      const writes = new Map<string, Entry | null>();
      const tx: Transaction = {
        getEntry: async (input) => {
          const id = bytes(input).toString('latin1');
          if (!writes.has(id)) return this.live(id);
          const entry = writes.get(id);
          return entry && !this.expired(entry) ? entry : undefined;
        },
        put: (key, value, options = {}) => {
          if (options.ifValue !== undefined || options.ifVersion !== undefined) throw new Error('conditions are not supported by MemoryServedStore');
          const expiresAt = options.ttlMs !== undefined ? this.now() + options.ttlMs : (options.expiresAt ?? null) || null;
          writes.set(bytes(key).toString('latin1'), { key: bytes(key), value: bytes(value), expiresAt, version: String(this.nextVersion++) });
          return tx;
        },
        del: (key) => {
          writes.set(bytes(key).toString('latin1'), null);
          return tx;
        },
      };
      const result = await fn(tx);
      for (const [id, entry] of writes) {
        if (entry) this.data.set(id, entry);
        else this.data.delete(id);
      }
      this.counters.commits++;
      this.counters.writes++;
      return result;
    });
    this.queue = unit.catch(() => undefined);
    return unit;
  }

  async *keys(options: ListOptions = {}): AsyncIterableIterator<KeyInfo> {
    const prefix = options.prefix === undefined ? '' : bytes(options.prefix).toString('latin1');
    // latin1 strings sort as their bytes do.
    const after = options.after === undefined ? undefined : bytes(options.after).toString('latin1');
    let count = 0;
    for (const id of [...this.data.keys()].sort()) {
      const entry = this.live(id);
      if (!entry || !id.startsWith(prefix) || (after !== undefined && id <= after)) continue;
      if (options.limit !== undefined && count++ >= options.limit) return;
      yield { key: entry.key, expiresAt: entry.expiresAt };
    }
  }

  async stats(): Promise<StoreStats> {
    const keys = [...this.data.keys()].filter((id) => this.live(id)).length;
    return {
      location: 'memory',
      formatVersion: 1,
      keys,
      expiredKeys: this.data.size - keys,
      segments: 0,
      totalBytes: 0,
      liveBytes: 0,
      deadBytes: 0,
      deadRatio: 0,
      puts: 0,
      deletes: 0,
      lastCompaction: null,
      lastCompactionReport: null,
      compacting: null,
      compactedRecords: 0,
      lastVerify: null,
      counted: 'census',
      lockHolder: null,
      followers: [],
      details: {},
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
  }

  private live(id: string): Entry | undefined {
    const entry = this.data.get(id);
    return entry && !this.expired(entry) ? entry : undefined;
  }

  private expired(entry: Entry): boolean {
    return entry.expiresAt !== null && entry.expiresAt <= this.now();
  }
}
