// The end-of-test check of test/helpers/temp-store.ts: every store a test
// made is verified, through the file system the test opened it with.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileSystem } from '../../src/io/fs.js';
import { realFs } from '../../src/io/fs.js';
import { open } from '../../src/local/local-store.js';
import { skipVerify, storeProblems, tempDir, tempStore } from '../helpers/temp-store.js';

/** Flips a byte in the middle of the store's first segment. */
function damage(dir: string): void {
  const path = join(dir, '00000001.tzds');
  const bytes = readFileSync(path);
  bytes[30] ^= 0xff; // inside the first record, 'a'
  writeFileSync(path, bytes);
}

describe('the end-of-test store check', () => {
  it('verifies a store opened with an injected file system, through that file system', async () => {
    let reads = 0;
    const counting: FileSystem = { ...realFs, read: (...args) => (reads++, realFs.read(...args)) };
    const dir = tempDir();
    const s = await tempStore({ fs: counting }, dir);
    await s.put('a', 'x'.repeat(100));
    await s.put('b', 'y');
    await s.close();
    damage(dir);
    reads = 0;
    const problems = (await storeProblems()).get(dir);
    expect(problems).toContainEqual(expect.objectContaining({ file: '00000001.tzds' }));
    expect(reads, 'reads through the injected file system').toBeGreaterThan(0);
    skipVerify(dir);
    expect((await storeProblems()).has(dir)).toBe(false);
  });

  it('verifies a store opened with plain open() in a temp directory, or one level down in it', async () => {
    const root = tempDir();
    const dirs = [root, join(tempDir(), 'follower')];
    mkdirSync(dirs[1]);
    for (const dir of dirs) {
      const s = await open(dir);
      await s.put('a', 'x'.repeat(100));
      await s.put('b', 'y');
      await s.close();
      damage(dir);
    }
    const found = await storeProblems();
    for (const dir of dirs) expect(found.get(dir), dir).toContainEqual(expect.objectContaining({ file: '00000001.tzds' }));
    skipVerify(root);
    skipVerify(join(dirs[1], '..'));
  });
});
