// A store object opened before another one rotated the data key or rekeyed
// (docs/design.md "Rotation"): its next write seals with the key KEYRING now
// calls current, never with one the rotation dropped (which no one could read
// again), and its reads follow the new KEYRING.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Secret } from '../../src/api.js';
import { decodeKeyring } from '../../src/format/keyring.js';
import { initStore } from '../../src/local/init-store.js';
import { open } from '../../src/local/local-store.js';
import { inScratchDir } from '../fault/harness/stores.js';

const SECRET: Secret = { key: randomBytes(32) };
const keyIds = (dir: string) => decodeKeyring(readFileSync(join(dir, 'KEYRING')), 'KEYRING').keys.map((k) => k.id);

describe('a store opened before a rotation', () => {
  it('writes with the new data key, and every value stays readable', async () => {
    await inScratchDir(async (dir) => {
      await initStore(dir, { encrypt: true, secret: SECRET });
      const early = await open(dir, { secret: SECRET, segmentBytes: 512, flushBytes: 256 });
      await early.put('before', 'written with key 1');
      const rotator = await open(dir, { secret: SECRET, segmentBytes: 512, flushBytes: 256 });
      await rotator.compact({ newDataKey: true });
      await rotator.close();
      expect(keyIds(dir)).toEqual([2]);
      // Enough to roll segments: every new one must name key 2.
      for (let i = 0; i < 40; i++) await early.put(`after${i}`, `written after the rotation ${i}`);
      expect((await early.get('before'))?.toString()).toBe('written with key 1');
      await early.close();
      expect(keyIds(dir)).toEqual([2]);
      const fresh = await open(dir, { secret: SECRET, readOnly: true });
      try {
        expect((await fresh.get('after39'))?.toString()).toBe('written after the rotation 39');
        const report = await fresh.admin()!.verify();
        expect(report.problems).toEqual([]);
      } finally {
        await fresh.close();
      }
    });
  });

  it('reads with KEY_WRONG once another process rekeyed it, never with garbage', async () => {
    await inScratchDir(async (dir) => {
      await initStore(dir, { encrypt: true, secret: SECRET });
      const early = await open(dir, { secret: SECRET });
      await early.put('k', 'v');
      const other = await open(dir, { secret: SECRET });
      await other.admin()!.rekey({ key: randomBytes(32) });
      await other.close();
      await expect(early.get('k')).rejects.toMatchObject({ code: 'KEY_WRONG' });
      await expect(early.put('k', 'v2')).rejects.toMatchObject({ code: 'KEY_WRONG' });
      await early.close();
    });
  });
});
