// Model-based test (basho bitcask's QuickCheck state machine, in fast-check):
// random sequences of put / del / ttl / persist / batch / advance-clock /
// reopen / compact against a plain Map, checking every read after every step.
// Compactions run writes between their snapshot and their switch (as other
// processes' writers would), with every read checked there too.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/api.js';
import { open } from '../../src/local/local-store.js';
import { tempDir } from '../helpers/temp-store.js';

type Model = Map<string, { value: string; expiresAt: number | null }>;

type Write =
  | { t: 'put'; k: string; v: string; ttl: number | null; ifAbsent: boolean }
  | { t: 'del'; ks: string[] }
  | { t: 'ttl'; k: string; ms: number | null }
  | { t: 'batch'; ops: Array<{ k: string; v: string | null }> };
type Op = Write | { t: 'tick'; ms: number } | { t: 'reopen' } | { t: 'compact'; phase: 'snapshot' | 'rewritten'; during: Write[] };

const key = fc.constantFrom('a', 'b', 'c', 'user:1', 'user:2', 'user:10', 'k\u00e9', 'z'.repeat(40), 'x\u0000y');
const value = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ minLength: 100, maxLength: 400 }));
const write: fc.Arbitrary<Write> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('put' as const), k: key, v: value, ttl: fc.option(fc.integer({ min: 1, max: 5000 })), ifAbsent: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), ks: fc.array(key, { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('ttl' as const), k: key, ms: fc.option(fc.integer({ min: 1, max: 5000 })) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('batch' as const), ops: fc.array(fc.record({ k: key, v: fc.option(value) }), { minLength: 1, maxLength: 8 }) }) },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: write },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('compact' as const), phase: fc.constantFrom('snapshot' as const, 'rewritten' as const), during: fc.array(write, { maxLength: 6 }) }),
  },
);

function live(model: Model, k: string, now: number) {
  const e = model.get(k);
  if (!e) return undefined;
  if (e.expiresAt !== null && e.expiresAt <= now) {
    model.delete(k);
    return undefined;
  }
  return e;
}

async function checkAll(store: Store, model: Model, now: number, keys: string[]) {
  for (const k of keys) {
    const want = live(model, k, now);
    const got = await store.getEntry(k);
    expect(got?.value.toString(), `value of ${JSON.stringify(k)}`).toBe(want?.value);
    if (want) expect(got?.expiresAt).toBe(want.expiresAt);
  }
  const listed: string[] = [];
  for await (const k of store.keys()) listed.push(k.key.toString());
  const expected = [...model.keys()].filter((k) => live(model, k, now)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  expect(listed).toEqual(expected);
}

describe('store against a Map model', () => {
  it('agrees on every read after every step', async () => {
    const allKeys = ['a', 'b', 'c', 'user:1', 'user:2', 'user:10', 'k\u00e9', 'z'.repeat(40), 'x\u0000y'];
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const dir = tempDir();
        let now = 1_700_000_000_000;
        let during: { phase: string; writes: Write[] } | undefined;
        const options = {
          now: () => now,
          segmentBytes: 2048,
          flushBytes: 300,
          onCompactPhase: async (phase: string) => {
            if (during?.phase !== phase) return;
            for (const w of during.writes) {
              await apply(w);
              await checkAll(store, model, now, allKeys);
            }
          },
        };
        let store = await open(dir, options);
        const model: Model = new Map();
        const apply = async (o: Write) => {
          switch (o.t) {
            case 'put': {
              const exists = live(model, o.k, now) !== undefined;
              const wrote = await store.put(o.k, o.v, { ttlMs: o.ttl ?? undefined, ifAbsent: o.ifAbsent });
              expect(wrote).toBe(!(o.ifAbsent && exists));
              if (wrote) model.set(o.k, { value: o.v, expiresAt: o.ttl === null ? null : now + o.ttl });
              break;
            }
            case 'del': {
              const unique = [...new Set(o.ks)];
              const existing = unique.filter((k) => live(model, k, now)).length;
              expect(await store.del(...o.ks)).toBe(existing);
              for (const k of unique) model.delete(k);
              break;
            }
            case 'ttl': {
              const e = live(model, o.k, now);
              const at = o.ms === null ? null : now + o.ms;
              expect(await store.setExpiry(o.k, at)).toBe(e !== undefined);
              if (e) e.expiresAt = at;
              break;
            }
            case 'batch': {
              const b = store.batch();
              for (const x of o.ops) (x.v === null ? b.del(x.k) : b.put(x.k, x.v));
              await b.write();
              for (const x of o.ops) (x.v === null ? model.delete(x.k) : model.set(x.k, { value: x.v, expiresAt: null }));
              break;
            }
          }
        };
        for (const o of ops) {
          switch (o.t) {
            case 'tick':
              now += o.ms;
              break;
            case 'reopen':
              await store.close();
              store = await open(dir, options);
              break;
            case 'compact':
              during = { phase: o.phase, writes: o.during };
              expect((await store.compact()).compacted).toBe(true);
              during = undefined;
              break;
            default:
              await apply(o);
          }
          await checkAll(store, model, now, allKeys);
        }
        const report = await store.verify();
        expect(report.problems).toEqual([]);
        await store.close();
      }),
      { numRuns: 60 },
    );
  });
});
