// esbuild plugins that keep the CLI bundle's start-up short (docs/cli.md
// "Start-up time"). Each one removes work every `tzkv` call would otherwise
// do before running its command; none changes what a command does.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/**
 * Modules replaced outright:
 * - typescript: oclif requires it only to run a plugin's TypeScript sources,
 *   which tzkv never does (src/cli/main.ts turns that off); it would add 9 MB.
 * - debug: oclif's logger; its start-up probes the terminal on every run, and
 *   tzkv never enables it.
 * - wsl-utils: oclif asks only to label the platform "wsl" instead of "linux".
 */
const STUBS = {
  typescript: "throw new Error('typescript is not part of the tzkv bundle');",
  debug: `const off = () => { const log = () => {}; return Object.assign(log, { enabled: false, namespace: '', log, extend: off, destroy() {} }); };
module.exports = Object.assign(off, { default: off, enable() {}, disable: () => '', enabled: () => false, coerce: (v) => v, formatters: {} });`,
  'wsl-utils': 'export const isWsl = false; export const powerShellPath = async () => "powershell.exe";',
};

const stubs = {
  name: 'stubs',
  setup(build) {
    build.onResolve({ filter: new RegExp(`^(${Object.keys(STUBS).join('|')})$`) }, (args) => ({ path: args.path, namespace: 'tzkv-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'tzkv-stub' }, (args) => ({ contents: STUBS[args.path], loader: 'js' }));
  },
};

/**
 * Modules required when the bundle loads but seldom used by a command: Node
 * built-ins (child_process for the shell's name, readline for stdin,
 * perf_hooks for tracing, crypto where /dev/urandom is missing, zlib for long CRC-32
 * spans: src/format/bytes.ts, worker_threads for verify's second thread,
 * fs/promises for reading a value from a file and writing export to one) and oclif's helpers for
 * plugin discovery, help templates, spinners and stack cleaning. Each becomes
 * a proxy that requires the real module on first use, which works for modules
 * used through property access (`mod.fn()`): how oclif and esbuild's named
 * imports use them.
 */
const LAZY_BUILTINS = ['child_process', 'readline', 'perf_hooks', 'crypto', 'zlib', 'worker_threads', 'fs/promises'];
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
        // The proxy's own require of the built-in stays a plain require.
        return args.namespace === 'tzkv-lazy' ? { path: args.path, external: true } : { path: `node:${builtin}`, namespace: 'tzkv-lazy' };
      }
      const real = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { real: true } });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'tzkv-lazy' };
    });
    build.onLoad({ filter: /.*/, namespace: 'tzkv-lazy' }, (args) => ({
      contents: lazyModule(args.path, exportNames(args.path)),
      loader: 'js',
      resolveDir: process.cwd(),
    }));
  },
};

/**
 * oclif sorts its command list with localeCompare, and the first
 * localeCompare of a process loads ICU's collation data: about 20 ms of every
 * run. Command ids are ASCII, so a code-unit comparison orders them the same.
 * Fails the build if an oclif upgrade moves the line, so the cost cannot
 * creep back unnoticed.
 */
const PLUGIN_SORT = 'a.id.localeCompare(b.id)';
const withoutCollator = {
  name: 'without-collator',
  setup(build) {
    build.onLoad({ filter: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(PLUGIN_SORT)) {
        throw new Error(`${args.path} no longer contains "${PLUGIN_SORT}": check the start-up time (docs/cli.md) and update scripts/bundle-plugins.mjs`);
      }
      return { contents: source.replace(PLUGIN_SORT, '(a.id < b.id ? -1 : a.id > b.id ? 1 : 0)'), loader: 'js' };
    });
  },
};

export const startupPlugins = [stubs, lazyModules, withoutCollator];
