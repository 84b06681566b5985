// The Batch interface's checks, once for every backend (as checked-store.ts
// for the Store): put and del check that the batch is still open and their
// arguments (src/keys.ts), then hand the backend's _put/_del checked ones.
// write() and discard() end the batch; a backend ends it early with end()
// when it cannot go on (a staging file that could not be written).
// putPacked (not part of the public Batch) queues many puts laid out in one
// buffer, a bulk load's parsed input, without an object per put.
import type { Batch, KeyInput, PutOptions, ValueInput } from './api.js';
import { TzkvError } from './errors.js';
import { type CheckedKey, checkExpiry, checkKeyFast, checkKeyLength, checkValue, checkValueLength, expiryFrom } from './keys.js';

/**
 * Puts laid out as spans of one buffer: put i stores the key `prefix` +
 * bytes[keyStart[i], keyEnd[i]) with the value bytes[valueStart[i],
 * valueEnd[i]), expiring at expiresAt[i] (ms since the epoch, 0 never).
 * Valid: [0, count). The bytes are the caller's: a batch copies what it keeps
 * before putPacked returns.
 */
export interface PackedPuts {
  bytes: Buffer;
  count: number;
  prefix: Buffer;
  keyStart: Uint32Array;
  keyEnd: Uint32Array;
  valueStart: Uint32Array;
  valueEnd: Uint32Array;
  expiresAt: Float64Array;
}

/**
 * Queues every put of `puts` on `batch`, checked first: a bad one throws
 * INVALID_ARGUMENT with its index in `info.entry`, and none of them is
 * queued. Every backend's batch has putPacked (duck-typed: the etcd backend
 * is bundled with its own copy of this class).
 */
export function putPacked(batch: Batch, puts: PackedPuts): void {
  const checked = batch as Partial<Pick<CheckedBatch, 'putPacked'>>;
  if (typeof checked.putPacked !== 'function') throw new TzkvError('INTERNAL', 'a batch without putPacked');
  checked.putPacked(puts);
}

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

  /** putPacked(batch, puts). */
  putPacked(puts: PackedPuts): this {
    this.checkOpen();
    const { count, prefix, keyStart, keyEnd, valueStart, valueEnd, expiresAt } = puts;
    let i = 0;
    try {
      for (; i < count; i++) {
        checkKeyLength(prefix.length + keyEnd[i] - keyStart[i]);
        checkValueLength(valueEnd[i] - valueStart[i]);
        checkExpiry(expiresAt[i]);
      }
    } catch (err) {
      const e = err as TzkvError;
      throw new TzkvError(e.code, e.message, { info: { ...e.info, entry: i } });
    }
    this._putPacked(puts);
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

  /** Puts checked by putPacked; one _put each, key and value copied out of the caller's bytes, unless a backend does better. */
  protected _putPacked(puts: PackedPuts): void {
    const { bytes, count, prefix, keyStart, keyEnd, valueStart, valueEnd, expiresAt } = puts;
    for (let i = 0; i < count; i++) {
      const key = Buffer.concat([prefix, bytes.subarray(keyStart[i], keyEnd[i])]);
      this._put(key, Buffer.from(bytes.subarray(valueStart[i], valueEnd[i])), expiresAt[i]);
    }
  }
  /** Called once, the batch already ended. */
  protected abstract _write(): Promise<void>;
  /** May be called again, or after _write. */
  protected abstract _discard(): Promise<void>;

  private checkOpen(): void {
    if (this.ended) throw new TzkvError('INVALID_ARGUMENT', 'this batch was already written or discarded');
  }
}
