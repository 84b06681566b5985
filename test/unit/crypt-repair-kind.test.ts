// A MANIFEST rebuilt by repair keeps the kind of store the files say it is
// (docs/design.md "Repair", made-as.ts): encrypted (KEYRING, headers naming a
// data key, each segment listed with its key), compressed with the algorithm
// its compressed records name, else the defaults; version 1 stays version 1.
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/local/local-store.js';
import { decodeManifest } from '../../src/format/manifest.js';
import type { Manifest } from '../../src/format/manifest.js';
import { DEFAULT_COMPRESSION, DEFAULT_COMPRESSION_MIN_BYTES } from '../../src/format/store-codec.js';
import { STORE_KINDS, initKind } from '../helpers/store-kinds.js';
import type { StoreKind } from '../helpers/store-kinds.js';
import { tempDir } from '../helpers/temp-store.js';

const [plain, compressed, encrypted, both] = STORE_KINDS;
/** Compresses well, and is over the default minBytes. */
const LARGE = 'a value that repeats itself, '.repeat(20);

/** A store of `kind` holding `values`, its MANIFEST then lost (`how`) and repaired; the rebuilt manifest. */
async function rebuilt(kind: StoreKind, values: string[], how: 'damaged' | 'missing'): Promise<Manifest> {
  const dir = tempDir();
  const secret = { key: randomBytes(32) };
  if (kind !== plain) await initKind(dir, kind, secret);
  let store = await open(dir, { secret, segmentBytes: 4096 });
  for (const [i, v] of values.entries()) await store.put(`k${i}`, v);
  await store.close();
  const path = join(dir, 'MANIFEST');
  if (how === 'missing') unlinkSync(path);
  else writeFileSync(path, Buffer.from(readFileSync(path).map((b, i) => (i === 40 ? b ^ 1 : b))));

  store = await open(dir, { secret });
  const report = await store.admin()!.repair();
  expect(report.problems, 'after repair').toEqual([]);
  for (const [i, v] of values.entries()) expect((await store.get(`k${i}`))?.toString(), `k${i} after repair`).toBe(v);
  await store.close();
  return decodeManifest(readFileSync(path));
}

describe('a MANIFEST rebuilt from the files keeps the kind of store', () => {
  for (const how of ['damaged', 'missing'] as const) {
    it(`compressed, ${how}: the algorithm its records name, the default minBytes`, async () => {
      const m = await rebuilt(compressed, ['short', LARGE], how);
      expect(m.compression).toEqual({ algorithm: compressed.compression, minBytes: DEFAULT_COMPRESSION_MIN_BYTES });
      expect(m.encryption).toBeNull();
    });

    it(`encrypted+compressed, ${how}: encrypted, every segment with its data key; compressed as its records say`, async () => {
      const m = await rebuilt(both, Array.from({ length: 40 }, (_, i) => `${i} ${LARGE} ${randomBytes(100).toString('hex')}`), how);
      expect(m.encryption).toEqual({ cipher: 'aes-256-gcm' });
      expect(m.compression).toEqual({ algorithm: both.compression, minBytes: DEFAULT_COMPRESSION_MIN_BYTES });
      expect(m.segments.length, 'several segments').toBeGreaterThan(1);
      expect(m.segments.map((s) => s.key)).toEqual(m.segments.map(() => 1));
    });
  }

  it('compressed, with no value compressed yet: the default compression (version 2 without a data key says compressed)', async () => {
    const m = await rebuilt(compressed, ['short'], 'damaged');
    expect(m.compression).toEqual({ algorithm: DEFAULT_COMPRESSION, minBytes: DEFAULT_COMPRESSION_MIN_BYTES });
  });

  it('encrypted: encrypted, not compressed', async () => {
    const m = await rebuilt(encrypted, ['short', LARGE], 'damaged');
    expect(m.encryption).toEqual({ cipher: 'aes-256-gcm' });
    expect(m.compression).toBeNull();
    expect(m.segments.map((s) => s.key)).toEqual(m.segments.map(() => 1));
  });

  it('plain: plain', async () => {
    const m = await rebuilt(plain, ['short', LARGE], 'damaged');
    expect([m.encryption, m.compression]).toEqual([null, null]);
  });
});
