// Compaction benchmark (issue #5): wall time, how long the writer lock was
// held, and peak RSS of compacting a store of N keys of which half are dead.
//   node bench/compact.mjs gen DIR N    N keys (16-byte keys, 100-byte values) in 1M-record batches,
//                                       then every other key overwritten (a third of the bytes dead);
//                                       with --ttl every record gets an expiry a day away (the census's
//                                       TTL lists are then as long as they get)
//   node bench/compact.mjs run DIR      one compaction in this process; prints its report, wall time
//                                       and peak RSS (process.resourceUsage().maxRSS) as JSON
import { open } from '../dist/index.js';

const [mode, dir, count] = process.argv.slice(2);
const keyOf = (i) => `key:${String(i).padStart(12, '0')}`;
const BATCH = 1_000_000;

if (mode === 'gen') {
  const n = Number(count);
  const store = await open(dir);
  const value = (i, round) => Buffer.from(`${round}:${i}:`.padEnd(100, 'v'));
  const options = process.argv.includes('--ttl') ? { ttlMs: 86_400_000 } : {};
  for (const [round, step] of [[0, 1], [1, 2]]) {
    for (let from = 0; from < n; from += BATCH * step) {
      const b = store.batch();
      for (let i = from; i < Math.min(n, from + BATCH * step); i += step) b.put(keyOf(i), value(i, round), options);
      await b.write();
    }
  }
  const s = await store.stats();
  await store.close();
  process.stdout.write(JSON.stringify({ keys: s.keys, totalBytes: s.totalBytes, deadBytes: s.deadBytes, runs: s.details.runs }) + '\n');
} else if (mode === 'run') {
  const store = await open(dir);
  const t0 = performance.now();
  const report = await store.compact();
  const wallMs = Math.round(performance.now() - t0);
  const s = await store.stats();
  await store.close();
  const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(JSON.stringify({ ...report, wallMs, maxRssMB, keysAfter: s.keys }) + '\n');
} else {
  process.stderr.write('usage: node bench/compact.mjs gen DIR N | run DIR\n');
  process.exit(2);
}
