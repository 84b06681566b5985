// Whole-process timing: commands run interleaved (A B C A B C ...) after a
// warm-up, each sample is one process's wall time; reports medians. Every
// Node child runs with NODE_EXTRA_CA_CERTS unset (it adds ~40 ms per start).
import { spawnSync } from 'node:child_process';

export function cleanEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** Runs argv once; returns { ms, stdout, stderr, status }. */
export function runOnce(argv, options = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env: cleanEnv(options.env), maxBuffer: 1 << 30, input: options.input });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && !options.allowFailure) {
    throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return { ms, stdout: r.stdout, stderr: r.stderr.toString(), status: r.status };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * cases: [{ name, argv, check?(result) }]. Returns { name → { median, samples, rssMb } }.
 * A child may print `maxrss=<KiB>` on stderr; its median is reported.
 */
export function interleave(cases, { runs = 21, warmup = 3 } = {}) {
  const out = Object.fromEntries(cases.map((c) => [c.name, { samples: [], rss: [] }]));
  for (let i = 0; i < warmup; i++) for (const c of cases) runOnce(c.argv);
  for (let i = 0; i < runs; i++) {
    for (const c of cases) {
      const r = runOnce(c.argv);
      c.check?.(r);
      out[c.name].samples.push(r.ms);
      const m = /maxrss=(\d+)/.exec(r.stderr);
      if (m) out[c.name].rss.push(Number(m[1]) / 1024);
    }
  }
  for (const v of Object.values(out)) {
    v.median = median(v.samples);
    v.rssMb = v.rss.length ? median(v.rss) : null;
  }
  return out;
}
