// SCAN over a real store: pages in key order under numeric cursors, every
// key present throughout returned once however the store changes between
// pages, each page read on from the listing the page before left open, and a
// cursor whose listing was closed (idle, one too many, used twice, or failed)
// going on from its key all the same, in a listing that starts after it.
import { describe, expect, it } from 'vitest';
import type { KeyInfo, ListOptions, Store } from '../../src/api.js';
import type { CommandContext } from '../../src/serve/redis/command.js';
import { keyCommands } from '../../src/serve/redis/key-commands.js';
import { ScanCursors } from '../../src/serve/redis/scan-cursors.js';
import { stringCommands } from '../../src/serve/redis/string-commands.js';
import type { Reply } from '../../src/serve/resp/reply.js';
import { DirectServedStore, call, directContext } from '../helpers/direct-served-store.js';
import { tempStore } from '../helpers/temp-store.js';

/** A DirectServedStore that counts the listings it opens and closes, the prefixes they list and the keys they yield. */
class CountedListings extends DirectServedStore {
  opened = 0;
  closed = 0;
  yielded = 0;
  prefixes: string[] = [];
  /** The next listing opened fails after yielding this many keys (as an etcd listing whose revision was compacted). */
  failAfter: number | undefined;

  override async *keys(options?: ListOptions): AsyncIterableIterator<KeyInfo> {
    this.opened++;
    this.prefixes.push(String(options?.prefix ?? ''));
    const failAfter = this.failAfter;
    this.failAfter = undefined;
    let given = 0;
    try {
      for await (const info of super.keys(options)) {
        if (given++ === failAfter) throw new Error('the revision was compacted');
        this.yielded++;
        yield info;
      }
    } finally {
      this.closed++;
    }
  }
}

/** Lets a listing closed in the background (its iterator's return()) finish closing. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

const name = (i: number) => `key:${String(i).padStart(4, '0')}`;

async function fill(store: Store, n: number, name_ = name): Promise<string[]> {
  const batch = store.batch();
  const names = Array.from({ length: n }, (_, i) => name_(i));
  for (const key of names) batch.put(key, 'v');
  await batch.write();
  return names;
}

function page(reply: Reply): { cursor: string; keys: string[] } {
  const [cursor, keys] = reply as [Buffer, Buffer[]];
  return { cursor: cursor.toString(), keys: keys.map((k) => k.toString()) };
}

/** Every page of a SCAN from 0 with `words` (COUNT, MATCH...), `between` run after each page. */
async function scanAll(ctx: CommandContext, words: string[], between: (cursor: string) => Promise<void> = async () => {}): Promise<{ keys: string[]; pages: number }> {
  const keys: string[] = [];
  let cursor = '0';
  let pages = 0;
  do {
    const p = page(await call(ctx, 'SCAN', cursor, ...words));
    expect(p.cursor).toMatch(/^\d+$/);
    expect(Number(p.cursor)).toBeLessThan(2 ** 53);
    keys.push(...p.keys);
    cursor = p.cursor;
    pages++;
    if (pages > 10_000) throw new Error('SCAN never ended');
    await between(cursor);
  } while (cursor !== '0');
  return { keys, pages };
}

async function setup(n: number, now = () => Date.now()) {
  const store = await tempStore({ now });
  const served = new CountedListings(store);
  const ctx = directContext(served, [...stringCommands, ...keyCommands], { now });
  return { store, served, ctx, names: await fill(store, n) };
}

