// Loads N records (16-byte keys `key:NNNNNNNNNNNN`... see keyOf, 100-byte values) in
// atomic batches of at most BATCH records, into DIR starting at record FROM.
import { open } from '../../dist/index.js';
const [dir, nArg, fromArg = '0', batchArg = '1000000'] = process.argv.slice(2);
const n = Number(nArg);
const from = Number(fromArg);
const batchSize = Number(batchArg);
const value = Buffer.alloc(100, 0x61);
const store = await open(dir);
const t0 = performance.now();
for (let start = from; start < from + n; start += batchSize) {
  const b = store.batch();
  const end = Math.min(from + n, start + batchSize);
  for (let i = start; i < end; i++) b.put(`key:${String(i).padStart(12, '0')}`, value);
  await b.write();
}
process.stderr.write(`loadms=${(performance.now() - t0).toFixed(0)} maxrss=${process.resourceUsage().maxRSS}\n`);
await store.close();
