// SCAN's cursors. Clients read a Redis cursor as a number (redis-cli as an
// unsigned 64-bit integer, redis-py with int(), node-redis 4 with Number()),
// so a tzkv cursor is one too: a number under 2^53 naming a position this
// server keeps, the last key a SCAN examined. The next SCAN with that cursor
// lists the keys after it, in key order, so an iteration over a changing
// store ends, and returns every key present from its start to its end (keys
// written or deleted meanwhile may or may not be returned, as in Redis).
//
// A position's cursor is a keyed hash of its key: the same position always
// gets the same cursor, so a SCAN run again (a client retrying, EXEC running
// its commands again) gives the cursor it gave before and adds no position.
//
// A SCAN resumes with Store.keys's `after`: one seek. Opening a listing is
// what costs (a directory store reads its unindexed tail, up to about 1 MiB:
// measured 0.2 ms a listing on a compacted store, 3.4 ms with a full tail,
// where reading on from an open listing costs 2 µs a key), so a position
// also keeps, for a client that comes back at once, the listing it was read
// from: the next SCAN reads on from it. A listing holds a directory store's
// files open (a compaction's old files stay on disk until it is closed), so
// it is kept no longer than that pays: closed when unused for IDLE_MS (the
// next SCAN then reopens, a few ms after a pause of a second or more), when
// more than MAX_OPEN_LISTINGS are open, or when its cursor is used again.
import { createHmac, randomBytes } from 'node:crypto';
import type { KeyInfo } from '../../api.js';
import type { ServedStore } from '../core/served-store.js';

/** Positions kept per store, the least recently given forgotten first: a cursor older than that is unknown. */
export const MAX_POSITIONS = 10_000;
/** Listings kept open per store, the least recently used closed first. */
const MAX_OPEN_LISTINGS = 16;
/** A listing unused this long (ms) is closed (within twice as long). */
const IDLE_MS = 1000;
/** Keys examined between turns given to the event loop. */
const KEYS_PER_TURN = 1000;
/** Cursors are below 2^53: every client reads them exactly. */
const CURSOR_LIMIT = 2 ** 53;

export interface ScanRequest {
  /** 0 to start, or a cursor a SCAN of this store returned. */
  cursor: number;
  /** Only keys with this prefix are listed (a MATCH pattern's literal prefix). */
  prefix: Buffer;
  /** Which of the listed keys to return. */
  accept: (key: Buffer) => boolean;
  /** Return at most this many keys, examining at most ten times as many. */
  count: number;
  /** The data's clock: keys expired by then are skipped. */
  now: number;
}

/** A listing of the keys with `prefix`, read up to its position's key: its next key is the first after that. */
interface Listing {
  prefix: Buffer;
  iterator: AsyncIterator<KeyInfo>;
  usedAt: number;
}

interface Position {
  /** The last key examined: the next SCAN returns keys after it. */
  after: Buffer;
  /** The listing it was read from, while open. */
  listing?: Listing;
}

const tables = new WeakMap<ServedStore, ScanCursors>();

/** The cursors of SCANs of `store`, one table per served store. */
export function scanCursorsOf(store: ServedStore): ScanCursors {
  let table = tables.get(store);
  if (!table) tables.set(store, (table = new ScanCursors(store)));
  return table;
}

/** `view` lists what `store` lists (a MULTI's view of it): a SCAN of either goes on from a cursor the other gave. */
export function shareScanCursors(view: ServedStore, store: ServedStore): void {
  tables.set(view, scanCursorsOf(store));
}

export class ScanCursors {
  /** By cursor, least recently given first. */
  private readonly positions = new Map<number, Position>();
  /** The positions whose listing is open, least recently used first. */
  private readonly open = new Set<Position>();
  /** What the cursors hash their keys with: no cursor of another server (or run) is taken for one of ours. */
  private readonly secret = randomBytes(32);
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ServedStore,
    /** A monotonic clock (ms) for idle listings. */
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Whether `cursor` is 0 or a position this table keeps. */
  knows(cursor: number): boolean {
    return cursor === 0 || this.positions.has(cursor);
  }

