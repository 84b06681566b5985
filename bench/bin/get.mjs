// One get through the embedded API, as a one-shot process would do it.
import { open } from '../../dist/index.js';
const [dir, key] = process.argv.slice(2);
const store = await open(dir, { readOnly: true });
const value = await store.get(key);
if (value === undefined) process.exit(1);
process.stdout.write(value);
process.stderr.write(`maxrss=${process.resourceUsage().maxRSS}\n`);
