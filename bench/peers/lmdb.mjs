// Node + LMDB (lmdb) as a user would script it, one operation per process:
//   probe | init DIR | load DIR FILE [PER_TXN] (FILE: TSV or JSON Lines, bench/lib/data.mjs) | get DIR KEY | put DIR KEY VALUE | keys DIR FROM UPTO
// load puts every record in one transaction (or one per PER_TXN records, to build stores too
// large to hold in memory); every commit is durable (lmdb's default sync).
import { join } from 'node:path';
import { recordBatches } from '../lib/data.mjs';
import { done } from './common.mjs';

const { open } = await import('lmdb');
const [op, dir, a, b] = process.argv.slice(2);
if (op === 'probe') done();
const db = open({ path: join(dir, 'data.mdb'), encoding: 'string' });
if (op === 'init') {
  // Creates the environment, so that writers starting at once all open an existing one
  // (concurrent first opens of a new environment can fail: "No transaction to renew").
} else if (op === 'load') {
  const perTxn = Number(b ?? Infinity);
  let batches = [];
  let count = 0;
  const commit = () =>
    db.transactionSync(() => {
      for (const pairs of batches) for (const [key, value] of pairs) db.putSync(key, value);
    });
  for await (const pairs of recordBatches(a)) {
    batches.push(pairs);
    count += pairs.length;
    if (count >= perTxn) {
      commit();
      batches = [];
      count = 0;
    }
  }
  if (batches.length) commit();
} else if (op === 'get') {
  const value = db.get(a);
  if (value === undefined) process.exit(1);
  process.stdout.write(value);
} else if (op === 'put') {
  await db.put(a, b);
} else if (op === 'keys') {
  const keys = [...db.getKeys({ start: a, end: b })];
  process.stdout.write(keys.join('\n') + '\n');
} else throw new Error(`unknown operation ${op}`);
await db.close();
done();
