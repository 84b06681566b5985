// When followed keys expire (docs/design.md "Watch"). A directory store
// writes nothing when a key's expiry passes, so a watcher learns of it from
// the clock: this schedule holds the expiry of each followed key that has one,
// as its newest record says, and gives back those whose time has come.
// Memory: one entry per followed key with an expiry (a heap entry more for
// each time it was rescheduled, until its old time is reached).

export class ExpirySchedule {
  /** Key (latin1: one char per byte) → its expiry in ms. */
  private readonly due = new Map<string, number>();
  /** [expiresAt, key] by time; an entry whose time is no longer the key's is stale and skipped. */
  private readonly heap: Array<[number, string]> = [];

  /** A key's newest record: a put with this expiry (0: never) or a del (0). */
  set(key: string, expiresAt: number): void {
    if (expiresAt === 0) {
      this.due.delete(key);
      return;
    }
    this.due.set(key, expiresAt);
    this.push([expiresAt, key]);
  }

  /** When the next key expires (ms), or undefined when none has an expiry. */
  next(): number | undefined {
    this.dropStale();
    return this.heap[0]?.[0];
  }

  /** The keys whose expiry is at or before `now` (a key expires at its expiry), earliest first, each with its expiry; they leave the schedule. */
  *expired(now: number): Generator<[string, number]> {
    for (let top = this.next(); top !== undefined && top <= now; top = this.next()) {
      const [at, key] = this.pop();
      this.due.delete(key);
      yield [key, at];
    }
  }

  private dropStale(): void {
    while (this.heap.length > 0 && this.due.get(this.heap[0][1]) !== this.heap[0][0]) this.pop();
  }

  private push(entry: [number, string]): void {
    const heap = this.heap;
    heap.push(entry);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (heap[parent][0] <= heap[i][0]) break;
      [heap[parent], heap[i]] = [heap[i], heap[parent]];
      i = parent;
    }
  }

  private pop(): [number, string] {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let least = i;
        if (l < heap.length && heap[l][0] < heap[least][0]) least = l;
        if (r < heap.length && heap[r][0] < heap[least][0]) least = r;
        if (least === i) break;
        [heap[least], heap[i]] = [heap[i], heap[least]];
        i = least;
      }
    }
    return top;
  }
}
