// Model-based test of the conditional writes (Store.swap, Store.delIf,
// put's ifValue/ifVersion) and of Entry.version, in fast-check: random
// sequences of plain and conditional writes, reads that collect versions,
// clock ticks, reopens, compactions, and a replicate followed later by the
// follower's promotion (its log then ends where the leader's went on, so new
// records land where others were read).
//
// The model names every write (a number); a version read is remembered with
// the write it was read from. A condition must hold exactly as the model says:
//  * ifValue: the key is live (not missing, not expired) with those bytes;
//  * ifVersion with a version read from an earlier write of the key, or from
//    a key that has since expired or been deleted: never;
//  * ifVersion with a version read from the key's current write: always, as
//    long as no compaction or promotion has moved records since it was read
//    (after one it may fail: docs/cli.md "put", never the other way round).
//
// Deterministic: the seed is fixed (TZKV_MODEL_SEED=N picks another).
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Entry, Store } from '../../src/api.js';
import { open } from '../../src/local/local-store.js';
import type { EngineOptions } from '../../src/local/local-store.js';
import { tempDir } from '../helpers/temp-store.js';

const SEED = Number(process.env.TZKV_MODEL_SEED ?? 20261206);
const KEYS = ['a', 'user:1'];
const VALUES = ['', 'x', 'y', 'a longer value '.repeat(12)];

type Step =
  | { t: 'put'; k: string; v: string; ttl: number | null }
  | { t: 'del'; k: string }
  | { t: 'expire'; k: string; ms: number }
  | { t: 'read'; k: string }
  | { t: 'list' }
  | { t: 'update'; k: string; v: string }
  | { t: 'swapValue'; k: string; old: string; v: string; ttl: number | null }
  | { t: 'swapVersion'; k: string; pick: number; v: string }
  | { t: 'swapAny'; k: string; v: string }
  | { t: 'delValue'; k: string; old: string }
  | { t: 'delVersion'; k: string; pick: number }
  | { t: 'tick'; ms: number }
  | { t: 'reopen' }
  | { t: 'compact' }
  | { t: 'replicate' }
  | { t: 'promote' };

const key = fc.constantFrom(...KEYS);
const value = fc.constantFrom(...VALUES);
const ttl = fc.option(fc.integer({ min: 1, max: 3000 }), { freq: 3 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('put' as const), k: key, v: value, ttl }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), k: key }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('expire' as const), k: key, ms: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('read' as const), k: key }) },
  { weight: 1, arbitrary: fc.constant({ t: 'list' as const }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('update' as const), k: key, v: value }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('swapValue' as const), k: key, old: value, v: value, ttl }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('swapVersion' as const), k: key, pick: fc.nat(), v: value }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('swapAny' as const), k: key, v: value }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('delValue' as const), k: key, old: value }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('delVersion' as const), k: key, pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 2000 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
  { weight: 2, arbitrary: fc.constant({ t: 'compact' as const }) },
  { weight: 3, arbitrary: fc.constant({ t: 'replicate' as const }) },
  { weight: 3, arbitrary: fc.constant({ t: 'promote' as const }) },
);

/** A key's state: its value, expiry and the write that made it. */
interface Live {
  value: string;
  expiresAt: number | null;
  write: number;
}
type Model = Map<string, Live>;
/**
 * A version read, the write it was read from and that write's bytes, and the
 * count of record moves (compactions, promotions) before the read. `lost`: read
 * from a leader after the replicate its promoted follower took over from.
 */
interface Seen {
  k: string;
  version: string;
  write: number;
  value: string;
  expiresAt: number | null;
  moves: number;
  lost?: true;
}

