// The view a store keeps between its calls (src/local/kept-view.ts) after
// writes that failed and were undone (docs/design.md "Failures"): the undo
// cuts the active segment back, and the next write lands where the undone
// one was. The store object that failed, and one that kept its view across
// another's failure, read and write exactly as a store opened afresh.
import { describe, expect, it } from 'vitest';
import { FaultFs } from '../helpers/fault-fs.js';
import { expectReadsAsFresh } from '../helpers/fresh-reads.js';
import { tempDir, tempStore } from '../helpers/temp-store.js';
import { expectIoError, expectNothingLeftBehind } from './harness/stores.js';

/** Every write stays in the unindexed tail unless a test asks for flushes. */
const TAIL = { flushBytes: 64 << 20 };

describe('the view a store keeps, after a write that failed', () => {
  it('its own fsync failed: the write is undone, and the next commit lands where it was', async () => {
    const dir = tempDir();
    const fs = new FaultFs(dir);
    const s = await tempStore({ ...TAIL, fs }, dir);
    await s.put('a', '1');
    await s.put('b', '2');
    fs.failAt('fsync', 1, { match: /\.tzds$/ });
    const err = await s.put('c', 'undone').catch((e: unknown) => e);
    expectIoError(err, 'the failed put');
    expectNothingLeftBehind(dir, err, 'the failed put');
    expect(await s.get('c')).toBeUndefined();
    // Shorter than the undone record, then longer: both where it was.
    await s.put('d', '4');
    await s.put('e', 'a value longer than the undone one');
    expect(await s.put('c', 'written', { ifAbsent: true })).toBe(true);
    await expectReadsAsFresh(s, dir, { a: '1', b: '2', c: 'written', d: '4', e: 'a value longer than the undone one' });
    await s.close();
  });

  it('its own index flush failed after the append landed: the write is undone whole, the view keeps none of it', async () => {
    const dir = tempDir();
    const fs = new FaultFs(dir);
    const s = await tempStore({ flushBytes: 1024, fs }, dir);
    await s.put('a', '1');
    fs.failAt('createTruncate', 1, { match: /\.tzix\.tmp$/ });
    const err = await s.put('big', 'x'.repeat(1100)).catch((e: unknown) => e);
    expectIoError(err, 'the failed flush');
    expectNothingLeftBehind(dir, err, 'the failed flush');
    // Another store object's record as long as the undone one, where it was: the segment is as long as the failed session left it.
    const other = await tempStore(TAIL, dir);
    await other.put('bog', 'y'.repeat(1100));
    await other.close();
    expect(await s.get('big')).toBeUndefined();
    expect(await s.get('bog').then(String)).toBe('y'.repeat(1100));
    expect(await s.put('big', 'small now', { ifAbsent: true })).toBe(true);
    await expectReadsAsFresh(s, dir, { a: '1', big: 'small now', bog: 'y'.repeat(1100) });
    await s.close();
  });

  it("another store object's write failed and was cut back, then written over, between two commits of this one", async () => {
    const dir = tempDir();
    const s = await tempStore(TAIL, dir);
    const fs = new FaultFs(dir);
    const other = await tempStore({ ...TAIL, fs }, dir);
    await s.put('a', '1');
    await s.put('b', '2');
    fs.failAt('fsync', 1, { match: /\.tzds$/ });
    expectIoError(await other.put('c', 'undone').catch((e: unknown) => e), "the other's failed put");
    await other.put('d', 'written where the undone record was, and longer');
    // A write first (the session catches up under the lock), then reads.
    expect(await s.put('c', 'written', { ifAbsent: true })).toBe(true);
    await expectReadsAsFresh(s, dir, { a: '1', b: '2', c: 'written', d: 'written where the undone record was, and longer' });
    // A read first: the other's failure leaves the segment as long as this store left it.
    fs.failAt('fsync', 1, { match: /\.tzds$/ });
    expectIoError(await other.put('e', 'undone').catch((e: unknown) => e), "the other's second failed put");
    await expectReadsAsFresh(s, dir, { e: undefined });
    await s.put('f', '6');
    await expectReadsAsFresh(s, dir, { a: '1', b: '2', c: 'written', d: 'written where the undone record was, and longer', e: undefined, f: '6' });
    await other.close();
    await s.close();
  });
});
