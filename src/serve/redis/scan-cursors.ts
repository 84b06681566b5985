// SCAN's cursors. Clients read a Redis cursor as a number (redis-cli as an
// unsigned 64-bit integer, redis-py with int(), node-redis 4 with Number()),
// so a tzkv cursor is one too: a random id under 2^53 of a position this
// server keeps, the last key a SCAN examined. The next SCAN with that cursor
// lists the keys after it, in key order, so an iteration over a changing
// store ends, and returns every key present from its start to its end (keys
// written or deleted meanwhile may or may not be returned, as in Redis).
//
// The Store lists keys from the first one with a prefix, not from a given
// key, so each position also keeps the listing it was read from, open, and
// the next SCAN goes on reading it: O(COUNT) a call. A position whose
// listing was closed (idle for IDLE_MS, one of more than MAX_OPEN_LISTINGS,
// or a cursor used twice) lists its prefix again and skips the keys up to
// its own, O(keys before it). A directory store's open listing reads one
// consistent cut and holds that cut's files open until it is closed.
import { randomBytes } from 'node:crypto';
import type { KeyInfo } from '../../api.js';
import type { ServedStore } from '../core/served-store.js';

/** Positions kept per store, oldest forgotten first: a cursor older than that is unknown. */
export const MAX_POSITIONS = 10_000;
/** Listings kept open per store, the least recently used closed first. */
const MAX_OPEN_LISTINGS = 16;
/** A listing unused this long (ms) is closed. */
const IDLE_MS = 30_000;
const SWEEP_MS = 10_000;
/** Keys examined between turns given to the event loop. */
const KEYS_PER_TURN = 1000;

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

export class ScanCursors {
  /** By cursor, oldest first. */
  private readonly positions = new Map<number, Position>();
  /** The positions whose listing is open, least recently used first. */
  private readonly open = new Set<Position>();
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
    let listing = from && this.take(from);
    if (listing && !listing.prefix.equals(request.prefix)) {
      close(listing);
      listing = undefined;
    }
    const iterator = listing?.iterator ?? this.list(request.prefix, from?.after);
    const keys: Buffer[] = [];
    const budget = request.count * 10;
    let last: Buffer | undefined;
    for (let examined = 0; keys.length < request.count && examined < budget; examined++) {
      if (examined > 0 && examined % KEYS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
      const next = await iterator.next();
      if (next.done) return { cursor: 0, keys };
      const { key, expiresAt } = next.value;
      last = key;
      if ((expiresAt === null || expiresAt > request.now) && request.accept(key)) keys.push(key);
    }
    const position: Position = { after: last!, listing: { prefix: request.prefix, iterator, usedAt: this.clock() } };
    return { cursor: this.remember(position), keys };
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

  /** The keys with `prefix`, from the first one after `after` (all of them without it). */
  private async *list(prefix: Buffer, after: Buffer | undefined): AsyncGenerator<KeyInfo> {
    for await (const info of this.store.keys({ prefix })) {
      if (after === undefined || Buffer.compare(info.key, after) > 0) yield info;
    }
  }

  /** Takes a position's listing (undefined: none is open), for one SCAN to read alone. */
  private take(position: Position): Listing | undefined {
    const listing = position.listing;
    position.listing = undefined;
    this.open.delete(position);
    return listing;
  }

  private remember(position: Position): number {
    let cursor: number;
    do cursor = Number(randomBytes(8).readBigUInt64BE(0) >> 11n);
    while (cursor === 0 || this.positions.has(cursor));
    this.positions.set(cursor, position);
    this.open.add(position);
    if (this.positions.size > MAX_POSITIONS) {
      const [oldest, forgotten] = this.positions.entries().next().value as [number, Position];
      if (forgotten.listing) close(this.take(forgotten)!);
      this.positions.delete(oldest);
    }
    if (this.open.size > MAX_OPEN_LISTINGS) close(this.take(this.open.values().next().value as Position)!);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      this.sweeper.unref();
    }
    return cursor;
  }
}

/** Ends a listing: a directory store closes the files of its cut. */
function close(listing: Listing): void {
  listing.iterator.return?.().catch(() => undefined);
}
