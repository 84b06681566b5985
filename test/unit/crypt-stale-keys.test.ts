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

  it('goes on after another process rekeyed it (it holds the data keys), and refuses to write once the current key is one it cannot unwrap', async () => {
    await inScratchDir(async (dir) => {
      await initStore(dir, { encrypt: true, secret: SECRET });
      const early = await open(dir, { secret: SECRET });
      await early.put('k', 'v');
      const next: Secret = { key: randomBytes(32) };
      const other = await open(dir, { secret: SECRET });
      await other.admin()!.rekey(next);
      await other.close();
      // docs/cli.md "rekey": a command already running keeps working.
      expect((await early.get('k'))?.toString()).toBe('v');
      await early.put('k', 'v2');
      expect((await early.get('k'))?.toString()).toBe('v2');
      // Rotated under the new secret: the new current key is out of this process's reach.
      const rotator = await open(dir, { secret: next });
      await rotator.compact({ newDataKey: true });
      await rotator.close();
      await expect(early.put('k', 'v3')).rejects.toMatchObject({ code: 'KEY_WRONG' });
      await early.close();
      const fresh = await open(dir, { secret: next, readOnly: true });
      expect((await fresh.get('k'))?.toString()).toBe('v2');
      await fresh.close();
    });
  });
});
