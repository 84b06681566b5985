#!/usr/bin/env node
// oclif.manifest.json, generated from the built bundle: the same thing
// `oclif manifest` writes, without that tool. oclif trusts a present manifest
// blindly, so the build always regenerates it and test/e2e checks that the
// committed one is fresh.
//   node scripts/manifest.mjs           write oclif.manifest.json
//   node scripts/manifest.mjs --stdout  print a fresh one (for the freshness test)

import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const MANIFEST = join(ROOT, 'oclif.manifest.json');

export async function manifestText() {
  const require = createRequire(import.meta.url);
  const { buildManifest } = require(join(ROOT, 'dist', 'tzkv.cjs'));
  return `${JSON.stringify(await buildManifest(ROOT), null, 2)}\n`;
}

export async function writeManifest() {
  writeFileSync(MANIFEST, await manifestText());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--stdout')) process.stdout.write(await manifestText());
  else await writeManifest();
}
