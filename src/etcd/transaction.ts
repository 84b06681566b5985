// A transaction on etcd (Store.transact; docs/etcd.md "transact and batch"),
// optimistic as etcd's own STM is: the function reads through range
// requests, all at the revision of its first read (one consistent cut),
// noting each key's mod revision (a missing key: 0), and queues its writes
// (CheckedTransaction). A function that wrote nothing is done: its reads
// were that cut. Otherwise the commit is one etcd transaction: its compares
// say that every key read is still as it was read, its operations are the
// writes. When a compare fails, another client wrote in between, and the
// function runs again on what is there now (so it does when etcd has
// compacted away the revision it was reading at). A write that keeps an
// expiry the function read keeps that key's lease (leases.ts): the compares
// make sure the lease is still the key's.
// etcd refuses a transaction of more than --max-txn-ops compares or
// operations (128 by default), and a request over 1.5 MiB: a transaction
// past either is refused here, before anything is sent.
import type { Entry, Transaction } from '../api.js';
import { CheckedTransaction, type TransactionWrite } from '../checked-transaction.js';
import { TzkvError } from '../errors.js';
import { isExpired } from '../keys.js';
import { b64, type EtcdClient, EtcdReplyError } from './client.js';
import { absent, checkEtcdValue, commit, deleteOp, entryOf, MAX_TXN_BYTES, MAX_TXN_OPS, putOp, type RangeReply, unchangedSince } from './kv.js';
import { Leases } from './leases.js';

/** The gRPC status etcd answers a read at a compacted revision with. */
const OUT_OF_RANGE = 11;

/** A key as the transaction first read it: its etcd key, its mod revision then ("0": missing) and its lease (undefined: none). */
interface Read {
  key: Buffer;
  modRevision: string;
  lease: string | undefined;
  entry: Promise<Entry | undefined>;
}

export async function transactOnEtcd<T>(client: EtcdClient, prefix: Buffer, now: () => number, fn: (tx: Transaction) => Promise<T> | T): Promise<T> {
  for (;;) {
    const leases = new Leases(client, now);
    const reads = new Map<string, Read>();
    let revision: string | undefined;
    const tx = new CheckedTransaction(now, async (key) => {
      const full = Buffer.concat([prefix, key]);
      const id = full.toString('latin1');
      const known = reads.get(id);
      if (known !== undefined) return known.entry;
      const reply = await client.call<RangeReply>('kv/range', { key: b64(full), ...(revision === undefined ? {} : { revision }) });
      revision ??= reply.header.revision;
      const kv = reply.kvs?.[0];
      const entry = kv ? entryOf(kv, prefix, leases) : Promise.resolve(undefined);
      reads.set(id, { key: full, modRevision: kv?.mod_revision ?? '0', lease: kv?.lease, entry });
      return entry;
    });
    let ran: { result: T; writes: TransactionWrite[] };
    try {
      ran = await tx.run(fn);
    } catch (err) {
      if (err instanceof EtcdReplyError && err.grpcCode === OUT_OF_RANGE) continue; // the revision read at was compacted away
      throw err;
    }
    const { result, writes } = ran;
    if (writes.length === 0) return result;
    const written = writes.map((w) => ({ ...w, key: Buffer.concat([prefix, Buffer.from(w.key, 'latin1')]) }));
    checkSize([...reads.values()], written);
    const compares = [...reads.values()].map(({ key, modRevision }) => (modRevision === '0' ? absent(key) : unchangedSince(key, modRevision)));
    const ops = [];
    for (const w of written) {
      // An expiry already past is a delete, as a directory store has the key gone at once (a lease would keep it for etcd's minimum TTL).
      const gone = w.value === null || isExpired(w.expiresAt, now());
      const kept = reads.get(w.key.toString('latin1'))?.lease;
      ops.push(gone ? deleteOp(w.key) : putOp(w.key, checkEtcdValue(w.value!), await leases.forExpiry(w.expiresAt, kept)));
    }
    if (await commit(client, compares, ops)) return result;
    // Another client changed a key this transaction read (or a lease granted for it ran out first): run it again.
  }
}

/** Refuses a transaction etcd would refuse: over MAX_TXN_OPS keys read or written, or MAX_TXN_BYTES of them. */
function checkSize(reads: Read[], writes: Array<{ key: Buffer; value: Buffer | null }>): void {
  const bytes = reads.reduce((sum, r) => sum + r.key.length, 0) + writes.reduce((sum, w) => sum + w.key.length + (w.value?.length ?? 0), 0);
  if (reads.length <= MAX_TXN_OPS && writes.length <= MAX_TXN_OPS && bytes <= MAX_TXN_BYTES) return;
  throw new TzkvError(
    'INVALID_ARGUMENT',
    `a transaction on etcd reads at most ${MAX_TXN_OPS} keys and writes at most ${MAX_TXN_OPS} (etcd's --max-txn-ops), in at most ${MAX_TXN_BYTES} bytes of keys and values; this one reads ${reads.length} and writes ${writes.length} in ${bytes} bytes: nothing was written`,
    { info: { limit: MAX_TXN_OPS, reads: reads.length, writes: writes.length, bytes, byteLimit: MAX_TXN_BYTES } },
  );
}
