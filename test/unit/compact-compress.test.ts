// A compressed store's compaction compresses the values a bulk import left
// uncompressed (docs/design.md "Compression"), through the embedded API: the
// stats census stays true when writes land during such a compaction (it is
// dropped, and stats counts by a scan until the next compaction rebuilds it).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type PackedPuts, putPacked } from '../../src/checked-batch.js';
import { init } from '../../src/index.js';
import { open } from '../../src/local/local-store.js';
import { STORE_KINDS, keyFileSecret } from '../helpers/store-kinds.js';
import { tempDir } from '../helpers/temp-store.js';

/** `count` puts `doc:N` of ~2 KB of compressible JSON each, packed as an import packs them. */
function packedDocs(count: number): PackedPuts {
  const parts: Buffer[] = [];
  const at = { keyStart: new Uint32Array(count), keyEnd: new Uint32Array(count), valueStart: new Uint32Array(count), valueEnd: new Uint32Array(count) };
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const key = Buffer.from(`doc:${i}`);
    const value = Buffer.from(JSON.stringify({ id: i, items: Array.from({ length: 40 }, (_, j) => ({ sku: `sku-${(i * 31 + j) % 97}`, quantity: j })) }));
    at.keyStart[i] = pos;
    at.keyEnd[i] = pos += key.length;
    at.valueStart[i] = pos;
    at.valueEnd[i] = pos += value.length;
    parts.push(key, value);
  }
  return { bytes: Buffer.concat(parts), count, prefix: Buffer.alloc(0), ...at, expiresAt: new Float64Array(count) };
}

describe.each(STORE_KINDS.filter((k) => k.compression !== undefined))('compaction of a $name store after a bulk import', (kind) => {
  it('compresses the pending values; with writes during it, stats count by a scan and agree, and the next compaction restores the census', async () => {
    const dir = tempDir();
    const secret = keyFileSecret(tempDir());
    await init(dir, { encrypt: kind.encrypt, compression: kind.compression, secret });
    let during: (() => Promise<void>) | undefined;
    const store = await open(dir, { secret, flushBytes: 1024, onCompactPhase: async (phase) => (phase === 'snapshot' ? during?.() : undefined) });
    try {
      const batch = store.batch();
      putPacked(batch, packedDocs(1500));
      await batch.write();
      const imported = await store.stats();
      expect(imported.compression!.pending.bytes).toBeGreaterThan(0);

      during = async () => {
        await store.put('doc:0', 'replaced during the compaction');
        await store.del('doc:1');
        await store.put('new', randomBytes(2000)); // past flushBytes: a run written since the snapshot
      };
      await store.compact();
      const after = await store.stats();
      expect(after.compression!.pending.bytes).toBe(0);
      expect(after.totalBytes).toBeLessThan(imported.totalBytes / 2);
      expect(after.counted).toBe('scan');
      expect(after.keys).toBe(1500);
      expect(String(await store.get('doc:0'))).toBe('replaced during the compaction');
      expect(await store.get('doc:1')).toBeUndefined();
      expect(JSON.parse(String(await store.get('doc:1499')))).toMatchObject({ id: 1499 });

      during = undefined;
      await store.compact();
      const again = await store.stats();
      expect({ counted: again.counted, keys: again.keys, deadBytes: again.deadBytes }).toEqual({ counted: 'census', keys: 1500, deadBytes: 0 });
      if (kind.encrypt) {
        // The records written during the first compaction sat in groups of their own, each with a
        // whole SEAL record (docs/design.md "Stats of version 2 stores"): packed into full groups now.
        expect(again.liveBytes).toBeLessThan(after.liveBytes);
        expect(again.liveBytes).toBeGreaterThan(after.liveBytes - 3 * 52);
      } else {
        expect(again.liveBytes).toBe(after.liveBytes);
      }
    } finally {
      await store.close();
    }
  });
});
