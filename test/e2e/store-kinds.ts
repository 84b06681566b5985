// The four kinds of store (test/helpers/store-kinds.ts) made through `tzkv
// init` in a child process, with a key file of the test's own, in a store
// directory that is verified when the test ends (helpers.ts storeDir).
import { join } from 'node:path';
import { expect } from 'vitest';
import type { StoreKind } from '../helpers/store-kinds.js';
import { initFlags, writeKeyFile } from '../helpers/store-kinds.js';
import { storeDir, tempDir, tzkv } from './helpers.js';

export interface KindStore {
  dir: string;
  keyFile: string;
  /** `--key-file keyFile -d dir`, for every command. */
  args: string[];
}

/** A store of `kind` made by `tzkv init` (a plain store too: init with no flags). */
export async function initKindStore(kind: StoreKind, dir?: string): Promise<KindStore> {
  const at = dir ?? (await storeDir());
  const keyFile = writeKeyFile(join(await tempDir(), 'store.key'));
  const run = await tzkv(['init', ...initFlags(kind), '--key-file', keyFile, '-d', at]);
  expect(run.exitCode, `tzkv init ${initFlags(kind).join(' ')}: ${run.stderr}`).toBe(0);
  return { dir: at, keyFile, args: ['--key-file', keyFile, '-d', at] };
}
