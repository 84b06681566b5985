// compact --new-data-key (src/engine/compact/key-rotation.ts): a crash before
// any mutating file-system step, then a power loss, leaves a store that opens
// with the same secret and reads every key as before; once the rotation ends,
// KEYRING holds the new key alone.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Secret } from '../../src/api.js';
import { decodeKeyring } from '../../src/format/keyring.js';
import { initStore } from '../../src/local/init-store.js';
import { open } from '../../src/local/local-store.js';
import { FaultFs } from '../helpers/fault-fs.js';
import { inScratchDir } from './harness/stores.js';

const SECRET: Secret = { key: randomBytes(32) };
const KEYS = 12;

/** Every key of the store and its value, read with the secret through the real file system. */
async function contents(dir: string): Promise<Record<string, string>> {
  const store = await open(dir, { readOnly: true, secret: SECRET });
  try {
    const out: Record<string, string> = {};
    for await (const e of store.entries()) out[e.key.toString()] = e.value.toString();
    return out;
  } finally {
    await store.close();
  }
}

const keyIds = (dir: string) => decodeKeyring(readFileSync(join(dir, 'KEYRING')), 'KEYRING').keys.map((k) => k.id);

describe('compact --new-data-key under crashes', () => {
  it('leaves a store the same secret opens, holding every key, at every step', async () => {
    for (let n = 1; ; n++) {
      const done = await inScratchDir(async (dir) => {
        await initStore(dir, { encrypt: true, secret: SECRET });
        const writer = await open(dir, { secret: SECRET, segmentBytes: 512, flushBytes: 256 });
        for (let i = 0; i < KEYS; i++) await writer.put(`k${i % 8}`, `value ${i} `.repeat(4));
        await writer.close();
        const before = await contents(dir);
        const fs = new FaultFs(dir).crashBefore(n);
        let finished = false;
        try {
          const store = await open(dir, { fs, secret: SECRET, segmentBytes: 512, flushBytes: 256 });
          await store.compact({ newDataKey: true });
          await store.close();
          finished = true;
        } catch (err) {
          expect((err as Error).message, `crash before mutating call ${n}`).toMatch(/simulated crash/);
        }
        fs.crash();
        expect(await contents(dir), `crash before mutating call ${n}`).toEqual(before);
        if (finished) expect(keyIds(dir)).toEqual([2]);
        return finished;
      });
      if (done) {
        expect(n).toBeGreaterThan(5);
        break;
      }
    }
  });
});
