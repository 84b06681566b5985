// A seeded workload of every kind of write the store has, with the model of
// what each operation does. Sizes are chosen with segmentBytes 4096 and
// flushBytes 1024 in mind: a few dozen operations roll segments, flush the
// tail into index runs, merge runs and compact.
import type { Store } from '../../../src/api.js';
import { seededRandom } from '../../helpers/fault-fs.js';
import type { State } from './values.js';
import { valueOf, versionOf } from './values.js';

export type BatchOp = { t: 'put'; key: string; version: number; ttlMs?: number } | { t: 'del'; key: string };

export type Op =
  | { t: 'put'; key: string; version: number; ttlMs?: number; ifAbsent?: boolean }
  | { t: 'del'; keys: string[] }
  | { t: 'delPrefix'; prefix: string }
  | { t: 'expire'; key: string; inMs: number | null }
  | { t: 'update'; key: string; version: number }
  | { t: 'batch'; ops: BatchOp[] }
  | { t: 'compact' }
  | { t: 'tick'; ms: number };

/** The clock every store of a test reads. */
export interface Clock {
  t: number;
}

export const T0 = 1_800_000_000_000;

export function describeOp(op: Op): string {
  switch (op.t) {
    case 'put':
      return `put ${op.key}@${op.version}${op.ttlMs ? ` ttl ${op.ttlMs}` : ''}${op.ifAbsent ? ' ifAbsent' : ''}`;
    case 'del':
      return `del ${op.keys.join(' ')}`;
    case 'delPrefix':
      return `delPrefix ${op.prefix}`;
    case 'expire':
      return `expire ${op.key} ${op.inMs}`;
    case 'update':
      return `update ${op.key}@${op.version}`;
    case 'batch':
      return `batch[${op.ops.map((b) => (b.t === 'put' ? `${b.key}@${b.version}` : `-${b.key}`)).join(' ')}]`;
    case 'compact':
      return 'compact';
    case 'tick':
      return `tick ${op.ms}`;
  }
}

export interface WorkloadShape {
  ops: number;
  keys: number;
}

/** Keys the workload uses: k00, k01, ... */
export function keyNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `k${String(i).padStart(2, '0')}`);
}

/** A seeded list of operations; it holds one big batch and, after 70% of it, compactions. */
export function makeWorkload(seed: number, shape: WorkloadShape): Op[] {
  const rng = seededRandom(seed);
  const keys = keyNames(shape.keys);
  const pick = () => keys[Math.floor(rng() * keys.length)];
  let version = 0;
  const ops: Op[] = [];
  const bigAt = Math.floor(shape.ops * 0.4);
  const compactAt = Math.floor(shape.ops * 0.7);
  for (let i = 0; i < shape.ops; i++) {
    if (i === bigAt) {
      // Bigger than flushBytes: the batch is indexed straight away; may roll the segment first.
      ops.push({ t: 'batch', ops: keys.slice(0, 12).map((key) => ({ t: 'put', key, version: ++version })) });
      continue;
    }
    if (i === compactAt) {
      ops.push({ t: 'compact' });
      continue;
    }
    const r = rng();
    if (r < 0.42) ops.push({ t: 'put', key: pick(), version: ++version });
    else if (r < 0.5) ops.push({ t: 'put', key: pick(), version: ++version, ttlMs: 1000 + Math.floor(rng() * 4000) });
    else if (r < 0.53) ops.push({ t: 'put', key: pick(), version: ++version, ifAbsent: true });
    else if (r < 0.63) ops.push({ t: 'del', keys: [pick()] });
    else if (r < 0.67) ops.push({ t: 'del', keys: [pick(), pick(), pick()] });
    else if (r < 0.74) ops.push({ t: 'expire', key: pick(), inMs: rng() < 0.3 ? null : 2000 + Math.floor(rng() * 5000) });
    else if (r < 0.78) ops.push({ t: 'update', key: pick(), version: ++version });
    else if (r < 0.9) {
      const n = 2 + Math.floor(rng() * 4);
      const b: BatchOp[] = [];
      for (let j = 0; j < n; j++) {
        b.push(rng() < 0.75 ? { t: 'put', key: pick(), version: ++version, ttlMs: rng() < 0.2 ? 3000 : undefined } : { t: 'del', key: pick() });
      }
      ops.push({ t: 'batch', ops: b });
    } else if (r < 0.96) ops.push({ t: 'tick', ms: 500 + Math.floor(rng() * 1500) });
    else if (i > compactAt) ops.push({ t: 'compact' });
    // Compacting early would leave too few index runs to merge.
    else ops.push({ t: 'put', key: pick(), version: ++version });
  }
  return ops;
}

