#!/usr/bin/env node
// npm run build: everything the package ships, from a clean dist/.
//   1. tsc          src/ → dist/ (the embedded API: dist/index.js + .d.ts)
//   2. esbuild      bin/run.js's launcher → dist/launch.cjs; the whole CLI (oclif, commands, engine) → dist/tzkv.cjs, one file,
//                   CommonJS so that src/cli/launch.ts can give it a V8 code cache
//   3. manifest     oclif.manifest.json, regenerated from the bundle (scripts/manifest.mjs)

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeManifest } from './manifest.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = join(ROOT, 'dist', 'tzkv.cjs');
/** src/cli/launch.ts reads this last line to name the bundle's code cache. */
const BUILD_MARK = '//# tzkv-build ';

export function compile() {
  const require = createRequire(import.meta.url);
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit', cwd: ROOT });
}

/**
 * oclif requires TypeScript only to run a plugin's TypeScript sources, which
 * tzkv never does (src/cli/main.ts turns that off); bundling it would add 9 MB.
 */
const STUBS = {
  typescript: "throw new Error('typescript is not part of the tzkv bundle');",
  // oclif asks only to label the platform "wsl" instead of "linux".
  'wsl-utils': 'export const isWsl = false; export const powerShellPath = async () => "powershell.exe";',
  debug: `const off = () => { const log = () => {}; return Object.assign(log, { enabled: false, namespace: '', log, extend: off, destroy() {} }); };
module.exports = Object.assign(off, { default: off, enable() {}, disable: () => '', enabled: () => false, coerce: (v) => v, formatters: {} });`,
};
const withoutTypescript = {
  name: 'without-typescript',
  setup(build) {
    build.onResolve({ filter: /^typescript$/ }, () => ({ path: 'typescript', namespace: 'tzkv-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'tzkv-stub' }, (args) => ({ contents: STUBS[args.path], loader: 'js' }));
  },
};

/**
 * Modules required when the bundle loads but seldom used by a command: Node
 * built-ins (child_process for the shell's name, readline for stdin,
 * perf_hooks for tracing, crypto for the lock's nonce) and oclif's helpers for
 * plugin discovery, help templates and spinners. Each becomes a proxy that
 * requires the real module on first use. Only for modules used through
 * property access (`mod.fn()`), which is how oclif and esbuild's named imports
 * use them.
 */
const LAZY_BUILTINS = ['child_process', 'readline', 'perf_hooks', 'crypto'];
const LAZY_PACKAGES = ['tinyglobby', 'minimatch', 'ejs', 'cli-spinners', 'clean-stack', 'lilconfig'];
const LAZY = new RegExp(`^((node:)?(${LAZY_BUILTINS.join('|')})|${LAZY_PACKAGES.join('|')})$`);
/** A module's export names at build time, or undefined when it cannot be required here. */
function exportNames(path) {
  try {
    return Object.keys(createRequire(import.meta.url)(path));
  } catch {
    return undefined;
  }
}

/**
 * The proxy standing in for `path`. esbuild's ESM interop (__toESM) lists a
 * module's keys and reads their descriptors when it is imported: the names
 * known at build time answer that without loading it.
 */
function lazyModule(path, names) {
  return `let real;
const load = () => (real ??= require(${JSON.stringify(path)}));
const names = ${names === undefined ? 'undefined' : JSON.stringify(names)};
module.exports = new Proxy({}, {
  get: (_, key) => (key === '__esModule' ? undefined : load()[key]),
  has: (_, key) => key in load(),
  ownKeys: () => (real || !names ? Reflect.ownKeys(load()) : names),
  getOwnPropertyDescriptor: (_, key) =>
    real || !names
      ? { ...Object.getOwnPropertyDescriptor(load(), key), configurable: true }
      : names.includes(key)
        ? { configurable: true, enumerable: true, get: () => load()[key] }
        : undefined,
});`;
}

const lazyModules = {
  name: 'lazy-modules',
  setup(build) {
    build.onResolve({ filter: LAZY }, async (args) => {
      if (args.pluginData?.real) return undefined;
      const builtin = args.path.replace(/^node:/, '');
      if (LAZY_BUILTINS.includes(builtin)) {
        return args.namespace === 'tzkv-lazy' ? { path: args.path, external: true } : { path: `node:${builtin}`, namespace: 'tzkv-lazy' };
      }
      const real = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { real: true } });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'tzkv-lazy' };
    });
    build.onLoad({ filter: /.*/, namespace: 'tzkv-lazy' }, (args) => ({
      contents: lazyModule(args.path, exportNames(args.path)),
      loader: 'js',
      resolveDir: ROOT,
    }));
  },
};

/**
 * oclif logs through the debug package, whose start-up alone (colour and
 * terminal probing) costs milliseconds on every run; tzkv never enables it.
 */
const withoutDebug = {
  name: 'without-debug',
  setup(build) {
    build.onResolve({ filter: /^(debug|wsl-utils)$/ }, (args) => ({ path: args.path, namespace: 'tzkv-stub' }));
  },
};

/**
 * oclif sorts its command list with localeCompare, and the first
 * localeCompare of a process loads ICU's collation data: about 20 ms of every
 * run. Command ids are ASCII, so a code-unit comparison orders them the same.
 */
const PLUGIN_SORT = 'a.id.localeCompare(b.id)';
const withoutCollator = {
  name: 'without-collator',
  setup(build) {
    build.onLoad({ filter: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(PLUGIN_SORT)) {
        throw new Error(`${args.path} no longer contains "${PLUGIN_SORT}": check the start-up time (docs/cli.md) and update scripts/build.mjs`);
      }
      return { contents: source.replace(PLUGIN_SORT, '(a.id < b.id ? -1 : a.id > b.id ? 1 : 0)'), loader: 'js' };
    });
  },
};

/** Bundles the CLI; `plugins` lets a caller substitute modules (esbuild plugins). */
export async function bundle({ plugins = [] } = {}) {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [join(ROOT, 'src', 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: BUNDLE,
    write: false,
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
    // oclif loads plugins and hooks by path at run time; tzkv has none, so these stay unresolved.
    logOverride: { 'unsupported-require-call': 'silent', 'unsupported-dynamic-import': 'silent' },
    plugins: [withoutTypescript, withoutDebug, lazyModules, withoutCollator, ...plugins],
  });
  const code = Buffer.from(result.outputFiles[0].contents);
  const hash = createHash('sha256').update(code).digest('hex');
  writeFileSync(BUNDLE, Buffer.concat([code, Buffer.from(`\n${BUILD_MARK}${hash}\n`)]));
}

/** The launcher bin/run.js requires: small, CommonJS, Node built-ins only. */
export async function bundleLauncher() {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [join(ROOT, 'src', 'cli', 'launch.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: join(ROOT, 'dist', 'launch.cjs'),
    logLevel: 'warning',
  });
}

export async function build() {
  rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
  compile();
  await bundleLauncher();
  await bundle();
  await writeManifest();
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await build();
}
