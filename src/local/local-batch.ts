// The public Batch of a store directory, over a StagedBatch
// (engine/write/batch.ts) that encodes each record as it is queued; the
// store supplies the commit. Arguments are checked by CheckedBatch.
import { CheckedBatch, type PackedPuts } from '../checked-batch.js';
import { KIND_DEL, KIND_PUT } from '../format/constants.js';
import type { CheckedKey } from '../keys.js';
import type { StoreCodec } from '../format/store-codec.js';
import { StagedBatch } from '../engine/write/batch.js';
import type { SpillTo } from '../engine/write/batch.js';

export class LocalBatch extends CheckedBatch {
  private staged: StagedBatch | undefined;

  constructor(
    now: () => number,
    private readonly commit: (staged: StagedBatch) => Promise<void>,
    /** The store's: the records are encoded with it. */
    codec: StoreCodec,
    spill?: SpillTo,
  ) {
    super(now);
    this.staged = new StagedBatch(codec, spill);
  }

  get length(): number {
    return this.staged?.count ?? 0;
  }

  protected _put(key: CheckedKey, value: Buffer, expiresAt: number): void {
    this.add(KIND_PUT, key, value, expiresAt);
  }

  protected _del(key: CheckedKey): void {
    this.add(KIND_DEL, key, null, 0);
  }

  private add(kind: number, key: CheckedKey, value: Buffer | null, expiresAt: number): void {
    const staged = this.staged!;
    try {
      staged.add(kind, key, value, expiresAt);
    } catch (err) {
      this.abandon(staged, err);
    }
  }

  protected override _putPacked(puts: PackedPuts): void {
    const staged = this.staged!;
    try {
      staged.addPacked(puts);
    } catch (err) {
      this.abandon(staged, err);
    }
  }

  /** A staging file that cannot be written ends the batch: discarded, its file removed. */
  private abandon(staged: StagedBatch, err: unknown): never {
    staged.cleanup();
    this.staged = undefined;
    this.end();
    throw err;
  }

  protected async _write(): Promise<void> {
    const staged = this.staged!;
    this.staged = undefined;
    if (staged.count === 0) return;
    await this.commit(staged);
  }

  protected async _discard(): Promise<void> {
    this.staged?.cleanup();
    this.staged = undefined;
  }
}
