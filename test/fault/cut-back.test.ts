// Cutting a file back, written once (src/io/fs.ts cutFileBack): a failed
// write's undo (leftovers.ts cutBack) and repair's cut of a torn end both use it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cutBack } from '../../src/engine/files/leftovers.js';
import { cutFileBack } from '../../src/io/fs.js';
import { FaultFs } from '../helpers/fault-fs.js';
import { inScratchDir } from './harness/stores.js';

const BYTES = 'committed|a failed write';
const END = 'committed|'.length;

describe('cutFileBack', () => {
  it('cuts a longer file back durably: a power loss right after keeps the cut', async () => {
    await inScratchDir(async (dir) => {
      writeFileSync(join(dir, 'SEG'), BYTES);
      const fs = new FaultFs(dir);
      expect(cutFileBack(fs, join(dir, 'SEG'), END)).toBe(true);
      expect(fs.trace).toEqual(['truncate SEG', 'fsync SEG']);
      fs.crash();
      expect(readFileSync(join(dir, 'SEG'), 'utf8')).toBe('committed|');
    });
  });

  it('leaves a file no longer than the end as it is', async () => {
    await inScratchDir(async (dir) => {
      writeFileSync(join(dir, 'SEG'), 'committed|');
      const fs = new FaultFs(dir);
      expect(cutFileBack(fs, join(dir, 'SEG'), END)).toBe(false);
      expect(cutFileBack(fs, join(dir, 'SEG'), END + 5)).toBe(false);
      expect(fs.trace).toEqual([]);
      expect(fs.openFds()).toEqual([]);
    });
  });

  for (const op of ['openReadWrite', 'size', 'truncate', 'fsync'] as const) {
    it(`a failing ${op} throws and leaves no descriptor open`, async () => {
      await inScratchDir(async (dir) => {
        writeFileSync(join(dir, 'SEG'), BYTES);
        const fs = new FaultFs(dir).failAt(op, 1);
        expect(() => cutFileBack(fs, join(dir, 'SEG'), END)).toThrow(/injected fault/);
        expect(fs.openFds()).toEqual([]);
      });
    });
  }

  it('a failing close after the fsync loses nothing: the cut stands and is no failure', async () => {
    await inScratchDir(async (dir) => {
      writeFileSync(join(dir, 'SEG'), BYTES);
      const fs = new FaultFs(dir).failAt('close', 1);
      expect(cutFileBack(fs, join(dir, 'SEG'), END)).toBe(true);
      fs.crash();
      expect(readFileSync(join(dir, 'SEG'), 'utf8')).toBe('committed|');
    });
  });
});

describe('cutBack (undoing a failed write)', () => {
  it('words a failure into what is left for the next writer; a file already gone is no failure', async () => {
    await inScratchDir(async (dir) => {
      writeFileSync(join(dir, 'SEG'), BYTES);
      const left: string[] = [];
      cutBack(new FaultFs(dir).failAt('truncate', 1, { code: 'EROFS' }), dir, 'SEG', END, left);
      cutBack(new FaultFs(dir), dir, 'GONE', END, left);
      expect(left).toEqual([expect.stringMatching(/^cutting SEG back to 10 bytes failed \(.*\)$/)]);
      expect(readFileSync(join(dir, 'SEG'), 'utf8')).toBe(BYTES);
    });
  });
});
