// A store object that kept state between its calls must read as a store
// opened afresh does (src/local/kept-view.ts).
import { expect } from 'vitest';
import type { Store } from '../../src/api.js';
import { open } from '../../src/local/local-store.js';

/**
 * Every key of `expected` reads as it says (undefined: absent) through
 * `store` and through a store on `dir` opened afresh, and `store` lists
 * exactly the keys it holds.
 */
export async function expectReadsAsFresh(store: Store, dir: string, expected: Record<string, string | undefined>): Promise<void> {
  const fresh = await open(dir, { readOnly: true });
  try {
    for (const [k, v] of Object.entries(expected)) {
      expect((await store.get(k))?.toString(), `${k} through the store object`).toBe(v);
      expect((await fresh.get(k))?.toString(), `${k} opened afresh`).toBe(v);
    }
    const listed: string[] = [];
    for await (const e of store.keys()) listed.push(e.key.toString());
    const fromFresh: string[] = [];
    for await (const e of fresh.keys()) fromFresh.push(e.key.toString());
    expect(listed, 'keys through the store object').toEqual(fromFresh);
    for (const [k, v] of Object.entries(expected)) expect(listed.includes(k), `${k} listed`).toBe(v !== undefined);
  } finally {
    await fresh.close();
  }
}
