// The fault layer itself: the other fault tests mean only what it simulates.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FaultFs, SimulatedCrash, appendZeros, cutAtRandom, flipByte, seededRandom } from '../helpers/fault-fs.js';
import { inScratchDir } from './harness/stores.js';

function writeFile(fs: FaultFs, path: string, data: string, sync: boolean): number {
  const fd = fs.createExclusive(path);
  fs.write(fd, Buffer.from(data), 0, data.length, 0);
  if (sync) fs.fsync(fd);
  return fd;
}

describe('FaultFs.crash', () => {
  it('drops bytes written since the last fsync, keeps what was fsynced', async () => {
    await inScratchDir(async (dir) => {
      const fs = new FaultFs(dir);
      const fd = writeFile(fs, join(dir, 'a'), 'durable', true);
      fs.fsyncDir(dir);
      fs.write(fd, Buffer.from('+lost'), 0, 5, 7);
      expect(readFileSync(join(dir, 'a'), 'latin1')).toBe('durable+lost');
      fs.crash();
      expect(readFileSync(join(dir, 'a'), 'latin1')).toBe('durable');
    });
  });

  it('keeps a chosen prefix of unsynced appends when asked (partial write-back)', async () => {
    await inScratchDir(async (dir) => {
      const fs = new FaultFs(dir);
      const fd = writeFile(fs, join(dir, 'a'), 'durable', true);
      fs.fsyncDir(dir);
      fs.write(fd, Buffer.from('+kept+lost'), 0, 10, 7);
      fs.crash((name, durable, current) => {
        expect([name, durable, current]).toEqual(['a', 7, 17]);
        return 12;
      });
      expect(readFileSync(join(dir, 'a'), 'latin1')).toBe('durable+kept');
    });
  });

  it('removes files created since the last fsyncDir, even when their data was fsynced', async () => {
    await inScratchDir(async (dir) => {
      const fs = new FaultFs(dir);
      writeFile(fs, join(dir, 'old'), 'x', true);
      fs.fsyncDir(dir);
      writeFile(fs, join(dir, 'new'), 'y', true);
      fs.crash();
      expect(readdirSync(dir)).toEqual(['old']);
    });
  });

  it('undoes a rename over a file until fsyncDir, and the old target keeps its bytes', async () => {
    await inScratchDir(async (dir) => {
      writeFileSync(join(dir, 'MANIFEST'), 'old manifest');
      for (const dirSync of [false, true]) {
        const fs = new FaultFs(dir);
        const fd = writeFile(fs, join(dir, 'MANIFEST.tmp'), `new ${dirSync}`, true);
        fs.close(fd);
        fs.rename(join(dir, 'MANIFEST.tmp'), join(dir, 'MANIFEST'));
        if (dirSync) fs.fsyncDir(dir);
        fs.crash();
        expect(readFileSync(join(dir, 'MANIFEST'), 'latin1')).toBe(dirSync ? 'new true' : 'old manifest');
        expect(existsSync(join(dir, 'MANIFEST.tmp'))).toBe(false);
      }
    });
  });

  it('brings back a file unlinked since the last fsyncDir', async () => {
    await inScratchDir(async (dir) => {
      writeFileSync(join(dir, 'run'), 'index');
      const fs = new FaultFs(dir);
      fs.unlink(join(dir, 'run'));
      fs.crash();
      expect(readFileSync(join(dir, 'run'), 'latin1')).toBe('index');
    });
  });

  it('treats a truncating create as a new file under the old name (never written through): the old bytes survive until the directory is fsynced', async () => {
    await inScratchDir(async (dir) => {
      writeFileSync(join(dir, 'f'), 'original');
      const fs = new FaultFs(dir);
      const fd = fs.createTruncate(join(dir, 'f'));
      fs.write(fd, Buffer.from('re'), 0, 2, 0);
      expect(fs.image().get('f')?.toString()).toBe('original');
      fs.fsync(fd);
      expect(fs.image().get('f')?.toString()).toBe('original');
      fs.fsyncDir(dir);
      expect(fs.image().get('f')?.toString()).toBe('re');
    });
  });
});

describe('FaultFs failures', () => {
  it('fails the nth call of an operation with an errno error, once', async () => {
    await inScratchDir(async (dir) => {
      const fs = new FaultFs(dir).failAt('fsync', 2, { code: 'ENOSPC' });
      const fd = writeFile(fs, join(dir, 'a'), 'x', true);
      let err: NodeJS.ErrnoException | undefined;
      try {
        fs.fsync(fd);
      } catch (e) {
        err = e as NodeJS.ErrnoException;
      }
      expect(err?.code).toBe('ENOSPC');
      expect(err?.syscall).toBe('fsync');
      expect(() => fs.fsync(fd)).not.toThrow();
    });
  });

  it('counts only calls on matching names when given a pattern; a short write leaves half the bytes', async () => {
    await inScratchDir(async (dir) => {
      const fs = new FaultFs(dir).failAt('write', 1, { match: /^b$/, partial: true });
      writeFile(fs, join(dir, 'a'), 'aaaa', false);
      expect(() => writeFile(fs, join(dir, 'b'), 'bbbb', false)).toThrow(/EIO/);
      expect(readFileSync(join(dir, 'b'), 'latin1')).toBe('bb');
    });
  });

  it('kills the process before the nth mutating call: nothing from then on happens', async () => {
    await inScratchDir(async (dir) => {
      const fs = new FaultFs(dir).crashBefore(3);
      const fd = writeFile(fs, join(dir, 'a'), 'x', false); // mutations 1 and 2
      expect(() => fs.fsync(fd)).toThrow(SimulatedCrash);
      expect(fs.crashed).toBe(true);
      expect(() => fs.readdir(dir)).toThrow(SimulatedCrash);
      expect(fs.trace).toEqual(['createExclusive a', 'write a']);
      fs.crash();
      expect(readdirSync(dir)).toEqual([]);
    });
  });

  it('tracks open descriptors', async () => {
    await inScratchDir(async (dir) => {
      const fs = new FaultFs(dir);
      const fd = writeFile(fs, join(dir, 'a'), 'x', false);
      expect(fs.openFds()).toEqual(['a']);
      fs.close(fd);
      expect(fs.openFds()).toEqual([]);
    });
  });
});

describe('damage helpers', () => {
  it('cut, flip and zero-extend files', async () => {
    await inScratchDir(async (dir) => {
      const path = join(dir, 'f');
      writeFileSync(path, 'abcdef');
      flipByte(path, 1, 0x20);
      expect(readFileSync(path, 'latin1')).toBe('aBcdef');
      appendZeros(path, 2);
      expect(readFileSync(path)).toEqual(Buffer.from('aBcdef\0\0', 'latin1'));
      const rng = seededRandom(5);
      const n = cutAtRandom(path, rng, 3);
      expect(n).toBeGreaterThanOrEqual(3);
      expect(readFileSync(path).length).toBe(n);
    });
  });
});
