// Whole-process timing: commands run interleaved (A B C A B C ...) after a
// warm-up, each sample is one process's wall time; reports medians. Every
// Node child runs with NODE_EXTRA_CA_CERTS unset (it adds ~40 ms per start).
// Peak RSS comes from a child's own `maxrss=<KiB>` line on stderr, else from
// GNU time (`/usr/bin/time -f %M`) wrapped around the first (warm-up) run only,
// so the wrapper never adds to a timed sample.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';
export const hasGnuTime = existsSync(GNU_TIME) && spawnSync(GNU_TIME, ['-f', '%M', 'true']).status === 0;

export function cleanEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/**
 * Runs argv once; returns { ms, stdout, stderr, status }. options: env (added to a clean
 * environment), input, allowFailure, discardStdout (stdout to /dev/null: for outputs
 * larger than memory).
 */
export function runOnce(argv, options = {}) {
  const stdio = ['pipe', options.discardStdout ? 'ignore' : 'pipe', 'pipe'];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env: cleanEnv(options.env), maxBuffer: 1 << 30, input: options.input, stdio });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0 && !options.allowFailure) {
    throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return { ms, stdout: r.stdout ?? Buffer.alloc(0), stderr: r.stderr.toString(), status: r.status };
}

/** Runs argv once under GNU time; returns runOnce's result plus rssMb (null without GNU time). */
export function runMeasuringRss(argv, options = {}) {
  if (!hasGnuTime) return { ...runOnce(argv, options), rssMb: null };
  const dir = mkdtempSync(join(tmpdir(), 'tzkv-bench-rss-'));
  try {
    const r = runOnce([GNU_TIME, '-f', '%M', '-o', join(dir, 'rss'), ...argv], options);
    return { ...r, rssMb: Number(readFileSync(join(dir, 'rss'), 'utf8').trim().split('\n').pop()) / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * cases: [{ name, argv, options?, prepare?(), check?(result) }]; prepare runs untimed before
 * every run of its case (a fresh directory for a load, say); argv may be a function of the
 * run's number (warm-up runs first), for a put of a new key each time. Returns { name → { median,
 * samples, rssMb } }. A child may print `maxrss=<KiB>` on stderr; its median is reported;
 * else the peak RSS of the first run under GNU time (a warm-up run when warmup > 0).
 */
export function interleave(cases, { runs = 21, warmup = 3 } = {}) {
  const out = Object.fromEntries(cases.map((c) => [c.name, { samples: [], rss: [], wrappedRss: null }]));
  for (let i = 0; i < warmup + runs; i++) {
    for (const c of cases) {
      c.prepare?.();
      const first = i === 0;
      const argv = typeof c.argv === 'function' ? c.argv(i) : c.argv;
      const r = first ? runMeasuringRss(argv, c.options) : runOnce(argv, c.options);
      if (first) out[c.name].wrappedRss = r.rssMb;
      c.check?.(r);
      if (i < warmup) continue;
      out[c.name].samples.push(r.ms);
      const m = /maxrss=(\d+)/.exec(r.stderr);
      if (m) out[c.name].rss.push(Number(m[1]) / 1024);
    }
  }
  for (const v of Object.values(out)) {
    v.median = median(v.samples);
    v.rssMb = v.rss.length ? median(v.rss) : v.wrappedRss;
  }
  return out;
}
