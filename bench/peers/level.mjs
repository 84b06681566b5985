// Node + LevelDB (classic-level) as a user would script it, one operation per process:
//   probe | load DIR FILE (TSV or JSON Lines, bench/lib/data.mjs) | get DIR KEY | put DIR KEY VALUE | keys DIR FROM UPTO | compact DIR
// load writes batches of 10,000 records, the last one synced; put is synced.
import { recordBatches } from '../lib/data.mjs';
import { done } from './common.mjs';

const { ClassicLevel } = await import('classic-level');
const [op, dir, a, b] = process.argv.slice(2);
if (op === 'probe') done();
const db = new ClassicLevel(dir);
await db.open();
if (op === 'load') {
  let last;
  for await (const pairs of recordBatches(a, 10_000)) {
    if (last) await db.batch(last.map(([key, value]) => ({ type: 'put', key, value })));
    last = pairs;
  }
  if (last) await db.batch(last.map(([key, value]) => ({ type: 'put', key, value })), { sync: true });
} else if (op === 'get') {
  const value = await db.get(a);
  if (value === undefined) process.exit(1);
  process.stdout.write(value);
} else if (op === 'put') {
  await db.put(a, b, { sync: true });
} else if (op === 'keys') {
  const keys = await db.keys({ gte: a, lt: b }).all();
  process.stdout.write(keys.join('\n') + '\n');
} else if (op === 'compact') {
  await db.compactRange('', '\xff');
} else throw new Error(`unknown operation ${op}`);
await db.close();
done();
