// Group commit: the write units of a served store queue, and each commit
// takes the units queued by then, in order, as ONE Store.transact (on a
// directory: one hold of the writer lock, one append, one fsync). While a
// commit is written the next units gather; none waits behind more than one
// commit. Between commits the writer lock is not held, so other processes
// (the CLI) write too.
//
// Each unit runs on an overlay of the commit's transaction (a
// CheckedTransaction reading through it): it sees the store with the writes
// of the units before it, and its own writes join the commit only when its
// function returns. A unit whose function throws is rejected with that
// error, its writes dropped; the others are not affected. A commit that
// fails (a full disk) rejects every unit in it, and Store.transact leaves
// nothing of it in the store.
import type { Store, Transaction } from '../../api.js';
import { CheckedTransaction, type TransactionWrite } from '../../checked-transaction.js';
import { isTzkvError } from '../../errors.js';

/** Units one commit takes at most. */
const MAX_COMMIT_UNITS = 512;
/**
 * Bytes of keys and values one commit writes at most (a unit larger alone
 * is committed alone): under a store directory's index flush (1 MiB), so a
 * commit is one append, and etcd's request limit (docs/etcd.md).
 */
export const MAX_COMMIT_BYTES = 1024 * 1024;

interface Unit {
  fn: (tx: Transaction) => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** How a unit ran in a commit: what its function returned (or threw), and the writes it added. */
interface Outcome {
  ok: boolean;
  value: unknown;
  writes: readonly TransactionWrite[];
}

const NO_WRITES: readonly TransactionWrite[] = [];

export interface CommitHooks {
  /** A commit ended, written or failed; `ids` are the latin1 forms of the keys its units wrote. Called before any unit settles. */
  ended(ids: readonly string[], written: boolean): void;
}

export class GroupCommit {
  /** Commits written, and the units they carried. */
  commits = 0;
  units = 0;
  /** Units not yet settled: queue[head..]. */
  private queue: Unit[] = [];
  private head = 0;
  private running = false;
  private scheduled = false;
  /** Units the next commit takes: halved when the store refused a commit as too large, doubled back with each one written. */
  private take = MAX_COMMIT_UNITS;
  private idlers: Array<() => void> = [];

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly hooks: CommitHooks,
  ) {}

  submit<T>(fn: (tx: Transaction) => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Settles once no unit is queued and no commit is being written. */
  idle(): Promise<void> {
    if (!this.running && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idlers.push(resolve));
  }

  /** The next commit starts after this turn's I/O: units arriving from every connection read now join it. */
  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  private readonly run = async (): Promise<void> => {
    this.scheduled = false;
    this.running = true;
    try {
      await this.commitNext();
    } finally {
      this.running = false;
    }
    if (this.head < this.queue.length) this.schedule();
    else for (const idle of this.idlers.splice(0)) idle();
  };

  /** Writes one commit of the units at the head of the queue and settles them. Never throws. */
  private async commitNext(): Promise<void> {
    const start = this.head;
    const end = Math.min(this.queue.length, start + this.take);
    let outcomes: Outcome[] = [];
    let failure: { err: unknown } | undefined;
    try {
      await this.store.transact(async (tx) => {
        outcomes = []; // etcd runs this again when a key read changed before its commit
        let bytes = 0;
        for (let i = start; i < end; i++) {
          const overlay = new CheckedTransaction(this.now, (k) => tx.getEntry(k));
          let ran: { result: unknown; writes: TransactionWrite[] };
          try {
            ran = await overlay.run(this.queue[i].fn);
          } catch (err) {
            outcomes.push({ ok: false, value: err, writes: NO_WRITES });
            continue;
          }
          const size = weight(ran.writes);
          if (bytes > 0 && bytes + size > MAX_COMMIT_BYTES) break; // it runs again in the next commit
          bytes += size;
          for (const w of ran.writes) addTo(tx, w);
          outcomes.push({ ok: true, value: ran.result, writes: ran.writes });
        }
      });
    } catch (err) {
      failure = { err };
    }
    if (failure && outcomes.length > 1 && tooLarge(failure.err)) {
      this.take = Math.max(1, outcomes.length >> 1); // nothing was written: the same units again, fewer at a time
      return;
    }
    // A failure before any unit ran (the lock not taken, say) fails every unit the commit took.
    const taken = failure && outcomes.length === 0 ? end - start : outcomes.length;
    const ids: string[] = [];
    for (const o of outcomes) for (const w of o.writes) ids.push(w.key);
    if (!failure) {
      this.commits++;
      this.units += taken;
      this.take = Math.min(MAX_COMMIT_UNITS, this.take * 2);
    }
    this.hooks.ended(ids, !failure);
    for (let i = 0; i < taken; i++) {
      const unit = this.queue[start + i];
      const o = outcomes[i] as Outcome | undefined;
      if (o?.ok && !failure) unit.resolve(o.value);
      else unit.reject(o && !o.ok ? o.value : failure!.err);
    }
    this.advance(start + taken);
  }

  private advance(head: number): void {
    this.head = head;
    if (head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (head > 1024 && head * 2 > this.queue.length) {
      this.queue = this.queue.slice(head);
      this.head = 0;
    }
  }
}

/** Bytes of keys and values a unit writes. */
function weight(writes: readonly TransactionWrite[]): number {
  let bytes = 0;
  for (const w of writes) bytes += w.key.length + (w.value === null ? 0 : w.value.length);
  return bytes;
}

function addTo(tx: Transaction, w: TransactionWrite): void {
  const key = Buffer.from(w.key, 'latin1');
  if (w.value === null) tx.del(key);
  else tx.put(key, w.value, w.expiresAt === 0 ? undefined : { expiresAt: w.expiresAt });
}

/** A commit the store refused as larger than it takes in one transaction (etcd's limits), before writing anything. */
function tooLarge(err: unknown): boolean {
  return isTzkvError(err, 'INVALID_ARGUMENT');
}
