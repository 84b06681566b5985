// Values that check themselves, and the model state a store must match.
// A value is a function of (key, version): reading one back tells which
// version it claims to be, and any byte out of place (a partial or foreign
// value) makes it fail the comparison.
import { expect } from 'vitest';
import type { Store } from '../../../src/api.js';

/** The deterministic value of version `version` of `key` (40..230 bytes). */
export function valueOf(key: string, version: number): Buffer {
  const head = `${key}@${version}:`;
  const length = 40 + ((version * 7919 + key.length * 31) % 190);
  const out = Buffer.alloc(Math.max(length, head.length));
  out.write(head, 0, 'latin1');
  let x = (version * 2654435761 + key.charCodeAt(key.length - 1)) >>> 0;
  for (let i = head.length; i < out.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = 97 + ((x >>> 16) % 26);
  }
  return out;
}

/** The version a stored value claims; throws when it is not exactly valueOf(key, version). */
export function versionOf(key: string, value: Buffer): number {
  const text = value.toString('latin1');
  const m = /^([^@]+)@(\d+):/.exec(text);
  if (!m || m[1] !== key) throw new Error(`value of ${key} is not one tzkv was given: ${JSON.stringify(text.slice(0, 40))}`);
  const version = Number(m[2]);
  if (!valueOf(key, version).equals(value)) {
    throw new Error(`value of ${key} claims version ${version} but its bytes differ (partial or damaged, ${value.length} bytes)`);
  }
  return version;
}

interface Version {
  version: number;
  /** Absolute expiry in ms, null for never. */
  expiresAt: number | null;
}

/** Key -> newest version written; expired entries stay until `visible` filters them. */
export type State = Map<string, Version>;

function visible(state: State, now: number): State {
  const out: State = new Map();
  for (const [k, v] of state) if (v.expiresAt === null || v.expiresAt > now) out.set(k, v);
  return out;
}

function describeState(state: State): string {
  return [...state.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}@${v.version}${v.expiresAt === null ? '' : `~${v.expiresAt}`}`)
    .join(' ');
}

function sameState(a: State, b: State): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || w.version !== v.version || w.expiresAt !== v.expiresAt) return false;
  }
  return true;
}

/**
 * Reads every key of `keys` with getEntry and lists the store with entries();
 * both must agree and every value must be exact. Returns what the store holds.
 */
async function readState(store: Store, keys: Iterable<string>): Promise<State> {
  const byGet: State = new Map();
  for (const key of keys) {
    const e = await store.getEntry(key);
    if (e) byGet.set(key, { version: versionOf(key, e.value), expiresAt: e.expiresAt });
  }
  const byList: State = new Map();
  for await (const e of store.entries()) {
    const key = e.key.toString('latin1');
    byList.set(key, { version: versionOf(key, e.value), expiresAt: e.expiresAt });
  }
  expect(describeState(byList), 'entries() lists what get() reads').toBe(describeState(byGet));
  return byGet;
}

/** The store must hold exactly one of `candidates` (as visible at `now`); returns its index. */
export async function expectOneOf(store: Store, keys: Iterable<string>, candidates: State[], now: number, label: string): Promise<number> {
  const all = new Set(keys);
  for (const c of candidates) for (const k of c.keys()) all.add(k);
  const actual = await readState(store, all);
  const wanted = candidates.map((c) => visible(c, now));
  const i = wanted.findIndex((c) => sameState(c, actual));
  if (i < 0) {
    const lines = wanted.map((c, j) => `  candidate ${j}: ${describeState(c)}`).join('\n');
    expect.fail(`${label}: the store holds\n  ${describeState(actual)}\nwhich is none of\n${lines}`);
  }
  return i;
}
