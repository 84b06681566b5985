// A batch against etcd (docs/etcd.md "import"). One etcd transaction holds at
// most 128 operations and about 1.5 MiB, so a larger batch is applied as a
// sequence of transactions, in order: each is atomic, the whole is not. A
// batch that fails part way says how many operations were applied; applying
// the same batch again gives the same end state (puts and deletes of fixed
// keys are idempotent). Arguments arrive checked (CheckedBatch).
import { CheckedBatch } from '../checked-batch.js';
import { TzkvError } from '../errors.js';
import { type CheckedKey, keyBytes } from '../keys.js';
import type { EtcdClient } from './client.js';
import { checkEtcdValue, deleteOp, MAX_TXN_BYTES, MAX_TXN_OPS, putOp, txn } from './kv.js';
import { Leases } from './leases.js';

interface Op {
  key: Buffer;
  value: Buffer | null;
  expiresAt: number;
}

export class EtcdBatch extends CheckedBatch {
  private ops: Op[] = [];
  /** Operations write() has applied so far, for its message when a transaction fails. */
  private applied = 0;

  constructor(
    private readonly client: EtcdClient,
    private readonly prefix: Buffer,
    now: () => number,
    private readonly writable: () => void,
  ) {
    super(now);
  }

  get length(): number {
    return this.ops.length;
  }

  protected _put(key: CheckedKey, value: Buffer, expiresAt: number): void {
    this.ops.push({ key: Buffer.concat([this.prefix, keyBytes(key)]), value: checkEtcdValue(value), expiresAt });
  }

  protected _del(key: CheckedKey): void {
    this.ops.push({ key: Buffer.concat([this.prefix, keyBytes(key)]), value: null, expiresAt: 0 });
  }

  protected async _write(): Promise<void> {
    this.writable();
    // etcd refuses a key twice in one transaction: only each key's last operation counts anyway.
    const last = new Map<string, number>();
    this.ops.forEach((op, i) => last.set(op.key.toString('latin1'), i));
    const ops = this.ops.filter((op, i) => last.get(op.key.toString('latin1')) === i);
    const total = ops.length;
    this.ops = [];
    const leases = new Leases(this.client, this.now);
    let i = 0;
    while (i < ops.length) {
      const chunk: Op[] = [];
      let bytes = 0;
      while (i < ops.length && chunk.length < MAX_TXN_OPS) {
        const size = ops[i].key.length + (ops[i].value?.length ?? 0);
        if (chunk.length > 0 && bytes + size > MAX_TXN_BYTES) break;
        chunk.push(ops[i++]);
        bytes += size;
      }
      try {
        const success = [];
        for (const op of chunk) {
          success.push(op.value === null ? deleteOp(op.key) : putOp(op.key, op.value, await leases.forExpiry(op.expiresAt)));
        }
        await txn(this.client, [], success);
      } catch (err) {
        const applied = this.applied;
        const why = err instanceof Error ? err.message : String(err);
        throw new TzkvError(
          err instanceof TzkvError ? err.code : 'IO',
          `etcd applied ${applied} of ${total} operations before failing: ${why} (running the same input again is safe)`,
          { cause: err, info: { applied, total } },
        );
      }
      this.applied += chunk.length;
    }
  }

  protected async _discard(): Promise<void> {
    this.ops = [];
  }
}
