// rekey's replacement of KEYRING (src/engine/files/keyring-file.ts rekeyStore):
// a failure of any file-system step, or a crash before it, leaves a KEYRING
// that the old secret or the new one opens, whole.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Secret } from '../../src/api.js';
import { rekeyStore } from '../../src/engine/files/keyring-file.js';
import { initStore } from '../../src/local/init-store.js';
import { open } from '../../src/local/local-store.js';
import type { FsOp } from '../helpers/fault-fs.js';
import { FaultFs, MUTATING_OPS } from '../helpers/fault-fs.js';
import { inScratchDir } from './harness/stores.js';

const OLD: Secret = { key: randomBytes(32) };
const NEW: Secret = { passphrase: 'the new one' };

/** Which of the two secrets open the store now (through the real file system). */
async function opening(dir: string): Promise<string[]> {
  const opens: string[] = [];
  for (const [name, secret] of [['old', OLD], ['new', NEW]] as const) {
    try {
      await (await open(dir, { readOnly: true, secret })).close();
      opens.push(name);
    } catch (err) {
      if ((err as { code?: string }).code !== 'KEY_WRONG') throw err;
    }
  }
  return opens;
}

/** The file-system calls of one rekey, in order (read the KEYRING, then replaceFile). */
const STEPS: FsOp[] = ['openRead', 'read', 'createTruncate', 'write', 'fsync', 'close', 'rename', 'fsyncDir'];

describe('rekey under faults', () => {
  for (const op of STEPS) {
    it(`a failing ${op} leaves the store opening with the old secret or, past the rename, the new one`, async () => {
      await inScratchDir(async (dir) => {
        await initStore(dir, { encrypt: true, secret: OLD });
        const fs = new FaultFs(dir).failAt(op, 1, { code: 'EIO', partial: op === 'write', ...(op === 'fsyncDir' ? {} : { match: /KEYRING/ }) });
        expect(() => rekeyStore(fs, dir, OLD, NEW)).toThrow(/KEYRING/);
        expect(await opening(dir)).toEqual(op === 'fsyncDir' ? ['new'] : ['old']);
      });
    });
  }

  it('a crash before any mutating step, then power loss, leaves the old KEYRING or the new one, whole', async () => {
    for (let n = 1; ; n++) {
      const done = await inScratchDir(async (dir) => {
        await initStore(dir, { encrypt: true, secret: OLD });
        const fs = new FaultFs(dir).crashBefore(n);
        let finished = false;
        try {
          rekeyStore(fs, dir, OLD, NEW);
          finished = true;
        } catch (err) {
          expect((err as Error).message).toMatch(/simulated crash/);
        }
        fs.crash();
        const opens = await opening(dir);
        expect(opens, `crash before mutating call ${n}`).toHaveLength(1);
        if (finished) expect(opens).toEqual(['new']);
        return finished;
      });
      if (done) {
        expect(n).toBeGreaterThan(MUTATING_OPS.length / 3);
        break;
      }
    }
  });
});
