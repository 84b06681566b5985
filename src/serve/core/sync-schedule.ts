// When a served store's acknowledged writes become durable (SyncMode). With
// `always` the store fsyncs each commit before it is acknowledged, and there
// is nothing to schedule. With `batch` the store writes with sync off and
// Store.sync() runs at most `ms` after the first commit it has not covered:
// the loss window on power loss is those `ms`. With `never` the OS writes
// back when it likes. Whatever the mode, close() ends with Store.sync().
import type { Store } from '../../api.js';
import { TzkvError } from '../../errors.js';

export class SyncSchedule {
  private timer: NodeJS.Timeout | undefined;
  /** A background fsync failed: what it covered may be lost, and writes are refused from then on. */
  private failure: TzkvError | undefined;

  constructor(
    private readonly store: Store,
    /** batch mode's delay (ms); undefined in the other modes. */
    private readonly batchMs: number | undefined,
    private readonly onError: ((err: Error) => void) | undefined,
  ) {}

  /** Why writes are refused, once a background fsync failed. */
  get refusal(): TzkvError | undefined {
    return this.failure;
  }

  /** A commit was written: in batch mode, the store is fsynced within batchMs. */
  committed(): void {
    if (this.batchMs === undefined || this.timer !== undefined) return;
    this.timer = setTimeout(this.syncNow, this.batchMs);
  }

  /** Stops the timer and makes every acknowledged write durable (Store.sync()). */
  async finish(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.store.sync();
  }

  private readonly syncNow = (): void => {
    this.timer = undefined;
    this.store.sync().catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      // fsync's failure may have dropped the unwritten pages: a later fsync succeeding would not bring them back.
      this.failure ??= new TzkvError('IO', `a background fsync of the store failed (${message}): writes acknowledged in the ${this.batchMs} ms before it may be lost, and no more writes are taken`, {
        cause: err,
      });
      this.onError?.(this.failure);
    });
  };
}
