// The Transaction interface (src/api.ts) for every backend, as
// checked-batch.ts is the Batch's: put and del check their arguments
// (src/keys.ts) and queue the write, each key's last one counting; getEntry
// answers a key the transaction wrote from that write, and asks the
// backend's reader for any other. A backend runs the function through run(),
// which ends the transaction however the function ends, and commits the
// writes it hands back.
import type { Entry, KeyInput, PutOptions, Transaction, ValueInput } from './api.js';
import { TzkvError } from './errors.js';
import { checkKey, checkValue, expiryFrom, isExpired } from './keys.js';

/** A queued write: the key's latin1 form (one char per byte), value null for a delete, expiresAt in ms (0: never; it may be past: the key is then written expired, as in a Batch). */
export interface TransactionWrite {
  key: string;
  value: Buffer | null;
  expiresAt: number;
}

export class CheckedTransaction implements Transaction {
  /** Each key's last write, by the key's latin1 form (one char per byte). */
  private readonly queued = new Map<string, TransactionWrite>();
  private ended = false;

  constructor(
    /** The clock a ttlMs counts from and expiries are judged by. */
    private readonly now: () => number,
    /** The store's entry for a checked key, as the backend reads it for this transaction. */
    private readonly read: (key: Buffer) => Promise<Entry | undefined>,
  ) {}

  async getEntry(key: KeyInput): Promise<Entry | undefined> {
    this.checkOpen();
    const k = checkKey(key);
    const written = this.queued.get(k.toString('latin1'));
    if (written === undefined) return await this.read(k);
    if (written.value === null || isExpired(written.expiresAt, this.now())) return undefined;
    return { key: k, value: written.value, expiresAt: written.expiresAt === 0 ? null : written.expiresAt };
  }

  put(key: KeyInput, value: ValueInput, options?: Omit<PutOptions, 'ifAbsent'>): this {
    this.checkOpen();
    const k = checkKey(key);
    const v = checkValue(value);
    this.queue({ key: k.toString('latin1'), value: v, expiresAt: expiryFrom(options, this.now()) });
    return this;
  }

  del(key: KeyInput): this {
    this.checkOpen();
    this.queue({ key: checkKey(key).toString('latin1'), value: null, expiresAt: 0 });
    return this;
  }

  /**
   * Runs `fn` on this transaction and ends it, whether `fn` returns or
   * throws: what `fn` returned, and the writes to commit, each key's last.
   */
  async run<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<{ result: T; writes: TransactionWrite[] }> {
    try {
      const result = await fn(this);
      return { result, writes: [...this.queued.values()] };
    } finally {
      this.ended = true;
    }
  }

  private queue(write: TransactionWrite): void {
    this.queued.set(write.key, write);
  }

  private checkOpen(): void {
    if (this.ended) throw new TzkvError('INVALID_ARGUMENT', 'this transaction has ended: its function already returned');
  }
}