async function runSteps(steps: Step[], log: string[]): Promise<void> {
  let now = 1_700_000_000_000;
  const options: EngineOptions = { now: () => now, segmentBytes: 1024, flushBytes: 200 };
  let dir = tempDir();
  let store: Store = await open(dir, options);
  let model: Model = new Map();
  let writes = 0;
  let moves = 0;
  const seen: Seen[] = [];
  /** The follower a replicate last filled, the model then, and how many versions had been read by then. */
  let follower: { dir: string; model: Model; read: number } | undefined;

  const live = (k: string): Live | undefined => {
    const e = model.get(k);
    return e && (e.expiresAt === null || e.expiresAt > now) ? e : undefined;
  };
  /** An entry a read returned: it agrees with the model, and its version is remembered. */
  const saw = (k: string, entry: Entry | undefined, what: string) => {
    const want = live(k);
    expect(entry?.value.toString(), `${what}: value of ${k}`).toBe(want?.value);
    if (!entry || !want) return;
    expect(entry.expiresAt, `${what}: expiry of ${k}`).toBe(want.expiresAt);
    expect(entry.version, `${what}: a version`).toMatch(/^\d+:\d+:[0-9a-f]{8}$/);
    // A version names one write: the same string is never read from two (but from a lost one's byte-identical twin).
    for (const s of seen) if (s.version === entry.version && !s.lost) expect(s.write, `${what}: ${entry.version} read from another write`).toBe(want.write);
    seen.push({ k, version: entry.version!, write: want.write, value: want.value, expiresAt: want.expiresAt, moves });
  };
  const wrote = (k: string, v: string, expiresAt: number | null) => model.set(k, { value: v, expiresAt, write: ++writes });
  /** A swap that wrote: the version it gives is that of the write just made (the model's newest). */
  const swapped = (k: string, version: string | undefined) => {
    const cur = model.get(k)!;
    expect(version, 'swap: the version written').toMatch(/^\d+:\d+:[0-9a-f]{8}$/);
    seen.push({ k, version: version!, write: cur.write, value: cur.value, expiresAt: cur.expiresAt, moves });
  };
  /** The version a step picks: one of the last four read of this key (the likeliest to be mistaken for its current one), or one never read when there is none. */
  const pickVersion = (k: string, pick: number): Seen => {
    const of = seen.filter((s) => s.k === k);
    return of.length === 0 ? { k, version: '999:16:00000000', write: -1, value: '', expiresAt: null, moves } : of[of.length - 1 - (pick % Math.min(of.length, 4))];
  };
  /**
   * What a version condition must do: true, false, or undefined when either is
   * right: records moved since the read, or a lost write's version meets a
   * record of the very same bytes, which may sit where the lost one did.
   */
  const versionHolds = (s: Seen): boolean | undefined => {
    const cur = live(s.k);
    if (!cur) return false;
    if (cur.write !== s.write) return s.lost && cur.value === s.value && cur.expiresAt === s.expiresAt ? undefined : false;
    return s.moves === moves ? true : undefined;
  };
  const expectOutcome = (got: boolean, want: boolean | undefined, what: string) => {
    if (want !== undefined) expect(got, what).toBe(want);
  };

  for (const o of steps) {
    log.push(JSON.stringify(o));
    if ((o.t === 'replicate' || o.t === 'compact') && !existsSync(join(dir, 'MANIFEST'))) {
      log[log.length - 1] += ' -> skipped: no store yet';
      continue;
    }
    switch (o.t) {
      case 'put':
        await store.put(o.k, o.v, o.ttl === null ? {} : { ttlMs: o.ttl });
        wrote(o.k, o.v, o.ttl === null ? null : now + o.ttl);
        break;
      case 'del':
        await store.del(o.k);
        model.delete(o.k);
        break;
      case 'expire': {
        const cur = live(o.k);
        expect(await store.setExpiry(o.k, now + o.ms)).toBe(cur !== undefined);
        if (cur) wrote(o.k, cur.value, now + o.ms);
        break;
      }
      case 'read':
        saw(o.k, await store.getEntry(o.k), 'getEntry');
        break;
      case 'list':
        for await (const e of store.entries()) saw(e.key.toString(), e, 'entries');
        break;
      case 'update': {
        const cur = live(o.k);
        const result = await store.update(o.k, (current) => {
          saw(o.k, current, 'update (current)');
          return { value: o.v };
        });
        wrote(o.k, o.v, cur?.expiresAt ?? null);
        saw(o.k, result, 'update (written)');
        break;
      }
      case 'swapValue': {
        const cur = live(o.k);
        const holds = cur !== undefined && cur.value === o.old;
        const result = await store.swap(o.k, o.v, { ifValue: o.old, ...(o.ttl === null ? {} : { ttlMs: o.ttl }) });
        expect(result.written, 'swap ifValue').toBe(holds);
        saw(o.k, result.previous, 'swap ifValue (previous)');
        if (holds) {
          wrote(o.k, o.v, o.ttl === null ? null : now + o.ttl);
          swapped(o.k, result.version);
        }
        break;
      }
      case 'swapVersion': {
        const s = pickVersion(o.k, o.pick);
        const want = versionHolds(s);
        const result = await store.swap(o.k, o.v, { ifVersion: s.version });
        expectOutcome(result.written, want, `swap ifVersion ${s.version} (read from write ${s.write})`);
        saw(o.k, result.previous, 'swap ifVersion (previous)');
        if (result.written) {
          wrote(o.k, o.v, null);
          swapped(o.k, result.version);
        }
        break;
      }
      case 'swapAny': {
        const result = await store.swap(o.k, o.v);
        expect(result.written).toBe(true);
        saw(o.k, result.previous, 'swap (previous)');
        wrote(o.k, o.v, null);
        swapped(o.k, result.version);
        break;
      }
      case 'delValue': {
        const cur = live(o.k);
        const holds = cur !== undefined && cur.value === o.old;
        expect(await store.delIf(o.k, { ifValue: o.old }), 'delIf ifValue').toBe(holds);
        if (holds) model.delete(o.k);
        break;
      }
      case 'delVersion': {
        const s = pickVersion(o.k, o.pick);
        const want = versionHolds(s);
        const deleted = await store.delIf(o.k, { ifVersion: s.version });
        expectOutcome(deleted, want, `delIf ifVersion ${s.version} (read from write ${s.write})`);
        if (deleted) model.delete(o.k);
        break;
      }
      case 'tick':
        now += o.ms;
        break;
      case 'reopen':
        await store.close();
        store = await open(dir, options);
        break;
      case 'compact':
        await store.compact();
        moves++;
        break;
      case 'replicate':
        follower ??= { dir: tempDir(), model: new Map(), read: 0 };
        await store.admin()!.replicate(follower.dir);
        follower.model = new Map([...model].map(([k, e]) => [k, { ...e }]));
        follower.read = seen.length;
        break;
      case 'promote':
        if (!follower) break;
        await store.close();
        store = await open(follower.dir, options);
        expect(await store.admin()!.promote()).toBe(true);
        for (const s of seen.slice(follower.read)) s.lost = true;
        ({ dir, model } = follower);
        follower = undefined;
        moves++;
        break;
    }
    for (const k of KEYS) expect((await store.get(k))?.toString(), `after the step, ${k}`).toBe(live(k)?.value);
  }
  expect((await store.verify()).problems).toEqual([]);
  await store.close();
}

describe('conditional writes and versions against a model', () => {
  it('hold exactly when the model says, and a stale version is never taken', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60, size: 'max' }), async (steps) => {
        const log: string[] = [];
        try {
          await runSteps(steps, log);
        } catch (err) {
          const lines = log.map((s, i) => `  ${i + 1}. ${s}`).join('\n');
          throw new Error(`${(err as Error).message}\n\nseed ${SEED} (TZKV_MODEL_SEED); the steps, the last one failing:\n${lines}`, { cause: err });
        }
      }),
      { numRuns: Number(process.env.TZKV_MODEL_RUNS ?? 60), seed: SEED },
    );
  }, 120_000);
});
