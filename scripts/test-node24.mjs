#!/usr/bin/env node
// Runs the process-level tests (test/e2e) with the CLI under Node 24, the
// current LTS, from the npm package node@24 (a devDependency): vitest itself
// stays on this Node; only the tzkv processes it starts change.
//   node scripts/test-node24.mjs [vitest arguments]
// Exits with vitest's status; fails clearly when the Node 24 binary is missing.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function node24() {
  // The node package's install script links the platform binary here.
  const candidates = [join(ROOT, 'node_modules', 'node', 'bin', 'node')];
  try {
    const platformPackage = require.resolve(`node-${process.platform}-${process.arch}/package.json`, { paths: [join(ROOT, 'node_modules', 'node')] });
    candidates.push(join(dirname(platformPackage), 'bin', 'node'));
  } catch {
    // not installed separately
  }
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue;
    const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
    if (version.startsWith('v24.')) return { path: candidate, version };
  }
  console.error(`test-node24: no Node 24 binary in ${candidates.join(' or ')}; run npm install (the node@24 devDependency provides it)`);
  process.exit(1);
}

const { path, version } = node24();
console.error(`test-node24: running test/e2e with the CLI on Node ${version} (${path})`);
const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const result = spawnSync(process.execPath, [vitest, 'run', 'test/e2e', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, TZKV_TEST_NODE: path },
});
process.exit(result.status ?? 1);