  /** How many listings are open now. */
  get openListings(): number {
    return this.open.size;
  }

  /** The next keys of a SCAN, and the cursor to go on from (0: the SCAN is over). REQUIRES: knows(cursor), count >= 1. */
  async scan(request: ScanRequest): Promise<{ cursor: number; keys: Buffer[] }> {
    const from = request.cursor === 0 ? undefined : this.positions.get(request.cursor);
    let kept = from && this.take(from);
    if (kept && !kept.prefix.equals(request.prefix)) {
      close(kept);
      kept = undefined;
    }
    let iterator = kept?.iterator ?? this.list(request.prefix, from?.after);
    const keys: Buffer[] = [];
    const budget = request.count * 10;
    let last = from?.after;
    for (let examined = 0; keys.length < request.count && examined < budget; examined++) {
      if (examined > 0 && examined % KEYS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
      let next: IteratorResult<KeyInfo>;
      try {
        next = await iterator.next();
      } catch (error) {
        // A kept listing that failed (etcd compacted the revision it read at): go on from its key in a new one.
        if (!kept) throw error;
        kept = undefined;
        iterator = this.list(request.prefix, last);
        next = await iterator.next();
      }
      if (next.done) return { cursor: 0, keys };
      const { key, expiresAt } = next.value;
      last = key;
      if ((expiresAt === null || expiresAt > request.now) && request.accept(key)) keys.push(key);
    }
    return { cursor: this.remember(last!, { prefix: request.prefix, iterator, usedAt: this.clock() }), keys };
  }

  /** Closes every listing unused for IDLE_MS. */
  sweep(): void {
    const idleSince = this.clock() - IDLE_MS;
    for (const position of this.open) {
      if (position.listing!.usedAt > idleSince) break;
      close(this.take(position)!);
    }
    if (this.open.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** The keys with `prefix` after `after` (from the first without it). */
  private list(prefix: Buffer, after: Buffer | undefined): AsyncIterator<KeyInfo> {
    return this.store.keys({ prefix, after });
  }

  /** Takes a position's listing (undefined: none is open), for one SCAN to read alone. */
  private take(position: Position): Listing | undefined {
    const listing = position.listing;
    position.listing = undefined;
    this.open.delete(position);
    return listing;
  }

  /** The cursor of the position at `after`, now the most recently given, with `listing` kept for it. */
  private remember(after: Buffer, listing: Listing): number {
    let cursor = this.cursorOf(after);
    // Another key's cursor (one chance in 2^53 for two positions): the next number free.
    while (this.positions.get(cursor)?.after.equals(after) === false) cursor = (cursor % (CURSOR_LIMIT - 1)) + 1;
    let position = this.positions.get(cursor);
    if (position) {
      // The same position again: its listing (also read up to `after`) gives way to this one.
      const older = this.take(position);
      if (older) close(older);
      this.positions.delete(cursor);
    } else {
      position = { after };
    }
    position.listing = listing;
    this.positions.set(cursor, position);
    this.open.add(position);
    if (this.positions.size > MAX_POSITIONS) {
      const [oldest, forgotten] = this.positions.entries().next().value as [number, Position];
      if (forgotten.listing) close(this.take(forgotten)!);
      this.positions.delete(oldest);
    }
    if (this.open.size > MAX_OPEN_LISTINGS) close(this.take(this.open.values().next().value as Position)!);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), IDLE_MS);
      this.sweeper.unref();
    }
    return cursor;
  }

  /** A number in 1 .. 2^53 - 1 that only this table's secret gives for `key`. */
  private cursorOf(key: Buffer): number {
    const digest = createHmac('sha256', this.secret).update(key).digest();
    return ((digest.readUIntBE(0, 6) * 32 + (digest[6] >> 3)) % (CURSOR_LIMIT - 1)) + 1;
  }
}

/** Ends a listing: a directory store closes the files of its cut. */
function close(listing: Listing): void {
  listing.iterator.return?.().catch(() => undefined);
}
