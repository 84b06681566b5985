#!/usr/bin/env node
// npm run build: everything the package ships, from a clean dist/.
//   0. flags        src/cli/declared-flags.ts, the commands' declared flags for the fast path (scripts/declared-flags.mjs)
//   1. tsc          src/ → dist/ (the embedded API: dist/index.js + .d.ts)
//   2. esbuild      bin/run.js's launcher → dist/launch.cjs; the whole CLI (oclif, commands, engine) → dist/tzkv.cjs, one file,
//                   CommonJS so that src/cli/launch.ts can give it a V8 code cache; see
//                   scripts/bundle-plugins.mjs for what is left out or loaded late
//                   The etcd backend is bundled apart (dist/etcd.cjs) and loaded only for an etcd:// address;
//                   plain get, put, del, keys, incr and ttl lines run dist/fast.cjs (src/cli/fast.ts), the engine without oclif.
//                   verify's worker thread runs dist/verify-worker.cjs (src/engine/verify/verify-worker-thread.ts), whichever
//                   of them (or the embedded API) starts it.
//   3. manifest     oclif.manifest.json, regenerated from the bundle (scripts/manifest.mjs)

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startupPlugins } from './bundle-plugins.mjs';
import { writeDeclaredFlags } from './declared-flags.mjs';
import { writeManifest } from './manifest.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = join(ROOT, 'dist', 'tzkv.cjs');
export const FAST_BUNDLE = join(ROOT, 'dist', 'fast.cjs');
/** src/engine/verify/verify-worker.ts starts this file, from the package's dist/. */
export const VERIFY_WORKER_BUNDLE = join(ROOT, 'dist', 'verify-worker.cjs');
/** src/cli/launch.ts reads this last line to name the bundle's code cache. */
const BUILD_MARK = '//# tzkv-build ';

export function compile() {
  const require = createRequire(import.meta.url);
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit', cwd: ROOT });
}

/** What every bundle is: one CommonJS file for Node 20. */
const NODE_BUNDLE = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' };

/** The CLI bundle leaves src/etcd out: src/cli/open-store.ts imports it, at run time, from dist/etcd.cjs. */
const etcdApart = {
  name: 'etcd-apart',
  setup(build) {
    // A stand-in module that requires the real one with a plain require (the bundle runs in a vm.Script,
    // where import() has no loader).
    build.onResolve({ filter: /[\\/]etcd[\\/]index\.js$/ }, () => ({ path: 'etcd', namespace: 'etcd-apart' }));
    build.onLoad({ filter: /.*/, namespace: 'etcd-apart' }, () => ({ contents: "module.exports = require('./etcd.cjs');", loader: 'js' }));
    build.onResolve({ filter: /^\.\/etcd\.cjs$/ }, () => ({ path: './etcd.cjs', external: true }));
  },
};

export async function bundleEtcd() {
  const esbuild = await import('esbuild');
  await esbuild.build({
    ...NODE_BUNDLE,
    entryPoints: [join(ROOT, 'src', 'etcd', 'index.ts')],
    outfile: join(ROOT, 'dist', 'etcd.cjs'),
    minify: true,
    legalComments: 'none',
  });
}

/**
 * One CLI bundle, minified, with a linked source map and BUILD_MARK's line
 * last (src/cli/launch.ts names the bundle's code cache by it).
 */
async function bundleCli(entry, outfile) {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    ...NODE_BUNDLE,
    entryPoints: [entry],
    outfile,
    write: false,
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    // oclif loads plugins and hooks by path at run time; tzkv has none, so these stay unresolved.
    // import.meta is empty in CommonJS: src/engine/verify/verify-worker.ts then finds its bundle by __dirname.
    logOverride: { 'unsupported-require-call': 'silent', 'unsupported-dynamic-import': 'silent', 'empty-import-meta': 'silent' },
    plugins: [...startupPlugins, etcdApart],
  });
  const map = result.outputFiles.find((file) => file.path.endsWith('.map'));
  writeFileSync(map.path, map.contents);
  const code = Buffer.from(result.outputFiles.find((file) => file.path === outfile).contents);
  const hash = createHash('sha256').update(code).digest('hex');
  writeFileSync(outfile, Buffer.concat([code, Buffer.from(`\n${BUILD_MARK}${hash}\n`)]));
}

/** The whole CLI: oclif, every command, the engine; its entry holds the command table oclif loads. */
export function bundle() {
  return bundleCli(join(ROOT, 'src', 'commands', 'index.ts'), BUNDLE);
}

/** The fast path for plain get, put, del, keys, incr and ttl lines (src/cli/fast-argv.ts): the engine without oclif. */
export function bundleFast() {
  return bundleCli(join(ROOT, 'src', 'cli', 'fast.ts'), FAST_BUNDLE);
}

/** verify's worker thread: its own file, since a thread starts from one; the CLI bundles and the embedded API start it from dist/. */
export async function bundleVerifyWorker() {
  const esbuild = await import('esbuild');
  await esbuild.build({
    ...NODE_BUNDLE,
    entryPoints: [join(ROOT, 'src', 'engine', 'verify', 'verify-worker-thread.ts')],
    outfile: VERIFY_WORKER_BUNDLE,
    minify: true,
    legalComments: 'none',
  });
}

/** The launcher bin/run.js requires: small, CommonJS, Node built-ins only. */
export async function bundleLauncher() {
  const esbuild = await import('esbuild');
  await esbuild.build({
    ...NODE_BUNDLE,
    entryPoints: [join(ROOT, 'src', 'cli', 'launch.ts')],
    outfile: join(ROOT, 'dist', 'launch.cjs'),
  });
}

export async function build() {
  rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
  // First: tsc and every bundle take the fast path's flags from it.
  await writeDeclaredFlags();
  compile();
  await bundleLauncher();
  await bundle();
  await bundleFast();
  await bundleEtcd();
  await bundleVerifyWorker();
  await writeManifest();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await build();
}
