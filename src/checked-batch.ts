// The Batch interface's checks, once for every backend (as checked-store.ts
// for the Store): put and del check that the batch is still open and their
// arguments (src/keys.ts), then hand the backend's _put/_del checked ones.
// write() and discard() end the batch; a backend ends it early with end()
// when it cannot go on (a staging file that could not be written).
import type { Batch, KeyInput, PutOptions, ValueInput } from './api.js';
import { TzkvError } from './errors.js';
import { type CheckedKey, checkKeyFast, checkValue, expiryFrom } from './keys.js';

export abstract class CheckedBatch implements Batch {
  private ended = false;

  constructor(
    /** The clock a ttlMs counts from. */
    protected readonly now: () => number,
  ) {}

  put(key: KeyInput, value: ValueInput, options?: Omit<PutOptions, 'ifAbsent'>): this {
    this.checkOpen();
    const expiresAt = options === undefined ? 0 : expiryFrom(options, this.now());
    this._put(checkKeyFast(key), checkValue(value), expiresAt);
    return this;
  }

  del(key: KeyInput): this {
    this.checkOpen();
    this._del(checkKeyFast(key));
    return this;
  }

  async write(): Promise<void> {
    this.checkOpen();
    this.ended = true;
    await this._write();
  }

  async discard(): Promise<void> {
    this.ended = true;
    await this._discard();
  }

  abstract readonly length: number;

  /** Ends the batch: from now on put, del and write are refused. */
  protected end(): void {
    this.ended = true;
  }

  /** expiresAt: ms, 0 for never (it may be past: the key is then written expired). */
  protected abstract _put(key: CheckedKey, value: Buffer, expiresAt: number): void;
  protected abstract _del(key: CheckedKey): void;
  /** Called once, the batch already ended. */
  protected abstract _write(): Promise<void>;
  /** May be called again, or after _write. */
  protected abstract _discard(): Promise<void>;

  private checkOpen(): void {
    if (this.ended) throw new TzkvError('INVALID_ARGUMENT', 'this batch was already written or discarded');
  }
}
