// The census against a model: after every step of random put / del / ttl /
// batch / clock / reopen / compact sequences, stats' keys, expired keys and
// live bytes equal what a Map says, and they came from the census, not a scan.
// Compactions run writes between their snapshot and their switch, as writers
// of other processes would, and stats is checked there too. An encrypted
// store's live bytes also hold each live record's share of its group's SEAL
// record (docs/design.md "Stats of version 2 stores"), which the model cannot
// place: there the census must match verify's count of the index, and lie
// between the records' bytes and those plus a whole SEAL record a key.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/api.js';
import { FILE_HEADER_BYTES } from '../../src/format/constants.js';
import { SEAL_RECORD_BYTES } from '../../src/format/seal.js';
import { open } from '../../src/local/local-store.js';
import { STORE_KINDS, initKind, keyFileSecret } from '../helpers/store-kinds.js';
import { tempDir } from '../helpers/temp-store.js';

/** Every key whose newest record is a PUT, expired or not (expired ones stay until a compaction). */
type Model = Map<string, { bytes: number; expiresAt: number | null }>;

type Write =
  | { t: 'put'; k: number; v: number; ttl: number | null }
  | { t: 'del'; k: number }
  | { t: 'ttl'; k: number; ms: number | null }
  | { t: 'batch'; ops: Array<{ k: number; v: number | null; ttl: number | null }> };
type Op =
  | Write
  | { t: 'tick'; ms: number }
  | { t: 'reopen' }
  | { t: 'compact'; phase: 'snapshot' | 'rewritten'; during: Write[] };

const KEYS = 16;
const k = fc.integer({ min: 0, max: KEYS - 1 });
const v = fc.integer({ min: 0, max: 300 });
const ttl = fc.option(fc.integer({ min: 1, max: 4000 }), { freq: 2 });
const write: fc.Arbitrary<Write> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ t: fc.constant('put' as const), k, v, ttl }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), k }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('ttl' as const), k, ms: fc.option(fc.integer({ min: 1, max: 4000 })) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('batch' as const), ops: fc.array(fc.record({ k, v: fc.option(v), ttl }), { minLength: 1, maxLength: 30 }) }) },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 14, arbitrary: write },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 2000 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('compact' as const), phase: fc.constantFrom('snapshot' as const, 'rewritten' as const), during: fc.array(write, { maxLength: 8 }) }),
  },
);

const name = (i: number) => `key:${i}`;
const recordBytes = (i: number, valueLength: number) => 20 + Buffer.byteLength(name(i)) + valueLength;
const expired = (e: { expiresAt: number | null }, now: number) => e.expiresAt !== null && e.expiresAt <= now;

async function checkStats(store: Store, model: Model, now: number, encrypted: boolean) {
  let keys = 0;
  let expiredKeys = 0;
  let liveBytes = 0;
  for (const e of model.values()) {
    if (expired(e, now)) expiredKeys++;
    else {
      keys++;
      liveBytes += e.bytes;
    }
  }
  const s = await store.stats();
  expect({ counted: s.counted, keys: s.keys, expiredKeys: s.expiredKeys }).toEqual({ counted: 'census', keys, expiredKeys });
  if (encrypted) {
    // Each live record adds its share of a SEAL record; so does each expired one until a
    // compaction drops it (TTL sections count records' own lengths: docs/design.md "Stats of version 2 stores").
    expect(s.liveBytes).toBeGreaterThanOrEqual(liveBytes);
    expect(s.liveBytes).toBeLessThanOrEqual(liveBytes + SEAL_RECORD_BYTES * model.size);
    const census = (await store.verify()).problems.filter((p) => p.kind === 'census-mismatch');
    expect(census).toEqual([]);
  } else {
    expect(s.liveBytes).toBe(liveBytes);
  }
  expect(s.deadBytes).toBe(Math.max(0, s.totalBytes - s.liveBytes - FILE_HEADER_BYTES * s.segments));
}

const KINDS = STORE_KINDS.filter((kind) => kind.compression === undefined);

describe.each(KINDS)('census against a Map model ($name store)', (kind) => {
  const encrypted = kind.encrypt;
  it('stats agree with the model after every step, across flushes, merges, reopens and compactions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const dir = tempDir();
        const secret = keyFileSecret(tempDir());
        let now = 1_700_000_000_000;
        // Writes the running compaction's hook makes between its phases.
        let during: { phase: string; writes: Write[] } | undefined;
        // Tiny flushes and segments: runs are written and merged every few operations.
        const options = {
          now: () => now,
          secret,
          segmentBytes: 4096,
          flushBytes: 64,
          onCompactPhase: async (phase: string) => {
            if (during?.phase !== phase) return;
            for (const w of during.writes) {
              await apply(w);
              await checkStats(store, model, now, encrypted);
            }
          },
        };
        if (encrypted) await initKind(dir, kind, secret);
        let store = await open(dir, options);
        const model: Model = new Map();
        const live = (i: number) => {
          const e = model.get(name(i));
          return e && !expired(e, now) ? e : undefined;
        };
        const apply = async (o: Write) => {
          switch (o.t) {
            case 'put':
              await store.put(name(o.k), 'v'.repeat(o.v), { ttlMs: o.ttl ?? undefined });
              model.set(name(o.k), { bytes: recordBytes(o.k, o.v), expiresAt: o.ttl === null ? null : now + o.ttl });
              break;
            case 'del':
              // del writes no tombstone for a key that is already gone or
              // expired: an expired record stays expired until a compaction.
              await store.del(name(o.k));
              if (live(o.k)) model.delete(name(o.k));
              break;
            case 'ttl': {
              const e = live(o.k);
              await store.setExpiry(name(o.k), o.ms === null ? null : now + o.ms);
              if (e) e.expiresAt = o.ms === null ? null : now + o.ms;
              break;
            }
            case 'batch': {
              const b = store.batch();
              for (const x of o.ops) {
                if (x.v === null) {
                  b.del(name(x.k));
                  model.delete(name(x.k));
                } else {
                  b.put(name(x.k), 'w'.repeat(x.v), { ttlMs: x.ttl ?? undefined });
                  model.set(name(x.k), { bytes: recordBytes(x.k, x.v), expiresAt: x.ttl === null ? null : now + x.ttl });
                }
              }
              await b.write();
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
              await store.compact();
              during = undefined;
              // The clock stands still during the compaction: what it found expired is gone,
              // and nothing written meanwhile (a TTL is at least 1 ms) had expired.
              for (const [key, e] of model) if (expired(e, now)) model.delete(key);
              break;
            default:
              await apply(o);
          }
          await checkStats(store, model, now, encrypted);
        }
        await store.close();
      }),
      { numRuns: encrypted ? 40 : 80 },
    );
  });
});
