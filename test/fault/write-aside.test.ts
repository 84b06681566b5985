// Temp + fsync + rename, written once (src/io/fs.ts writeFileAside, and
// replaceFile on top of it): whichever step fails, the file keeps its old
// content and no temporary file stays behind; after a power loss at any
// point it holds its old content or all of the new.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeVerified } from '../../src/engine/files/verified.js';
import { replaceFile, writeFileAside } from '../../src/io/fs.js';
import type { FsOp } from '../helpers/fault-fs.js';
import { FaultFs } from '../helpers/fault-fs.js';
import { inScratchDir } from './harness/stores.js';

const OLD = 'the old content\n';
const NEW = ['the new ', 'content, ', 'in three chunks\n'];

/** The calls of one writeFileAside, in order; a fault in each is tried. */
const STEPS: FsOp[] = ['createTruncate', 'write', 'fsync', 'close', 'rename'];

const chunks = () => NEW.map((c) => Buffer.from(c));

describe('writeFileAside', () => {
  for (const op of STEPS) {
    for (const existing of [true, false]) {
      it(`a failing ${op} leaves ${existing ? 'the old file as it was' : 'no file'} and no temporary file`, async () => {
        await inScratchDir(async (dir) => {
          if (existing) writeFileSync(join(dir, 'NOTE'), OLD);
          const fs = new FaultFs(dir).failAt(op, op === 'write' ? 2 : 1, { code: 'EIO', partial: op === 'write' });
          expect(() => writeFileAside(fs, dir, 'NOTE', chunks())).toThrow(/injected fault/);
          expect(readdirSync(dir)).toEqual(existing ? ['NOTE'] : []);
          if (existing) expect(readFileSync(join(dir, 'NOTE'), 'utf8')).toBe(OLD);
        });
      });
    }
  }

  it('writes every chunk, fsyncs them before the rename, and returns the bytes written', async () => {
    await inScratchDir(async (dir) => {
      writeFileSync(join(dir, 'NOTE'), OLD);
      const fs = new FaultFs(dir);
      expect(writeFileAside(fs, dir, 'NOTE', chunks())).toBe(NEW.join('').length);
      expect(readFileSync(join(dir, 'NOTE'), 'utf8')).toBe(NEW.join(''));
      expect(readdirSync(dir)).toEqual(['NOTE']);
      expect(fs.trace).toEqual(['createTruncate NOTE.tmp', 'write NOTE.tmp', 'write NOTE.tmp', 'write NOTE.tmp', 'fsync NOTE.tmp', 'rename NOTE.tmp']);
    });
  });

  it('takes another temporary name, and skips the fsync when told (a record, not data)', async () => {
    await inScratchDir(async (dir) => {
      const fs = new FaultFs(dir);
      writeFileAside(fs, dir, 'NOTE', chunks(), { tmpName: 'NOTE.42.tmp', fsync: false });
      expect(readFileSync(join(dir, 'NOTE'), 'utf8')).toBe(NEW.join(''));
      expect(fs.trace).toEqual(['createTruncate NOTE.42.tmp', 'write NOTE.42.tmp', 'write NOTE.42.tmp', 'write NOTE.42.tmp', 'rename NOTE.42.tmp']);
    });
  });
});

describe('replaceFile', () => {
  it('after a power loss before any of its calls, the file holds its old content or all of the new; once it returned, the new', async () => {
    await inScratchDir(async (dir) => {
      writeFileSync(join(dir, 'NOTE'), OLD);
      const dry = new FaultFs(dir);
      replaceFile(dry, dir, 'NOTE', Buffer.from(NEW.join('')));
      const calls = dry.mutations;
      expect(calls).toBe(5); // createTruncate, write, fsync, rename, fsyncDir
      for (let n = 1; n <= calls + 1; n++) {
        writeFileSync(join(dir, 'NOTE'), OLD);
        const fs = new FaultFs(dir).crashBefore(n);
        try {
          replaceFile(fs, dir, 'NOTE', Buffer.from(NEW.join('')));
        } catch {
          // the simulated crash
        }
        fs.crash();
        const after = readFileSync(join(dir, 'NOTE'), 'utf8');
        expect([OLD, NEW.join('')], `power loss before call ${n}`).toContain(after);
        if (n > calls) expect(after, 'after replaceFile returned').toBe(NEW.join(''));
      }
    });
  });

  it('a failing directory fsync comes after the rename: the new content is in place, no temporary file left', async () => {
    await inScratchDir(async (dir) => {
      writeFileSync(join(dir, 'NOTE'), OLD);
      let replaced = false;
      const fs = new FaultFs(dir).failAt('fsyncDir', 1);
      expect(() => replaceFile(fs, dir, 'NOTE', Buffer.from('new\n'), () => (replaced = true))).toThrow(/injected fault/);
      expect(replaced).toBe(true);
      expect(readdirSync(dir)).toEqual(['NOTE']);
      expect(readFileSync(join(dir, 'NOTE'), 'utf8')).toBe('new\n');
    });
  });
});

describe('writeVerified', () => {
  const record = { verifiedAt: '2026-12-01T00:00:00.000Z', ok: true, problems: 0, bytes: 10, durationMs: 1 };

  it('writes VERIFIED aside under a name of its own process, without fsync', async () => {
    await inScratchDir(async (dir) => {
      const fs = new FaultFs(dir);
      expect(writeVerified(fs, dir, record)).toBe(true);
      expect(JSON.parse(readFileSync(join(dir, 'VERIFIED'), 'utf8'))).toEqual(record);
      expect(fs.trace).toEqual([`createTruncate VERIFIED.${process.pid}.tmp`, `write VERIFIED.${process.pid}.tmp`, `rename VERIFIED.${process.pid}.tmp`]);
    });
  });

  for (const op of ['createTruncate', 'write', 'close', 'rename'] as FsOp[]) {
    it(`a failing ${op}: false, the old VERIFIED as it was, no temporary file`, async () => {
      await inScratchDir(async (dir) => {
        writeFileSync(join(dir, 'VERIFIED'), OLD);
        expect(writeVerified(new FaultFs(dir).failAt(op, 1), dir, record)).toBe(false);
        expect(readdirSync(dir)).toEqual(['VERIFIED']);
        expect(readFileSync(join(dir, 'VERIFIED'), 'utf8')).toBe(OLD);
      });
    });
  }
});
