// List the keys under a prefix through the embedded API; prints them one per line.
import { open } from '../../dist/index.js';
const [dir, prefix] = process.argv.slice(2);
const store = await open(dir, { readOnly: true });
const lines = [];
for await (const k of store.keys({ prefix })) lines.push(k.key.toString('utf8'));
process.stdout.write(lines.join('\n') + '\n');
process.stderr.write(`maxrss=${process.resourceUsage().maxRSS}\n`);
