// Loads N records (16-byte keys `key:NNNNNNNNNNNN`... see keyOf, 100-byte values) in
// atomic batches of at most BATCH records, into DIR starting at record FROM.
import { open } from '../../dist/index.js';
const [dir, nArg, fromArg = '0', batchArg = '1000000'] = process.argv.slice(2);
const n = Number(nArg);
const from = Number(fromArg);
const batchSize = Number(batchArg);
const value = Buffer.alloc(100, 0x61);
const store = await open(dir);
let batchMs = 0;
for (let start = from; start < from + n; start += batchSize) {
  const end = Math.min(from + n, start + batchSize);
  // The data is generated before the clock starts: loadms is the engine's time only.
  const keys = [];
  for (let i = start; i < end; i++) keys.push(`key:${String(i).padStart(12, '0')}`);
  keys.join('').length; // flattens the generated strings, as data read from a file would be
  const t0 = performance.now();
  const b = store.batch();
  for (const key of keys) b.put(key, value);
  await b.write();
  batchMs += performance.now() - t0;
}
process.stderr.write(`loadms=${batchMs.toFixed(0)} maxrss=${process.resourceUsage().maxRSS}\n`);
await store.close();
