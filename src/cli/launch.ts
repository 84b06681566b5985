// Starts the CLI bundle (dist/tzkv.cjs, built by scripts/build.mjs) with a V8
// code cache, which roughly halves start-up: compiling the bundle is most of
// what a short command costs. The bundle is CommonJS so that it can be
// compiled through vm.Script, the one code-cache API Node 20 has.
// The plainest get, put, getset, del, keys, incr, ttl and batch lines (src/cli/fast-argv.ts) start the smaller
// dist/fast.cjs instead, which leaves oclif out.
//
// Set TZKV_NO_CODE_CACHE=1 to start without reading or writing a cache, and
// TZKV_TRACE_STARTUP=1 to see where the start-up time goes (src/cli/trace.ts).

import { readFileSync, statSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script, constants as vmConstants } from 'node:vm';
import { cacheDirectory, cacheFileName, readCache, writeCache } from './code-cache.js';
import { type FastPlan, fastPlan } from './fast-argv.js';
import { mark, note, startTrace } from './trace.js';

/** The build appends this line, with a hash of the bundle, as its last line. */
const BUILD_MARK = '//# tzkv-build ';

interface Bundle {
  main(argv: string[], root: string): Promise<void>;
}

interface FastBundle {
  runFast(plan: FastPlan): Promise<void>;
}

/** Runs the CLI with `argv`; `root` is the package directory. */
export function launch(root: string, argv: string[] = process.argv.slice(2)): Promise<void> {
  startTrace();
  const plan = fastPlan(argv);
  if (plan !== undefined) return load<FastBundle>(join(root, 'dist', 'fast.cjs')).runFast(plan);
  return load<Bundle>(join(root, 'dist', 'tzkv.cjs')).main(argv, root);
}

/** Loads one of the build's CommonJS bundles through vm.Script, with its code cache. */
function load<T>(file: string): T {
  const source = readFileSync(file, 'utf8');
  const useCache = !process.env.TZKV_NO_CODE_CACHE;
  const buildId = useCache ? buildIdentity(file, source) : undefined;
  const dir = buildId === undefined ? undefined : cacheDirectory();
  const name = buildId === undefined ? '' : cacheFileName(buildId);
  const cachedData = dir === undefined ? undefined : readCache(dir, name);
  mark('read');

  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData === undefined ? {} : { cachedData }),
    importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  mark('compile');
  note(`code cache: ${cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used'}`);
  if (dir !== undefined && (cachedData === undefined || script.cachedDataRejected)) {
    // After the run, so that the functions it compiled are in the cache too.
    process.once('exit', () => writeCache(dir, name, script.createCachedData()));
  }

  const mod = new Module(file);
  mod.filename = file;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(file));
  const require = createRequire(file);
  // oclif loads the command table from this same file: give it this instance.
  require.cache[file] = mod;
  (script.runInThisContext() as (...args: unknown[]) => void).call(mod.exports, mod.exports, require, mod, file, dirname(file));
  mod.loaded = true;
  mark('load');
  return mod.exports as T;
}

/** Identifies this exact bundle: its name, the build's content hash, and the file's size and time. */
function buildIdentity(file: string, source: string): string | undefined {
  const at = source.lastIndexOf(BUILD_MARK);
  if (at === -1) return undefined;
  const hash = source.slice(at + BUILD_MARK.length).trim();
  if (!/^[0-9a-f]{16,64}$/.test(hash)) return undefined;
  const st = statSync(file);
  // The bundle's name first (code-cache.ts prunes each bundle's caches apart).
  return `${basename(file, '.cjs')}-${hash.slice(0, 16)}-${st.size}-${Math.trunc(st.mtimeMs)}`;
}
