// Maintenance commands and encrypted stores (#17): what a store that is not
// encrypted answers to the options of encrypted ones.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { expectNoStack, storeDir, tzkv } from './helpers.js';

/** Every file of `dir` and its bytes. */
async function files(dir: string): Promise<Map<string, Buffer>> {
  const names = (await readdir(dir)).sort();
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n))] as const)));
}

describe('compact --new-data-key', () => {
  test('on a store that is not encrypted: exit 2 saying so, nothing changed', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'a', '1']);
    await tzkv(['put', '-d', dir, 'a', '2']);
    const before = await files(dir);
    const run = await tzkv(['compact', '-d', dir, '--new-data-key']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`store ${dir} is not encrypted: --new-data-key rotates the data key of an encrypted store`);
    expectNoStack(run);
    expect(await files(dir)).toEqual(before);
  });

  test('with --dry-run: exit 2, the two ask for opposite things', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'a', '1']);
    const run = await tzkv(['compact', '-d', dir, '--new-data-key', '--dry-run']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('--new-data-key rotates the data key as the store is rewritten; --dry-run rewrites nothing');
    expectNoStack(run);
  });
});
