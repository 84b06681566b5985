// One `get`'s share of compression, in a process of its own: loads the named
// candidate of codecs.mjs, decompresses the stored value in FILE (u32
// little-endian length, then the compressed bytes) and prints the
// milliseconds both took, from inside the process (a whole process's wall
// time varies by more than this on a loaded machine).
//   node bench/lib/decompress-one.mjs NAME FILE
import { readFileSync } from 'node:fs';
import { CANDIDATES } from './codecs.mjs';

const [name, file] = process.argv.slice(2);
const bytes = readFileSync(file);
const t0 = process.hrtime.bigint();
const codec = await CANDIDATES.find((c) => c.name === name).load();
const length = bytes.readUInt32LE(0);
const value = codec.decompress(bytes.subarray(4), length);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
if (value.length !== length) throw new Error(`${name}: decompressed ${value.length} bytes, expected ${length}`);
process.stdout.write(`${ms}\n`);
