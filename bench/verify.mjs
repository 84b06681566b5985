// verify's speed (issue #5: a 1 GB store in the page cache at >= 500 MB/s).
// Builds once a store of 16-byte keys and 100-byte values (6M records, about
// 1 GB of segments and index runs; `--quick`: 1/100), then times whole
// `tzkv verify` processes against `cat` of the same files (the read floor),
// interleaved after a warm-up that also pulls the files into the page cache.
// MB/s = every byte of the store's segments and runs / median wall time; peak
// RSS = GNU time's %M of the timed verify runs, their median.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { interleave, median, runOnce } from './lib/measure.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const records = quick ? 60_000 : 6_000_000;
const runs = quick ? 3 : 7;
const dir = join(here, 'data', quick ? 'quick' : 'full', `verify-${records}`);
const node = process.execPath;
const tzkv = join(here, '..', 'bin', 'run.js');

if (!existsSync(`${dir}.complete`)) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`building ${dir} (${records} records)...\n`);
  runOnce([node, join(here, 'bin', 'load.mjs'), dir, String(records), '0', '1000000']);
  writeFileSync(`${dir}.complete`, '');
}
if (process.argv.includes('--build-only')) process.exit(0);
const files = readdirSync(dir).filter((f) => f.endsWith('.tzds') || f.endsWith('.tzix')).map((f) => join(dir, f));
const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
// Through time(1): on a machine shared with other work the wall time includes waiting for a core;
// user + system CPU time says what verify itself costs; %M its peak resident memory.
const withTime = existsSync('/usr/bin/time');
const verify = [...(withTime ? ['/usr/bin/time', '-f', 'cpu=%U+%S rss=%M'] : []), node, tzkv, 'verify', '-d', dir, '--json'];
const cpu = [];
const rss = [];
const result = interleave(
  [
    { name: 'cat', argv: ['sh', '-c', `cat ${files.join(' ')} > /dev/null`] },
    {
      name: 'tzkv verify',
      argv: verify,
      check: (r) => {
        if (!JSON.parse(r.stdout.toString()).ok) throw new Error('verify found problems');
        const m = /cpu=([0-9.]+)\+([0-9.]+)/.exec(r.stderr);
        if (m) cpu.push((Number(m[1]) + Number(m[2])) * 1000);
        const kb = /rss=([0-9]+)/.exec(r.stderr);
        if (kb) rss.push(Number(kb[1]) / 1024);
      },
    },
  ],
  { runs, warmup: 2 },
);
const mb = bytes / 1e6;
const v = result['tzkv verify'].median;
const c = result.cat.median;
console.log(`store: ${records} records, ${files.length} files, ${mb.toFixed(0)} MB (segments and runs)`);
console.log(`cat:         ${c.toFixed(0)} ms median of ${runs}, ${(mb / (c / 1000)).toFixed(0)} MB/s`);
console.log(`tzkv verify: ${v.toFixed(0)} ms median of ${runs}, ${(mb / (v / 1000)).toFixed(0)} MB/s, ${(v / c).toFixed(2)}x the time of cat`);
if (cpu.length > 0) {
  const cpuMs = median(cpu);
  console.log(`tzkv verify CPU (user+sys): ${cpuMs.toFixed(0)} ms median, ${(mb / (cpuMs / 1000)).toFixed(0)} MB per CPU-second`);
}
if (rss.length > 0) console.log(`tzkv verify peak RSS: ${median(rss).toFixed(0)} MB median (${Math.min(...rss).toFixed(0)}–${Math.max(...rss).toFixed(0)})`);
console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores`);
