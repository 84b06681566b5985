// A repair that rebuilds a lost MANIFEST from the segments (docs/cli.md
// "verify [--repair]") keeps what kind of store it is: an encrypted store
// stays encrypted (its secret still needed, its next writes sealed: a canary
// put after the repair is in no file), a compressed one compressed, both
// format version 2 (docs/format.md "Format version 2").
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { leaks } from '../helpers/leaks.js';
import { STORE_KINDS } from '../helpers/store-kinds.js';
import { tzkv, tzkvJson } from './helpers.js';
import { initKindStore } from './store-kinds.js';

for (const kind of STORE_KINDS.filter((k) => k.encrypt || k.compression !== undefined)) {
  describe(`an ${kind.name} store whose MANIFEST is damaged`, () => {
    test('verify --repair rebuilds it as the same kind of store', async () => {
      const s = await initKindStore(kind);
      expect((await tzkv(['put', ...s.args, 'before', 'written before the damage'])).exitCode).toBe(0);
      const before = await tzkvJson<Record<string, unknown>>(['stats', '-d', s.dir]);
      expect(before.json.formatVersion).toBe(2);
      const manifest = join(s.dir, 'MANIFEST');
      const bytes = readFileSync(manifest);
      bytes[40] ^= 0x01; // inside the body: its CRC fails
      writeFileSync(manifest, bytes);
      // A store that lost its manifest is damaged for every read, with the key or without (docs/format.md "The store directory").
      for (const args of [s.args, ['-d', s.dir]]) {
        const read = await tzkv(['get', ...args, 'before']);
        expect(read.exitCode, read.stderr).toBe(4);
        expect(read.stderr).toContain('MANIFEST');
      }

      const repair = await tzkv(['verify', '--repair', ...s.args]);
      expect(repair.exitCode, repair.stdout + repair.stderr).toBe(0);
      const after = await tzkvJson<Record<string, unknown>>(['stats', '-d', s.dir]);
      expect(after.json.formatVersion, 'the rebuilt store is version 2 still').toBe(2);
      expect(await tzkv(['get', ...s.args, 'before'])).toMatchObject({ exitCode: 0, stdout: 'written before the damage' });

      const canary = { key: `canary-${randomBytes(8).toString('hex')}`, value: `canary-${randomBytes(8).toString('hex')}` };
      expect((await tzkv(['put', ...s.args, canary.key, canary.value])).exitCode).toBe(0);
      if (kind.encrypt) {
        const keyless = await tzkv(['get', '-d', s.dir, canary.key]);
        expect(keyless.exitCode, 'the store still needs its secret').toBe(6);
        expect(leaks([s.dir], [canary.key, canary.value]), 'a write after the repair is sealed').toEqual([]);
      }
      expect(await tzkv(['get', ...s.args, canary.key])).toMatchObject({ exitCode: 0, stdout: canary.value });
    });
  });
}
