// Issue #6: replication ships what changed, not the store. A 1M-key store is
// replicated, 1% of its keys change, and the second run ships at most about
// 3% of the store's bytes.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { tempDir } from '../helpers/temp-store.js';

function storeBytes(dir: string): number {
  return readdirSync(dir).reduce((n, name) => n + statSync(join(dir, name)).size, 0);
}

describe('incremental replication', () => {
  it('after 1% of a 1M-key store changes, the next run ships at most 3% of its bytes', async () => {
    const dir = tempDir();
    const store = await open(dir);
    const N = 1_000_000;
    for (let from = 0; from < N; from += 100_000) {
      const b = store.batch();
      for (let i = from; i < from + 100_000; i++) b.put(`user:${i}`, `profile-${i}-${'x'.repeat(24)}`);
      await b.write();
    }
    const follower = join(tempDir(), 'follower');
    const first = await store.admin()!.replicate(follower);
    const total = storeBytes(dir);
    expect(first.bytesShipped).toBeGreaterThan(total * 0.9);
    // 1% of the keys change, spread over the key space, written as one-shot commands would (a flush at a time).
    for (let j = 0; j < N / 100; j += 500) {
      const b = store.batch();
      for (let i = j; i < j + 500; i++) b.put(`user:${i * 100 + 37}`, `changed-${i}`);
      await b.write();
    }
    const second = await store.admin()!.replicate(follower);
    expect(second.bytesShipped).toBeLessThan(storeBytes(dir) * 0.03);
    const copy = await open(follower, { readOnly: true });
    for (const i of [37, 50_037, 999_937, 1]) expect((await copy.get(`user:${i}`))?.toString()).toBe((await store.get(`user:${i}`))?.toString());
    expect((await copy.stats()).keys).toBe(N);
    await copy.close();
    await store.close();
  }, 180_000);
});
