// Maintenance of encrypted stores without their secret (#17): what must work
// without the key tells whether it was given without failing (keysGiven), and
// what rewrites records refuses before it changes anything (requireKeys).
import { createSecretKey, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TzkvError, isTzkvError } from '../../src/errors.js';
import { compactPhased } from '../../src/engine/compact/compact.js';
import { keysGiven } from '../../src/engine/keys-given.js';
import { repairStore } from '../../src/engine/repair/repair.js';
import { DataKeys, PLAIN } from '../../src/format/store-codec.js';
import type { StoreCodec } from '../../src/format/store-codec.js';
import { realFs } from '../../src/io/fs.js';
import { realProcesses } from '../../src/io/processes.js';
import { skipVerify, tempDir, tempStore } from '../helpers/temp-store.js';

const keyless: StoreCodec = {
  encryption: {
    keys() {
      throw new TzkvError('KEY_REQUIRED', 'the store is encrypted: give its key');
    },
  },
  compression: undefined,
};

/** Every file of `dir` and its bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((n) => [n, readFileSync(join(dir, n))]));
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('keysGiven', () => {
  it('is undefined for a store that is not encrypted, the keys when given, null without them', () => {
    const keys = new DataKeys(new Map([[1, createSecretKey(randomBytes(32))]]), 1);
    expect(keysGiven(PLAIN)).toBeUndefined();
    expect(keysGiven({ encryption: { keys: () => keys }, compression: undefined })).toBe(keys);
    expect(keysGiven(keyless)).toBeNull();
  });

  it('throws what keys() throws besides KEY_REQUIRED', () => {
    const wrong: StoreCodec = { encryption: { keys: () => { throw new TzkvError('KEY_WRONG', 'no'); } }, compression: undefined };
    expect(isTzkvError(thrown(() => keysGiven(wrong)), 'KEY_WRONG')).toBe(true);
  });
});

describe('rewriting an encrypted store without its key', () => {
  it('compaction is refused with KEY_REQUIRED before it takes the lock or writes', async () => {
    const dir = tempDir();
    const store = await tempStore({}, dir);
    await store.put('a', '1');
    await store.close();
    const before = snapshot(dir);
    let locked = 0;
    const err = await compactPhased({
      fs: realFs,
      dir,
      codec: keyless,
      now: Date.now(),
      segmentBytes: 1 << 20,
      locked: async () => {
        locked++;
        throw new Error('must not lock');
      },
    }).then(() => undefined, (e: unknown) => e);
    expect(isTzkvError(err, 'KEY_REQUIRED')).toBe(true);
    expect(locked).toBe(0);
    expect(snapshot(dir)).toEqual(before);
  });

  it('repair is refused with KEY_REQUIRED before it quarantines, cuts or rebuilds anything', async () => {
    const dir = tempDir();
    skipVerify(dir);
    const store = await tempStore({}, dir);
    await store.put('a', '1');
    await store.close();
    // A torn tail a repair would cut (and move to quarantine).
    const segment = readdirSync(dir).find((n) => n.endsWith('.tzds'))!;
    writeFileSync(join(dir, segment), Buffer.concat([readFileSync(join(dir, segment)), Buffer.from([1, 2, 3])]));
    const before = snapshot(dir);
    const err = thrown(() => repairStore(realFs, dir, keyless, Date.now(), realProcesses));
    expect(isTzkvError(err, 'KEY_REQUIRED')).toBe(true);
    expect(snapshot(dir)).toEqual(before);
  });
});
