// verify's check of an index run's branch blocks (src/engine/verify/verify-run-parts.ts):
// a branch block whose CRC holds but whose entries point at what is not a
// block of the run — a child before the block that is not one, or one after
// it (where tzkv never writes a child) — is reported at the branch block, one
// problem an entry, in entry order.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyStore } from '../../src/engine/verify/verify.js';
import { readU64, writeU64 } from '../../src/format/bytes.js';
import { BLOCK_BRANCH } from '../../src/format/constants.js';
import { decodeBlock, decodeRunHeader, parseBranchEntries, sealBlock } from '../../src/format/index-block.js';
import { decodeManifest } from '../../src/format/manifest.js';
import { realFs } from '../../src/io/fs.js';
import { open } from '../../src/local/local-store.js';
import { skipVerify, tempDir } from '../helpers/temp-store.js';
import { PLAIN } from '../../src/format/store-codec.js';

describe('branch blocks', () => {
  it('an entry pointing at no block, before or after its own block, is reported at the block, entry by entry', async () => {
    const dir = tempDir();
    skipVerify(dir);
    const s = await open(dir, { sync: false, flushBytes: 1 });
    const batch = s.batch();
    for (let i = 0; i < 2000; i++) batch.put(`key:${String(i).padStart(6, '0')}`, 'v');
    await batch.write();
    await s.close();
    const m = decodeManifest(readFileSync(join(dir, 'MANIFEST')));
    expect(m.runs).toHaveLength(1);
    const name = `${String(m.runs[0].file).padStart(8, '0')}.tzix`;
    const bytes = readFileSync(join(dir, name));
    const h = decodeRunHeader(bytes, m.runs[0].file);
    if (typeof h === 'string') throw new Error(h);
    expect(h.height).toBe(2); // leaves, and one branch block over them: the root
    expect([h.rootOffset, h.rootLength]).toEqual([h.leavesEnd, h.bloomOffset - h.leavesEnd]);
    const root = bytes.subarray(h.rootOffset, h.bloomOffset);
    const block = decodeBlock(root, BLOCK_BRANCH);
    if (typeof block === 'string') throw new Error(block);
    const entries = parseBranchEntries(block);
    if (typeof entries === 'string') throw new Error(entries);
    expect(entries.length).toBeGreaterThan(3);

    // Child offsets are u64s right after each entry's key: the second entry one byte off its leaf, the third past the branch block.
    const childAt = (i: number) => {
      let p = 8;
      for (let j = 0; j < i; j++) p += 14 + root.readUInt16LE(p);
      return p + 2 + root.readUInt16LE(p);
    };
    const wrongLeaf = readU64(root, childAt(1)) + 1;
    writeU64(root, wrongLeaf, childAt(1));
    writeU64(root, h.bloomOffset, childAt(2));
    sealBlock(root, 0, root.length, BLOCK_BRANCH, entries.length);
    writeFileSync(join(dir, name), bytes);

    const problem = (offset: number) => ({ file: name, offset: h.rootOffset, kind: 'corrupt-index', message: `a branch entry points at offset ${offset}, which is not a block of the run` });
    expect(verifyStore(realFs, dir, PLAIN).problems).toEqual([problem(wrongLeaf), problem(h.bloomOffset)]);
  });
});
