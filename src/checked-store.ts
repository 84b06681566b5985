// The Store interface's argument checks, once for every backend, the way
// abstract-level's put checks and then calls _put: each public method here
// checks its arguments (src/keys.ts) and hands the backend's protected `_`
// method checked ones. So a backend never sees an unchecked argument, and
// every backend refuses the same input with the same error, before it does
// anything. What a backend alone can judge stays with it: whether it is
// closed or read-only (checked after the arguments), and limits of its own
// (etcd's request size). Methods that take nothing to check (batch, stats,
// compact, sync, changes, close, admin) are the backend's directly.
import type {
  Batch,
  ChangeFeed,
  CompactOptions,
  DeleteCondition,
  CompactReport,
  Entry,
  KeyInfo,
  KeyInput,
  ListOptions,
  PutOptions,
  ReadOptions,
  Store,
  StoreAdmin,
  StoreStats,
  Swapped,
  Transaction,
  ValueInput,
  VerifyOptions,
  VerifyReport,
  VerifyProblem,
  WatchEvent,
  WatchOptions,
} from './api.js';
import { TzkvError } from './errors.js';
import { checkCondition, checkExpiry, checkKey, checkListing, checkValue, checkWatch, type Condition, putExpiry } from './keys.js';

/** A listing's checked options. */
export interface Listing {
  /** Only keys starting with these bytes (empty: every key). */
  prefix: Buffer;
  /** At most this many results (Infinity: no limit). */
  limit: number;
  /** The least key to yield: `prefix`, or past ListOptions.after (keys.ts checkListing). */
  start: Buffer;
  onDamage?: (damage: VerifyProblem) => void;
}

/** A watch's checked options (keys.ts checkWatch): the key (`exact`) or the prefix in `match`. */
export interface Watching {
  match: Buffer;
  exact: boolean;
  existing: boolean;
  signal?: AbortSignal;
  onDamage?: (damage: VerifyProblem) => void;
}

/** What update's function asked for, checked: the value's bytes, and the expiry in ms (0: never). */
export interface CheckedUpdate {
  value: Buffer;
  expiresAt: number;
}

export abstract class CheckedStore implements Store {
  constructor(
    readonly location: string,
    readonly readOnly: boolean,
    /** The clock expiries are judged by. */
    protected readonly now: () => number,
  ) {}

  async get(key: KeyInput): Promise<Buffer | undefined> {
    return this._get(checkKey(key));
  }

  async getEntry(key: KeyInput): Promise<Entry | undefined> {
    return this._getEntry(checkKey(key));
  }

  async has(key: KeyInput): Promise<boolean> {
    return this._has(checkKey(key));
  }

  async expiry(key: KeyInput): Promise<number | null | undefined> {
    return this._expiry(checkKey(key));
  }

  async put(key: KeyInput, value: ValueInput, options?: PutOptions): Promise<boolean> {
    const k = checkKey(key);
    const v = checkValue(value);
    const condition = checkCondition(options);
    const expiresAt = putExpiry(options, this.now());
    if (condition === undefined || 'absent' in condition) return this._put(k, v, expiresAt, condition !== undefined);
    return (await this._swap(k, v, expiresAt, condition)).written;
  }

  async swap(key: KeyInput, value: ValueInput, options?: PutOptions): Promise<Swapped> {
    const k = checkKey(key);
    const v = checkValue(value);
    const condition = checkCondition(options);
    return this._swap(k, v, putExpiry(options, this.now()), condition);
  }

  async delIf(key: KeyInput, condition: DeleteCondition): Promise<boolean> {
    const k = checkKey(key);
    const checked = checkCondition(condition);
    if (checked === undefined || 'absent' in checked) throw new TzkvError('INVALID_ARGUMENT', 'delIf needs ifValue or ifVersion');
    return this._delIf(k, checked);
  }

  async del(...keys: KeyInput[]): Promise<number> {
    const distinct = new Map(keys.map(checkKey).map((k) => [k.toString('latin1'), k]));
    return this._del([...distinct.values()]);
  }

  async delPrefix(prefix: KeyInput): Promise<number> {
    // Only an explicit empty prefix means every key: a missing argument deletes nothing.
    if (prefix === undefined) throw new TzkvError('INVALID_ARGUMENT', 'delPrefix needs a prefix: "" for every key');
    return this._delPrefix(checkListing({ prefix }).prefix);
  }

  async setExpiry(key: KeyInput, expiresAt: number | null): Promise<boolean> {
    const k = checkKey(key);
    return this._setExpiry(k, checkExpiry(expiresAt));
  }

