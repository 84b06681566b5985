// Where a tzkv process spends its time: runs it a few times under `node --cpu-prof`, maps the
// bundles' minified frames back to src/ files through their source maps (dist/tzkv.cjs.map,
// and dist/fast.cjs.map for plain get and put lines), and sums self
// time by source file (or package, Node internal, native call, GC).
//   node bench/lib/profile.mjs -- tzkv get -d DIR KEY      (prints the summary)
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOnce } from './measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUNDLES = ['tzkv.cjs', 'fast.cjs'];
const bundleMaps = new Map();
const sourceMap = (bundle) => {
  if (!bundleMaps.has(bundle)) bundleMaps.set(bundle, new SourceMap(JSON.parse(readFileSync(join(root, 'dist', `${bundle}.map`), 'utf8'))));
  return bundleMaps.get(bundle);
};

function placeOf(frame) {
  const { functionName, url, lineNumber, columnNumber } = frame;
  if (functionName === '(garbage collector)') return { where: 'GC', fn: '' };
  if (functionName === '(program)') return { where: 'V8 (compiling, runtime)', fn: '' };
  if (functionName === '(idle)') return { where: 'idle (waiting on I/O or children)', fn: '' };
  if (!url) return { where: 'native calls', fn: functionName };
  const bundle = BUNDLES.find((name) => url.endsWith(`/dist/${name}`));
  if (bundle) {
    const entry = sourceMap(bundle).findEntry(lineNumber, columnNumber);
    const source = entry.originalSource ?? '';
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
    const where = pkg ? `node_modules/${pkg[1]}` : (/src\/.*/.exec(source)?.[0] ?? 'tzkv bundle');
    // A method keeps its name in the minified bundle; a renamed function is named by the map, or else by its line.
    const name = entry.name ?? functionName;
    return { where, fn: name.length > 2 ? name : entry.originalLine === undefined ? '' : `line ${entry.originalLine + 1}` };
  }
  if (url.startsWith('node:internal/bootstrap/realm') || url.startsWith('node:internal/modules/')) return { where: "Node loading modules (its own built-ins, the bundle's requires)", fn: url.slice(5) };
  if (url === 'node:vm') return { where: 'compiling the bundle from its code cache (vm.Script)', fn: '' };
  if (url.startsWith('node:')) return { where: 'Node internals', fn: url.slice(5) };
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  return { where: pkg ? `node_modules/${pkg[1]}` : url.replace(/^file:\/\//, '').replace(root + '/', ''), fn: functionName };
}

/** Self time of each sampled node of a .cpuprofile, in ms, with where it runs: [{ where, fn, ms }]. */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const out = [];
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (node.callFrame.functionName === '(root)') continue;
    out.push({ ...placeOf(node.callFrame), ms });
  }
  return out;
}

/** Summarizes a .cpuprofile: [{ where, ms, share, top }] sorted by self time. */
export function summarize(profile) {
  const groups = new Map();
  let total = 0;
  for (const { where, fn, ms } of selfTimes(profile)) {
    const g = groups.get(where) ?? { where, ms: 0, fns: new Map() };
    g.ms += ms;
    if (fn) g.fns.set(fn, (g.fns.get(fn) ?? 0) + ms);
    groups.set(where, g);
    total += ms;
  }
  return [...groups.values()]
    .sort((a, b) => b.ms - a.ms)
    .map((g) => ({ where: g.where, ms: g.ms, share: g.ms / total, top: [...g.fns].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([f]) => f) }));
}

/**
 * Time on the stack of each function of a .cpuprofile (its own and its callees', each sample
 * counted once per function), most first: [{ fn, where, ms, share }] (share of all samples).
 */
export function inclusiveTimes(profile) {
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fns = new Map();
  let total = 0;
  for (const [id, ms] of self) {
    total += ms;
    const seen = new Set();
    for (let node = byId.get(id); node && node.callFrame.functionName !== '(root)'; node = parent.get(node.id)) {
      const { where, fn } = placeOf(node.callFrame);
      const key = `${where}\0${fn}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const f = fns.get(key) ?? { fn, where, ms: 0 };
      f.ms += ms;
      fns.set(key, f);
    }
  }
  return [...fns.values()].sort((a, b) => b.ms - a.ms).map((f) => ({ ...f, share: f.ms / total }));
}

/**
 * Runs argv ([node, script, ...]) `runs` times under --cpu-prof (prepare() before each run)
 * and returns a one-line summary of the top groups, averaged over the runs.
 */
export function profileLine(argv, { top = 6, runs = 5, prepare, env } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tzkv-bench-prof-'));
  try {
    const walls = [];
    for (let i = 0; i < runs; i++) {
      prepare?.();
      walls.push(runOnce([argv[0], '--cpu-prof', '--cpu-prof-dir', dir, ...argv.slice(1)], { discardStdout: true, env }).ms);
    }
    const merged = new Map();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
      for (const g of summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')))) {
        const m = merged.get(g.where) ?? { where: g.where, ms: 0, top: g.top };
        m.ms += g.ms / runs;
        merged.set(g.where, m);
      }
    }
    const groups = [...merged.values()].sort((a, b) => b.ms - a.ms);
    const sampled = groups.reduce((s, g) => s + g.ms, 0);
    const parts = groups.slice(0, top).map((g) => `${g.where} ${g.ms.toFixed(0)} ms (${((g.ms / sampled) * 100).toFixed(0)}%${g.top.length ? `: ${g.top.join(', ')}` : ''})`);
    const wall = walls.sort((a, b) => a - b)[walls.length >> 1];
    return `mean CPU profile of ${runs} runs (median ${wall.toFixed(0)} ms wall under the profiler, ${sampled.toFixed(0)} ms sampled after Node's own start): ${parts.join('; ')}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(process.argv.indexOf('--') + 1);
  const argv = args[0] === 'tzkv' ? [process.execPath, join(root, 'bin', 'run.js'), ...args.slice(1)] : args;
  console.log(profileLine(argv, { runs: Number(process.env.RUNS ?? 5) }));
}
