// A hand-rolled JSON file (one object of key → value), one operation per process:
//   probe | load DIR FILE (TSV or JSON Lines, bench/lib/data.mjs) | get DIR KEY | put DIR KEY VALUE | keys DIR FROM UPTO
// Writes go to a temporary file that is fsynced and renamed over store.json. There is no
// lock: concurrent writers lose each other's updates.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { recordBatches } from '../lib/data.mjs';
import { done } from './common.mjs';

const [op, dir, a, b] = process.argv.slice(2);
if (op === 'probe') done();
const file = join(dir, 'store.json');
const read = () => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {});
function write(obj) {
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  writeSync(fd, JSON.stringify(obj));
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, file);
}
if (op === 'load') {
  const obj = {};
  for await (const pairs of recordBatches(a)) for (const [key, value] of pairs) obj[key] = value;
  write(obj);
} else if (op === 'get') {
  const value = read()[a];
  if (value === undefined) process.exit(1);
  process.stdout.write(value);
} else if (op === 'put') {
  const obj = read();
  obj[a] = b;
  write(obj);
} else if (op === 'keys') {
  const keys = Object.keys(read()).filter((k) => k >= a && k < b).sort();
  process.stdout.write(keys.join('\n') + '\n');
} else throw new Error(`unknown operation ${op}`);
done();