describe('SCAN', () => {
  it('pages through every key once, in key order, at most COUNT a page, reading one listing throughout', async () => {
    const { ctx, served, names } = await setup(250);
    const { keys, pages } = await scanAll(ctx, ['COUNT', '20']);
    expect(keys).toEqual(names);
    expect(pages).toBe(13);
    expect([served.opened, served.closed]).toEqual([1, 1]);
  });

  it('lists only the keys under a MATCH pattern’s literal prefix, and examines at most ten times COUNT keys a call', async () => {
    const { store, ctx, served } = await setup(100);
    await fill(store, 50, (i) => `other:${i}`);
    const { keys } = await scanAll(ctx, ['MATCH', 'key:00[1-2]?', 'COUNT', '3']);
    expect(keys).toEqual(Array.from({ length: 20 }, (_, i) => name(i + 10)));
    expect(served.prefixes).toEqual(['key:00']);
    // MATCH that matches little: a page may hold fewer than COUNT keys, even none.
    const first = page(await call(ctx, 'SCAN', '0', 'MATCH', 'key:*99', 'COUNT', '1'));
    expect(first.keys).toEqual([]);
    expect(first.cursor).not.toBe('0');
  });

  it('returns every key present throughout while keys are written and deleted between pages, and ends', async () => {
    const { store, ctx, names } = await setup(300);
    const deleted = new Set<string>();
    let round = 0;
    const { keys } = await scanAll(ctx, ['COUNT', '25'], async () => {
      round++;
      // New keys before and after the position, a key not yet returned and one already returned deleted.
      await store.put(`key:${String(round * 7).padStart(4, '0')}x`, 'new');
      await store.put(`key:9${round}`, 'new');
      for (const key of [name(299 - round * 3), name(round * 10)]) {
        deleted.add(key);
        await store.del(key);
      }
    });
    const throughout = names.filter((key) => !deleted.has(key));
    expect(keys.filter((key) => throughout.includes(key))).toEqual(throughout);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('skips keys that expired since their page’s listing began', async () => {
    let now = Date.UTC(2024, 0, 1);
    const { store, ctx } = await setup(0, () => now);
    for (let i = 0; i < 30; i++) await store.put(name(i), 'v', { expiresAt: now + (i % 2 === 0 ? 1000 : 5000) });
    const first = page(await call(ctx, 'SCAN', '0', 'COUNT', '10'));
    now += 2000;
    const rest = page(await call(ctx, 'SCAN', first.cursor, 'COUNT', '100'));
    expect(first.keys).toHaveLength(10);
    expect(rest.keys).toEqual(Array.from({ length: 20 }, (_, i) => name(i + 10)).filter((_, i) => i % 2 === 1));
    expect(rest.cursor).toBe('0');
  });

  it('answers a cursor used twice with the same page and the same cursor (a client retrying), listing from its key', async () => {
    const { ctx, served } = await setup(50);
    const first = page(await call(ctx, 'SCAN', '0', 'COUNT', '10'));
    const second = page(await call(ctx, 'SCAN', first.cursor, 'COUNT', '10'));
    const yielded = served.yielded;
    const again = page(await call(ctx, 'SCAN', first.cursor, 'COUNT', '10'));
    expect(again).toEqual(second);
    expect(second.keys).toEqual(Array.from({ length: 10 }, (_, i) => name(i + 10)));
    // The second page went on reading the first's listing; the retry listed again, from after the first page's last key.
    expect(served.opened).toBe(2);
    expect(served.yielded - yielded).toBe(10);
    await settled();
    expect(served.closed).toBe(1);
  });

  it('keeps 16 listings open; a SCAN whose listing was closed for a newer one lists on from its key with one seek', async () => {
    const { ctx, served, names } = await setup(40);
    const cursors: string[] = [];
    for (let i = 0; i < 17; i++) cursors.push(page(await call(ctx, 'SCAN', '0', 'COUNT', String(i + 10))).cursor);
    await settled();
    expect([served.opened, served.closed]).toEqual([17, 1]);
    const yielded = served.yielded;
    for (const [i, cursor] of cursors.entries()) {
      const rest = page(await call(ctx, 'SCAN', cursor, 'COUNT', '100'));
      expect(rest).toEqual({ cursor: '0', keys: names.slice(i + 10) });
    }
    expect([served.opened, served.closed]).toEqual([18, 18]);
    // Each SCAN read only the keys it returned: the reopened listing began after its cursor's key.
    expect(served.yielded - yielded).toBe(cursors.reduce((sum, _, i) => sum + names.length - i - 10, 0));
  });

  it('goes on from its key in a new listing when the listing it kept fails', async () => {
    const { ctx, served, names } = await setup(30);
    served.failAfter = 15;
    const first = page(await call(ctx, 'SCAN', '0', 'COUNT', '10'));
    const rest = page(await call(ctx, 'SCAN', first.cursor, 'COUNT', '100'));
    expect([...first.keys, ...rest.keys]).toEqual(names);
    expect(rest.cursor).toBe('0');
    expect(served.opened).toBe(2);
  });

  it('answers a listing that fails at once with the error', async () => {
    const { ctx, served } = await setup(30);
    served.failAfter = 0;
    await expect(call(ctx, 'SCAN', '0')).rejects.toThrow('the revision was compacted');
  });
});

describe('ScanCursors', () => {
  it('closes a listing idle for a second; its cursor goes on from its key', async () => {
    const store = await tempStore();
    const served = new CountedListings(store);
    const names = await fill(store, 30);
    let clock = 0;
    const cursors = new ScanCursors(served, () => clock);
    const request = { prefix: Buffer.alloc(0), accept: () => true, count: 10, now: Date.now() };
    const first = await cursors.scan({ ...request, cursor: 0 });
    expect(cursors.openListings).toBe(1);
    clock += 999;
    cursors.sweep();
    expect(cursors.openListings).toBe(1);
    clock += 1;
    cursors.sweep();
    await settled();
    expect([cursors.openListings, served.closed]).toEqual([0, 1]);
    expect(cursors.knows(first.cursor)).toBe(true);
    const rest = await cursors.scan({ ...request, cursor: first.cursor, count: 100 });
    expect(rest.cursor).toBe(0);
    expect(rest.keys.map(String)).toEqual(names.slice(10));
    expect([served.opened, served.yielded]).toEqual([2, 30]);
  });
});

describe('KEYS', () => {
  it('lists every matching live key of a larger store, under the pattern’s prefix only', async () => {
    const { store, ctx, served, names } = await setup(2500);
    await fill(store, 10, (i) => `other:${i}`);
    const reply = (await call(ctx, 'KEYS', 'key:*')) as Buffer[];
    expect(reply.map(String)).toEqual(names);
    expect(served.prefixes).toEqual(['key:']);
    expect(((await call(ctx, 'KEYS', '*')) as Buffer[]).length).toBe(2510);
  });
});
