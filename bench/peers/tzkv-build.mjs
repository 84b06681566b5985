// Builds a tzkv store from a TSV through the embedded API, one atomic batch per million
// records (a single batch of 10M records would hold them all in memory). Used only to
// build the cached stores; the timed bulk load is `tzkv import`.
import { open } from '../../dist/index.js';
import { recordBatches } from '../lib/data.mjs';

const [dir, tsv] = process.argv.slice(2);
const store = await open(dir);
for await (const pairs of recordBatches(tsv, 1_000_000)) {
  const batch = store.batch();
  for (const [key, value] of pairs) batch.put(key, value);
  await batch.write();
}
await store.close();
