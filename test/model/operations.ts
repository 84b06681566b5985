// The model test's steps (test/model/model.test.ts): writes as a program
// makes them, and faults of the environment as other processes, crashes and
// bit rot make them, with their fast-check arbitraries and weights.
import fc from 'fast-check';
import type { DamageTarget, LockHolderKind } from './environment.js';

export type Write =
  | { t: 'put'; k: string; v: string; ttl: number | null; ifAbsent: boolean }
  | { t: 'del'; ks: string[] }
  | { t: 'ttl'; k: string; ms: number | null }
  | { t: 'batch'; ops: Array<{ k: string; v: string | null }> }
  | { t: 'delPrefix'; prefix: string };
export type Op =
  | Write
  | { t: 'tick'; ms: number }
  | { t: 'reopen' }
  | { t: 'compact'; phase: 'snapshot' | 'rewritten'; during: Write[] }
  | { t: 'lock'; holder: LockHolderKind }
  | { t: 'marker'; live: boolean }
  | { t: 'damage'; target: DamageTarget; pick: number; at: number; xor: number }
  | { t: 'replicate' }
  | { t: 'promote' };

export const KEYS = ['a', 'b', 'c', 'user:1', 'user:2', 'user:10', 'k\u00e9', 'z'.repeat(40), 'x\u0000y'];
const key = fc.constantFrom(...KEYS);
const value = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ minLength: 100, maxLength: 400 }));
const write: fc.Arbitrary<Write> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('put' as const), k: key, v: value, ttl: fc.option(fc.integer({ min: 1, max: 5000 })), ifAbsent: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), ks: fc.array(key, { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('ttl' as const), k: key, ms: fc.option(fc.integer({ min: 1, max: 5000 })) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('batch' as const), ops: fc.array(fc.record({ k: key, v: fc.option(value) }), { minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('delPrefix' as const), prefix: fc.constantFrom('user:', 'user:1', 'a', 'x\u0000', 'zz', '') }) },
);
const fault: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ t: fc.constant('lock' as const), holder: fc.constantFrom<LockHolderKind>('dead', 'recycled', 'own', 'unreadable', 'live', 'foreign') }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('marker' as const), live: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('damage' as const),
      target: fc.constantFrom<DamageTarget>('record', 'record', 'run', 'manifest'),
      pick: fc.nat(),
      at: fc.nat(),
      xor: fc.integer({ min: 1, max: 255 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ t: 'replicate' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'promote' as const }) },
);
export const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 20, arbitrary: write },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 2, arbitrary: fc.constant({ t: 'reopen' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('compact' as const), phase: fc.constantFrom('snapshot' as const, 'rewritten' as const), during: fc.array(write, { maxLength: 6 }) }),
  },
  { weight: 5, arbitrary: fault },
);
/** spillBytes: most batches stage in a file and become a segment of their own, some do, none do (the default). */
export const spill = fc.constantFrom(64, 1024, undefined);

/** One step as a line of the failure report. */
export function stepLine(o: Op): string {
  const { t, ...rest } = o;
  return `${t} ${JSON.stringify(rest, (_, v: unknown) => (typeof v === 'string' && v.length > 24 ? `${v.slice(0, 12)}…(${v.length} chars)` : v))}`;
}
