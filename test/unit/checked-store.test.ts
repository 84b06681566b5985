// CheckedStore and CheckedBatch (src/checked-store.ts, src/checked-batch.ts):
// every argument check runs in the public method, before a backend is asked
// anything, and a backend is handed checked arguments only. A recording fake
// backend shows both; test/e2e/etcd.test.ts shows the two real backends
// refusing the same input with the same error.
import { describe, expect, test } from 'vitest';
import type { Batch, CompactReport, Entry, KeyInfo, StoreStats, Transaction, VerifyOptions, VerifyReport, WatchEvent, WatchOptions } from '../../src/api.js';
import { CheckedBatch, type PackedPuts, putPacked } from '../../src/checked-batch.js';
import { CheckedStore, type CheckedUpdate, type Listing, type Watching } from '../../src/checked-store.js';
import { CheckedTransaction } from '../../src/checked-transaction.js';
import { TzkvError } from '../../src/errors.js';
import { MAX_EXPIRY_MS, MAX_KEY_BYTES } from '../../src/format/constants.js';
import type { CheckedKey } from '../../src/keys.js';

const NOW = 1_700_000_000_000;

/** Records what reaches the backend; reads find nothing. */
class RecordingBatch extends CheckedBatch {
  readonly calls: unknown[][] = [];
  get length(): number {
    return this.calls.length;
  }
  protected _put(key: CheckedKey, value: Buffer, expiresAt: number): void {
    this.calls.push(['put', key, value, expiresAt]);
  }
  protected _del(key: CheckedKey): void {
    this.calls.push(['del', key]);
  }
  protected async _write(): Promise<void> {
    this.calls.push(['write']);
  }
  protected async _discard(): Promise<void> {
    this.calls.push(['discard']);
  }
}

class RecordingStore extends CheckedStore {
  readonly calls: unknown[][] = [];
  constructor() {
    super('fake', false, () => NOW);
  }
  protected async _get(key: Buffer) {
    this.calls.push(['get', key]);
    return undefined;
  }
  protected async _getEntry(key: Buffer) {
    this.calls.push(['getEntry', key]);
    return undefined;
  }
  protected async _has(key: Buffer) {
    this.calls.push(['has', key]);
    return false;
  }
  protected async _expiry(key: Buffer) {
    this.calls.push(['expiry', key]);
    return undefined;
  }
  protected async _put(key: Buffer, value: Buffer, expiresAt: number, ifAbsent: boolean) {
    this.calls.push(['put', key, value, expiresAt, ifAbsent]);
    return true;
  }
  protected async _del(keys: Buffer[]) {
    this.calls.push(['del', keys]);
    return 0;
  }
  protected async _delPrefix(prefix: Buffer) {
    this.calls.push(['delPrefix', prefix]);
    return 0;
  }
  protected async _setExpiry(key: Buffer, expiresAt: number) {
    this.calls.push(['setExpiry', key, expiresAt]);
    return true;
  }
  protected async _update(key: Buffer, fn: (current: Entry | undefined) => CheckedUpdate | undefined) {
    const next = fn({ key, value: Buffer.from('old'), expiresAt: NOW + 5000 });
    this.calls.push(['update', key, next]);
    return undefined;
  }
  protected async *_keys(listing: Listing): AsyncIterableIterator<KeyInfo> {
    this.calls.push(['keys', listing.prefix, listing.limit]);
  }
  protected async *_entries(listing: Listing): AsyncIterableIterator<Entry> {
    this.calls.push(['entries', listing.prefix, listing.limit]);
  }
  protected async *_watch(w: Watching): AsyncIterableIterator<WatchEvent> {
    this.calls.push(['watch', w.match, w.exact, w.existing]);
  }
  /** Reads find nothing; the writes the transaction hands over are recorded. */
  protected async _transact<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T> {
    const { result, writes } = await new CheckedTransaction(() => NOW, async () => undefined).run(fn);
    if (writes.length > 0) this.calls.push(['transact', writes]);
    return result;
  }
  batch(): Batch {
    return new RecordingBatch(() => NOW);
  }
  stats(): Promise<StoreStats> {
    throw new Error('not used');
  }
  protected async _verify(): Promise<VerifyReport> {
    this.calls.push(['verify']);
    return {} as VerifyReport;
  }
  compact(): Promise<CompactReport> {
    throw new Error('not used');
  }
  admin() {
    return undefined;
  }
  async sync() {}
  changes() {
    return undefined;
  }
  async close() {}
}

