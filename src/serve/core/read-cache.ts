// The read cache of a served store: for recently read keys, the live entry
// the store answered, or that it had none (a cached miss), bounded in bytes,
// the least recently used dropped first. It knows nothing of freshness:
// cached-reads.ts drops what the store says changed before a read is answered
// from here. An expiry needs no dropping: it is judged when the entry is read.
import type { Entry } from '../../api.js';

/**
 * Bytes counted for each cached key besides its bytes (held twice: the map's
 * string and the entry's Buffer) and its value's: the map's slot, the slot,
 * the entry, its resolved answer and the Buffer objects (measured with
 * process.memoryUsage(): about 690 bytes a key, a 40-byte version included).
 */
const ENTRY_OVERHEAD = 700;

const NO_ENTRY: Promise<Entry | undefined> = Promise.resolve(undefined);

class Slot {
  /** Toward the most recently used, and toward the least. */
  newer: Slot | null = null;
  older: Slot | null = null;
  constructor(
    readonly id: string,
    readonly entry: Entry | undefined,
    /** What a hit returns: settled once, shared by every hit. */
    readonly answer: Promise<Entry | undefined>,
    readonly bytes: number,
  ) {}
}

export class ReadCache {
  /** By the key's latin1 form (one char per byte). */
  private readonly slots = new Map<string, Slot>();
  private newest: Slot | null = null;
  private oldest: Slot | null = null;
  /** Bytes counted for what is cached now: never more than `limit`. */
  bytes = 0;

  constructor(readonly limit: number) {}

  get entries(): number {
    return this.slots.size;
  }

  /**
   * The cached answer for key `id` at time `now`, or undefined when the key
   * is not cached. An entry whose expiry has passed answers none. The entry
   * is shared with every other hit: not to be modified.
   */
  answer(id: string, now: number): Promise<Entry | undefined> | undefined {
    const slot = this.slots.get(id);
    if (slot === undefined) return undefined;
    this.toNewest(slot);
    const e = slot.entry;
    return e !== undefined && e.expiresAt !== null && e.expiresAt <= now ? NO_ENTRY : slot.answer;
  }

  /**
   * Caches what the store holds for key `id` (undefined: no live entry).
   * REQUIRES: `entry` and its buffers are the cache's from now on, and hold
   * no more memory than their own bytes.
   */
  remember(id: string, entry: Entry | undefined): void {
    this.forget(id);
    const bytes = 2 * id.length + (entry === undefined ? 0 : entry.value.length) + ENTRY_OVERHEAD;
    if (bytes > this.limit) return;
    const slot = new Slot(id, entry, entry === undefined ? NO_ENTRY : Promise.resolve(entry), bytes);
    this.slots.set(id, slot);
    this.bytes += bytes;
    this.link(slot);
    while (this.bytes > this.limit) this.drop(this.oldest!);
  }

  forget(id: string): void {
    const slot = this.slots.get(id);
    if (slot !== undefined) this.drop(slot);
  }

  clear(): void {
    this.slots.clear();
    this.newest = this.oldest = null;
    this.bytes = 0;
  }

  private drop(slot: Slot): void {
    this.slots.delete(slot.id);
    this.bytes -= slot.bytes;
    this.unlink(slot);
  }

  private toNewest(slot: Slot): void {
    if (slot === this.newest) return;
    this.unlink(slot);
    this.link(slot);
  }

  private link(slot: Slot): void {
    slot.older = this.newest;
    slot.newer = null;
    if (this.newest !== null) this.newest.newer = slot;
    this.newest = slot;
    if (this.oldest === null) this.oldest = slot;
  }

  private unlink(slot: Slot): void {
    if (slot.newer !== null) slot.newer.older = slot.older;
    else this.newest = slot.older;
    if (slot.older !== null) slot.older.newer = slot.newer;
    else this.oldest = slot.newer;
    slot.newer = slot.older = null;
  }
}
