// A torn tail (docs/format.md "Recovery rules"): the active segment cut at
// every length past what the index covers. The store opens, reads exactly
// the operations whose bytes are whole, never a partial value; the next write
// cuts the garbage off first (appending behind it would hide every later
// write, so the later write must still be visible after another reopen).
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/api.js';
import { TzkvError } from '../../src/errors.js';
import { RECORD_OK, RecordInfo, decodeRecord } from '../../src/format/record.js';
import { appendZeros, cutFile, flipByte, seededRandom, writeImage } from '../helpers/fault-fs.js';
import { activeSegmentPath, checkRecovered, inScratchDir, openStore, readManifestFile } from './harness/stores.js';
import type { State } from './harness/values.js';
import { valueOf } from './harness/values.js';
import type { Op } from './harness/workload.js';
import { T0, applyOp, keyNames, makeWorkload, runOp } from './harness/workload.js';

const KEYS = 10;
const keys = keyNames(KEYS);
const clock = { t: T0 };

/** A store whose active segment has an unindexed tail of several operations; boundaries[i]: where an operation's bytes end, and the state then. */
interface TornBase {
  img: Map<string, Buffer>;
  active: string;
  indexedTo: number;
  size: number;
  boundaries: Array<{ end: number; state: State }>;
  /** Every record of the tail. */
  records: Array<{ start: number; length: number }>;
}

let base: TornBase;

async function buildBase(): Promise<TornBase> {
  return inScratchDir(async (dir) => {
    let state: State = new Map();
    const run = async (store: Store, op: Op) => {
      const { state: next, result } = applyOp(state, op, clock.t);
      expect(await runOp(store, op, clock)).toEqual(result);
      state = next;
    };
    // History first, with small files (sealed segments, index runs), compacted so the index covers it all.
    let store = await openStore(dir, clock);
    for (const op of makeWorkload(31, { ops: 30, keys: KEYS })) if (op.t !== 'tick') await run(store, op);
    await run(store, { t: 'compact' });
    await store.close();
    // Then a tail of every kind of record, ending with a lone put; large flushBytes keeps it unindexed.
    store = await openStore(dir, clock, { flushBytes: 1 << 20, segmentBytes: 1 << 20 });
    let version = 1000;
    const tailOps: Op[] = [
      { t: 'put', key: keys[0], version: ++version },
      { t: 'batch', ops: [{ t: 'put', key: keys[1], version: ++version }, { t: 'del', key: keys[2] }] },
      { t: 'put', key: keys[3], version: ++version, ttlMs: 60_000 },
      { t: 'del', keys: [keys[4], keys[5]] },
      { t: 'expire', key: keys[0], inMs: 90_000 },
      { t: 'update', key: keys[7], version: ++version },
      { t: 'put', key: keys[6], version: ++version },
    ];
    const boundaries: TornBase['boundaries'] = [{ end: readFileSync(activeSegmentPath(dir)).length, state }];
    for (const op of tailOps) {
      await run(store, op);
      boundaries.push({ end: readFileSync(activeSegmentPath(dir)).length, state });
    }
    await store.close();
    const img = new Map<string, Buffer>();
    for (const name of readdirSync(dir)) img.set(name, readFileSync(join(dir, name)));
    const active = basename(activeSegmentPath(dir));
    const bytes = img.get(active)!;
    const records: TornBase['records'] = [];
    const info = new RecordInfo();
    for (let pos = boundaries[0].end; pos < bytes.length; pos += info.length) {
      expect(decodeRecord(bytes, pos, bytes.length, info), `record at ${pos}`).toBe(RECORD_OK);
      records.push({ start: pos, length: info.length });
    }
    return { img, active, indexedTo: readManifestFile(dir).active.indexedTo, size: bytes.length, boundaries, records };
  });
}

/** The state a cut at `length` must show: every operation whose bytes end at or before it. */
function stateAt(length: number): State {
  let s = base.boundaries[0].state;
  for (const b of base.boundaries) if (b.end <= length) s = b.state;
  return s;
}

async function withBase<T>(fn: (dir: string, active: string) => Promise<T>): Promise<T> {
  return inScratchDir(async (dir) => {
    writeImage(dir, base.img);
    return fn(dir, join(dir, base.active));
  });
}

beforeAll(async () => {
  base = await buildBase();
  expect(base.boundaries[0].end, 'the tail starts where the index ends').toBe(base.indexedTo);
  expect(new Set(base.boundaries.map((b) => b.end)).size, 'every tail operation wrote records').toBe(base.boundaries.length);
});

