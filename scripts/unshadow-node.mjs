#!/usr/bin/env node
// The node@24 devDependency (for scripts/test-node24.mjs) declares a `node`
// bin, so npm links node_modules/.bin/node, and every npm script (`npm test`,
// `npm run build`) and every `npx` tool would then run on Node 24 instead of
// the Node the user installed. Run from `prepare` (after every install), this
// removes that one link; the Node 24 binary stays at node_modules/node/bin/node.

import { lstatSync, readlinkSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const bins = join(ROOT, 'node_modules', '.bin');

for (const name of ['node', 'node.cmd', 'node.ps1']) {
  const link = join(bins, name);
  try {
    if (!lstatSync(link).isSymbolicLink()) continue;
    // Only the link into the node package: a tool's own `node` shim is left alone.
    if (resolve(bins, readlinkSync(link)).startsWith(join(ROOT, 'node_modules', 'node') + '/')) unlinkSync(link);
  } catch {
    // not there
  }
}