async function drain(it: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of it);
}

const key = Buffer.from('k');
const long = 'k'.repeat(MAX_KEY_BYTES + 1);
const tooLate = /after 9999-12-31T23:59:59\.999Z, the latest expiry tzkv stores/;

describe('CheckedStore: a public method checks, the backend acts', () => {
  const refused: Array<[string, (s: RecordingStore) => Promise<unknown>, RegExp]> = [
    ['get of an empty key', (s) => s.get(''), /^key must not be empty$/],
    ['getEntry of an over-long key', (s) => s.getEntry(long), /^key is 1025 bytes, over the limit of 1024 bytes$/],
    ['has of a number', (s) => s.has(5 as unknown as string), /^expected a string or bytes, got number$/],
    ['expiry of an empty key', (s) => s.expiry(Buffer.alloc(0)), /^key must not be empty$/],
    ['put of an empty key', (s) => s.put('', 'v'), /^key must not be empty$/],
    ['put of a value that is no bytes', (s) => s.put('k', null as unknown as string), /^expected a string or bytes, got object$/],
    ['put with a past expiry', (s) => s.put('k', 'v', { expiresAt: NOW - 1 }), /^expiry 2023-11-14T22:13:19\.999Z is already in the past$/],
    ['put with an expiry of now', (s) => s.put('k', 'v', { expiresAt: NOW }), /is already in the past$/],
    ['put with a negative ttl', (s) => s.put('k', 'v', { ttlMs: -5 }), /^ttl must be a positive whole number of milliseconds, got -5$/],
    ['put with ttl and expiry', (s) => s.put('k', 'v', { ttlMs: 5, expiresAt: NOW + 5 }), /^give either ttlMs or expiresAt, not both$/],
    ['put past the latest expiry', (s) => s.put('k', 'v', { expiresAt: MAX_EXPIRY_MS + 1 }), tooLate],
    ['del with one bad key among good ones', (s) => s.del('a', '', 'b'), /^key must not be empty$/],
    ['delPrefix without a prefix (not every key: that is "")', (s) => s.delPrefix(undefined as unknown as string), /^delPrefix needs a prefix: "" for every key$/],
    ['delPrefix with a prefix that is no bytes', (s) => s.delPrefix(5 as unknown as string), /^expected a string or bytes, got number$/],
    ['setExpiry to a fraction', (s) => s.setExpiry('k', 1.5), /^expiry must be a whole number of milliseconds since the epoch, got 1\.5$/],
    ['setExpiry past the latest expiry', (s) => s.setExpiry('k', MAX_EXPIRY_MS + 1), tooLate],
    ['update of an empty key', (s) => s.update('', () => ({ value: 'v' })), /^key must not be empty$/],
    ['keys with a negative limit', (s) => drain(s.keys({ limit: -1 })), /^limit must be a whole number ≥ 0, got -1$/],
    ['entries with a fractional limit', (s) => drain(s.entries({ limit: 1.5 })), /^limit must be a whole number ≥ 0, got 1\.5$/],
    ['keys with a prefix that is no bytes', (s) => drain(s.keys({ prefix: 7 as unknown as string })), /^expected a string or bytes, got number$/],
    ['watch of neither a key nor a prefix', (s) => drain(s.watch({})), /^a watch takes a key or a prefix, not both or neither$/],
    ['watch of a key and a prefix', (s) => drain(s.watch({ key: 'k', prefix: 'p' })), /^a watch takes a key or a prefix, not both or neither$/],
    ['watch of an empty key', (s) => drain(s.watch({ key: '' })), /^key must not be empty$/],
    ['watch with a signal that is no AbortSignal', (s) => drain(s.watch({ prefix: '', signal: 'stop' } as unknown as WatchOptions)), /^signal must be an AbortSignal$/],
    ['transact of something that is no function', (s) => s.transact(5 as never), /^transact\(\) takes a function, got number$/],
    ['transact putting an empty key', (s) => s.transact((tx) => tx.put('', 'v')), /^key must not be empty$/],
    ['transact deleting an over-long key', (s) => s.transact((tx) => tx.put('k', 'v').del(long)), /^key is 1025 bytes, over the limit of 1024 bytes$/],
    ['verify asked to repair (StoreAdmin.repair does)', (s) => s.verify({ repair: true } as VerifyOptions), /^verify\(\) does not repair: store\.admin\(\)\.repair\(\) does/],
  ];

  test.each(refused)('%s: INVALID_ARGUMENT, and the backend is never called', async (_name, call, message) => {
    const s = new RecordingStore();
    const err = await call(s).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TzkvError);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    expect(s.calls).toEqual([]);
  });

  test('a listing with bad options fails on its first next(), not when it is asked for', async () => {
    const s = new RecordingStore();
    const it = s.keys({ limit: -1 });
    await expect(it.next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  test('update: a bad value or expiry from the function is refused before the backend writes', async () => {
    const s = new RecordingStore();
    await expect(s.update('k', () => ({ value: 'v', expiresAt: MAX_EXPIRY_MS + 1 }))).rejects.toThrow(tooLate);
    await expect(s.update('k', () => ({ value: 3 as unknown as string }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(s.calls).toEqual([]);
  });

  test('the backend gets checked arguments: bytes, a whole expiry in ms (0 for never), each key once', async () => {
    const s = new RecordingStore();
    await s.get('k');
    await s.getEntry(new Uint8Array([0x6b]));
    await s.has(key);
    await s.expiry('k');
    await s.put('k', 'v', { ttlMs: 1000, ifAbsent: true });
    await s.put('k', new Uint8Array([1, 2]));
    await s.del('a', 'b', 'a');
    await s.delPrefix('');
    await s.setExpiry('k', null);
    await s.update('k', () => ({ value: 'new' }));
    await s.update('k', () => ({ value: 'new', expiresAt: null }));
    await s.update('k', () => undefined);
    await drain(s.keys({ prefix: 'p', limit: 3 }));
    await drain(s.entries());
    await drain(s.watch({ key: 'k' }));
    await drain(s.watch({ prefix: '', existing: true }));
    await s.verify({ record: true, repair: false } as VerifyOptions);
    await s.transact((tx) => tx.put('a', 'v1').put('b', new Uint8Array([1]), { ttlMs: 1000 }).put('a', 'v2').del('c').put('old', 'v', { expiresAt: NOW - 1 }));
    const b = Buffer.from;
    expect(s.calls).toEqual([
      ['get', key],
      ['getEntry', key],
      ['has', key],
      ['expiry', key],
      ['put', key, b('v'), NOW + 1000, true],
      ['put', key, b([1, 2]), 0, false],
      ['del', [b('a'), b('b')]],
      ['delPrefix', b('')],
      ['setExpiry', key, 0],
      ['update', key, { value: b('new'), expiresAt: NOW + 5000 }], // no expiry given: the current one kept
      ['update', key, { value: b('new'), expiresAt: 0 }],
      ['update', key, undefined],
      ['keys', b('p'), 3],
      ['entries', b(''), Infinity],
      ['watch', key, true, false],
      ['watch', b(''), false, true],
      ['verify'],
      [
        'transact',
        [
          { key: 'a', value: b('v2'), expiresAt: 0 }, // each key's last write, the key in its latin1 form
          { key: 'b', value: b([1]), expiresAt: NOW + 1000 },
          { key: 'c', value: null, expiresAt: 0 },
          { key: 'old', value: b('v'), expiresAt: NOW - 1 }, // written expired, as a Batch takes it
        ],
      ],
    ]);
  });
});

describe('CheckedBatch: put and del check, the backend queues', () => {
  test('bad arguments throw INVALID_ARGUMENT and queue nothing; checked ones reach the backend', async () => {
    const batch = new RecordingStore().batch() as RecordingBatch;
    expect(() => batch.put('', 'v')).toThrow(/^key must not be empty$/);
    expect(() => batch.put('k', 'v', { ttlMs: 0 })).toThrow(/^ttl must be a positive whole number of milliseconds, got 0$/);
    expect(() => batch.put('k', 'v', { expiresAt: MAX_EXPIRY_MS + 1 })).toThrow(tooLate);
    expect(() => batch.del(long)).toThrow(/^key is 1025 bytes, over the limit of 1024 bytes$/);
    expect(batch.calls).toEqual([]);
    batch.put('a', 'v', { ttlMs: 10 }).put('é', 'v', { expiresAt: 5 }).del(key);
    await batch.write();
    // An ASCII string key arrives as is (its chars are its bytes); any other as bytes. A past expiresAt is taken, as a batch always has.
    expect(batch.calls).toEqual([['put', 'a', Buffer.from('v'), NOW + 10], ['put', Buffer.from('é'), Buffer.from('v'), 5], ['del', key], ['write']]);
  });

  test('after write or discard, put, del and write are refused', async () => {
    for (const end of ['write', 'discard'] as const) {
      const batch = new RecordingStore().batch() as RecordingBatch;
      await batch[end]();
      const gone = /^this batch was already written or discarded$/;
      expect(() => batch.put('k', 'v')).toThrow(gone);
      expect(() => batch.del('k')).toThrow(gone);
      await expect(batch.write()).rejects.toThrow(gone);
      await batch.discard();
      expect(batch.calls).toEqual(end === 'write' ? [['write'], ['discard']] : [['discard'], ['discard']]);
    }
  });
});

/** PackedPuts over "key=value" pairs laid out in one buffer (no separator between them). */
function pack(pairs: Array<[string, string, number?]>, prefix = ''): PackedPuts {
  const n = pairs.length;
  const p: PackedPuts = {
    bytes: Buffer.from(pairs.map(([k, v]) => k + v).join('')),
    count: n,
    prefix: Buffer.from(prefix),
    keyStart: new Uint32Array(n),
    keyEnd: new Uint32Array(n),
    valueStart: new Uint32Array(n),
    valueEnd: new Uint32Array(n),
    expiresAt: new Float64Array(n),
  };
  let at = 0;
  pairs.forEach(([k, v, exp], i) => {
    p.keyStart[i] = at;
    p.keyEnd[i] = p.valueStart[i] = at + k.length;
    p.valueEnd[i] = at += k.length + v.length;
    p.expiresAt[i] = exp ?? 0;
  });
  return p;
}

describe('CheckedBatch: putPacked', () => {
  test('checks every put first: a bad one throws with its index, and none is queued', async () => {
    const batch = new RecordingStore().batch() as RecordingBatch;
    const refused = (p: PackedPuts) => {
      try {
        putPacked(batch, p);
      } catch (err) {
        return [(err as TzkvError).code, (err as TzkvError).message, (err as TzkvError).info];
      }
      return undefined;
    };
    expect(refused(pack([['a', '1'], ['', '2']]))).toEqual(['INVALID_ARGUMENT', 'key must not be empty', { entry: 1 }]);
    expect(refused(pack([['a', '1'], ['b', '2'], ['k'.repeat(MAX_KEY_BYTES - 1), '3']], 'p:'))).toEqual([
      'INVALID_ARGUMENT',
      'key is 1025 bytes, over the limit of 1024 bytes',
      { limit: MAX_KEY_BYTES, entry: 2 },
    ]);
    expect(refused(pack([['a', '1', MAX_EXPIRY_MS + 1]]))?.slice(0, 2)).toEqual(['INVALID_ARGUMENT', expect.stringMatching(tooLate)]);
    expect(batch.calls).toEqual([]);
  });

  test('by default each put reaches _put with the prefix, as copies of the caller\'s bytes', async () => {
    const batch = new RecordingStore().batch() as RecordingBatch;
    const p = pack([['a', 'one', NOW + 5], ['bc', '']], 'p:');
    putPacked(batch, p);
    p.bytes.fill(0);
    await batch.write();
    const b = (s: string) => Buffer.from(s);
    expect(batch.calls).toEqual([['put', b('p:a'), b('one'), NOW + 5], ['put', b('p:bc'), b(''), 0], ['write']]);
  });

  test('after write, putPacked is refused', async () => {
    const batch = new RecordingStore().batch() as RecordingBatch;
    await batch.write();
    expect(() => putPacked(batch, pack([['a', '1']]))).toThrow(/^this batch was already written or discarded$/);
  });
});