function live(state: State, key: string, now: number): boolean {
  const v = state.get(key);
  return v !== undefined && (v.expiresAt === null || v.expiresAt > now);
}

/** What `op` does to `state` at time `now`: the new state and the result the store must return. */
export function applyOp(state: State, op: Op, now: number): { state: State; result: unknown } {
  const next: State = new Map(state);
  switch (op.t) {
    case 'put':
      if (op.ifAbsent && live(state, op.key, now)) return { state: next, result: false };
      next.set(op.key, { version: op.version, expiresAt: op.ttlMs ? now + op.ttlMs : null });
      return { state: next, result: true };
    case 'del': {
      let n = 0;
      for (const key of new Set(op.keys)) {
        if (live(state, key, now)) n++;
        next.delete(key);
      }
      return { state: next, result: n };
    }
    case 'delPrefix': {
      const doomed = [...state.keys()].filter((key) => key.startsWith(op.prefix) && live(state, key, now));
      for (const key of state.keys()) if (key.startsWith(op.prefix)) next.delete(key);
      return { state: next, result: doomed.length };
    }
    case 'expire':
      if (!live(state, op.key, now)) return { state: next, result: false };
      next.set(op.key, { ...state.get(op.key)!, expiresAt: op.inMs === null ? null : now + op.inMs });
      return { state: next, result: true };
    case 'update': {
      const cur = live(state, op.key, now) ? state.get(op.key)! : undefined;
      next.set(op.key, { version: op.version, expiresAt: cur?.expiresAt ?? null });
      return { state: next, result: op.version };
    }
    case 'batch':
      for (const b of op.ops) {
        if (b.t === 'put') next.set(b.key, { version: b.version, expiresAt: b.ttlMs ? now + b.ttlMs : null });
        else next.delete(b.key);
      }
      return { state: next, result: undefined };
    case 'compact':
    case 'tick':
      return { state: next, result: undefined };
  }
}

/** Runs `op` against the store; resolves to the result applyOp predicts. */
export async function runOp(store: Store, op: Op, clock: Clock): Promise<unknown> {
  switch (op.t) {
    case 'put':
      return store.put(op.key, valueOf(op.key, op.version), { ttlMs: op.ttlMs, ifAbsent: op.ifAbsent });
    case 'del':
      return store.del(...op.keys);
    case 'delPrefix':
      return store.delPrefix(op.prefix);
    case 'expire':
      return store.setExpiry(op.key, op.inMs === null ? null : clock.t + op.inMs);
    case 'update': {
      const e = await store.update(op.key, () => ({ value: valueOf(op.key, op.version) }));
      return e ? versionOf(op.key, e.value) : undefined;
    }
    case 'batch': {
      const b = store.batch();
      for (const x of op.ops) {
        if (x.t === 'put') b.put(x.key, valueOf(x.key, x.version), { ttlMs: x.ttlMs });
        else b.del(x.key);
      }
      await b.write();
      return undefined;
    }
    case 'compact':
      await store.compact();
      return undefined;
    case 'tick':
      clock.t += op.ms;
      return undefined;
  }
}