  async update(
    key: KeyInput,
    fn: (current: Entry | undefined) => { value: ValueInput; expiresAt?: number | null } | undefined,
  ): Promise<Entry | undefined> {
    return this._update(checkKey(key), (current) => {
      const next = fn(current);
      if (next === undefined) return undefined;
      const value = checkValue(next.value);
      return { value, expiresAt: next.expiresAt === undefined ? (current?.expiresAt ?? 0) : checkExpiry(next.expiresAt) };
    });
  }

  async transact<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T> {
    if (typeof fn !== 'function') throw new TzkvError('INVALID_ARGUMENT', `transact() takes a function, got ${typeof fn}`);
    return this._transact(fn);
  }

  /** verify() only verifies: a `repair` option (verify's before StoreAdmin) is refused, not silently ignored. */
  async verify(options?: VerifyOptions): Promise<VerifyReport> {
    if ((options as { repair?: unknown } | undefined)?.repair) {
      throw new TzkvError('INVALID_ARGUMENT', 'verify() does not repair: store.admin().repair() does (a directory store only)');
    }
    return this._verify(options);
  }

  keys(options?: ListOptions): AsyncIterableIterator<KeyInfo> {
    return listed(options, (listing) => this._keys(listing));
  }

  entries(options?: ListOptions): AsyncIterableIterator<Entry> {
    return listed(options, (listing) => this._entries(listing));
  }

  watch(options: WatchOptions): AsyncIterableIterator<WatchEvent> {
    let watching: Watching;
    try {
      watching = { ...checkWatch(options), signal: options.signal, onDamage: options.onDamage };
    } catch (err) {
      return failing(err);
    }
    return this._watch(watching);
  }

  protected abstract _get(key: Buffer): Promise<Buffer | undefined>;
  protected abstract _getEntry(key: Buffer): Promise<Entry | undefined>;
  protected abstract _has(key: Buffer): Promise<boolean>;
  protected abstract _expiry(key: Buffer): Promise<number | null | undefined>;
  /** REQUIRES: expiresAt (ms, 0 for never) is not yet past. */
  protected abstract _put(key: Buffer, value: Buffer, expiresAt: number, ifAbsent: boolean): Promise<boolean>;
  /** REQUIRES: expiresAt as for _put. Returns the live entry found, with its version. */
  protected abstract _swap(key: Buffer, value: Buffer, expiresAt: number, condition: Condition | undefined): Promise<Swapped>;
  protected abstract _delIf(key: Buffer, condition: Condition): Promise<boolean>;
  /** REQUIRES: no key twice (there may be none). */
  protected abstract _del(keys: Buffer[]): Promise<number>;
  /** prefix: empty for every key. */
  protected abstract _delPrefix(prefix: Buffer): Promise<number>;
  /** expiresAt: ms, 0 for never; it may be past (the key then expires at once). */
  protected abstract _setExpiry(key: Buffer, expiresAt: number): Promise<boolean>;
  /** `fn` checks what it returns: it throws INVALID_ARGUMENT for a bad value or expiry, before anything is written. */
  protected abstract _update(key: Buffer, fn: (current: Entry | undefined) => CheckedUpdate | undefined): Promise<Entry | undefined>;
  /** Runs `fn` on a CheckedTransaction (its run()), which checks what `fn` passes it, and commits the writes. */
  protected abstract _transact<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T>;
  /** Called at once; the checks the iterator makes (closed, damage) run from its first next(). */
  protected abstract _keys(listing: Listing): AsyncIterableIterator<KeyInfo>;
  protected abstract _entries(listing: Listing): AsyncIterableIterator<Entry>;
  /** Called at once; the checks the iterator makes (closed) run from its first next(). */
  protected abstract _watch(watching: Watching): AsyncIterableIterator<WatchEvent>;
  protected abstract _verify(options: VerifyOptions | undefined): Promise<VerifyReport>;

  abstract batch(): Batch;
  abstract stats(options?: ReadOptions): Promise<StoreStats>;
  abstract compact(options?: CompactOptions): Promise<CompactReport>;
  abstract admin(): StoreAdmin | undefined;
  abstract sync(): Promise<void>;
  abstract changes(): ChangeFeed | undefined;
  abstract close(): Promise<void>;
}

/**
 * `list` over checked listing options. Options that fail their checks give an
 * iterator that throws on its first next(), as any listing fails: a call to
 * keys() or entries() itself never throws.
 */
function listed<T>(options: ListOptions | undefined, list: (listing: Listing) => AsyncIterableIterator<T>): AsyncIterableIterator<T> {
  let listing: Listing;
  try {
    listing = { ...checkListing(options), onDamage: options?.onDamage };
  } catch (err) {
    return failing(err);
  }
  return list(listing);
}

/** An iterator that throws `err` on its first next(): how a listing or a watch refuses its options. */
function failing<T>(err: unknown): AsyncIterableIterator<T> {
  return (async function* () {
    throw err;
  })();
}