describe('the active segment cut short', () => {
  it('at every length through record headers and ends, random lengths in the values: reads what is whole, the next write truncates the rest', async () => {
    // Cuts inside a value all look alike (the record runs past the end); cuts through a header or
    // next to a record boundary do not, so every one of those is tried.
    const rng = seededRandom(7);
    const lengths = new Set<number>([base.size]);
    for (const r of base.records) {
      for (let i = 0; i < r.length; i++) if (i <= 24 || i >= r.length - 3) lengths.add(r.start + i);
      for (let j = 0; j < 3; j++) lengths.add(r.start + 25 + Math.floor(rng() * (r.length - 28)));
    }
    for (const length of [...lengths].sort((a, b) => a - b)) {
      await withBase(async (dir, active) => {
        cutFile(active, length);
        await checkRecovered(dir, { ...clock }, keys, [stateAt(length)], `cut at ${length} of ${base.size}`);
      });
    }
  });

  /** Cut `into` bytes into each tail record, then pad with zeros: what a crash leaves when the file grew but a page of data never landed. */
  async function cutThenZeros(intos: number[]): Promise<void> {
    for (const r of base.records) {
      for (const into of intos.filter((i) => i < r.length)) {
        const length = r.start + into;
        for (const zeros of [1, 19, 700]) {
          await withBase(async (dir, active) => {
            cutFile(active, length);
            appendZeros(active, zeros);
            await checkRecovered(dir, { ...clock }, keys, [stateAt(length)], `cut ${into} bytes into the record at ${r.start}, then ${zeros} zero bytes`);
          });
        }
      }
    }
  }

  it('cut and padded with zeros, the torn header holding its lengths: a torn tail', async () => {
    await cutThenZeros([0, 12, 20, 25, 40]);
  });

  // The zeros make the header fail its checks (kind 0, key length 0, a commit marker without its count)
  // before its length is known, so the scan cannot see that only zeros follow the torn record: it reports
  // damage and refuses writes after a plain crash.
  it('cut and padded with zeros, the torn header missing part of its lengths: a torn tail, not damage', async () => {
    await cutThenZeros([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});

describe('a damaged byte in the tail', () => {
  /** Opens the damaged store: either it reads as if the damaged operation never happened, or writes refuse with CORRUPT naming the spot. */
  async function dropOrRefuse(dir: string, before: State, at: number, label: string): Promise<'dropped' | 'refused'> {
    const store = await openStore(dir, { ...clock });
    const err = await store.put('zz-probe', valueOf('zz-probe', 1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (err === undefined) {
      await store.close();
      await checkRecovered(dir, { ...clock }, [...keys], [new Map([...before, ['zz-probe', { version: 1, expiresAt: null }]])], label);
      return 'dropped';
    }
    expect(err, label).toBeInstanceOf(TzkvError);
    expect((err as TzkvError).code, label).toBe('CORRUPT');
    expect((err as TzkvError).offset, `${label}: the error names the damaged record`).toBe(at);
    const report = await store.verify();
    expect(report.problems.map((p) => `${p.file}@${p.offset} ${p.kind}`), label).toContain(`${base.active}@${at} corrupt-record`);
    await store.close();
    return 'refused';
  }

  it('in the last record: the record is dropped as torn, or the store refuses to write behind it', async () => {
    const last = base.boundaries[base.boundaries.length - 2];
    for (let at = last.end; at < base.size; at++) {
      await withBase(async (dir, active) => {
        flipByte(active, at);
        await dropOrRefuse(dir, last.state, last.end, `byte ${at - last.end} of the last record flipped`);
      });
    }
  });

  /** Flips each of `bytes` (offsets within the record) in the first tail record, a lone put followed by the rest of the tail. */
  async function flipInFirstRecord(bytes: (length: number) => number[], why: string): Promise<void> {
    const [start, end] = [base.boundaries[0].end, base.boundaries[1].end];
    for (const i of bytes(end - start)) {
      await withBase(async (dir, active) => {
        flipByte(active, start + i);
        const label = `byte ${i} of a record in the middle of the tail flipped`;
        const outcome = await dropOrRefuse(dir, base.boundaries[0].state, start, label);
        expect(outcome, `${label}: ${why}`).toBe('refused');
      });
    }
  }

  it('in a record followed by others: reported as damage (CORRUPT), never cut off as a torn tail', async () => {
    // Every byte but the value length field (record bytes 8-11).
    await flipInFirstRecord((n) => Array.from({ length: n }, (_, i) => i).filter((i) => i < 8 || i > 11), 'the damage was hidden');
  });

  // A flipped value length makes the record claim to run past the end of the file, which the scan takes for a
  // torn tail: the writer then truncates it and every acknowledged write after it is lost without a report.
  it('in the value length of a record followed by others: reported as damage, not truncated with every later write', async () => {
    await flipInFirstRecord(() => [8, 9, 10, 11], 'later acknowledged writes were silently cut off');
  });
});
