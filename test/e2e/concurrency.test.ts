// Many processes, one store (issue #4): concurrent writers lose nothing,
// readers running at the same time only ever see whole values and a store that
// grows, and `incr` under the writer lock never loses an update. Every process
// here is real; the heavy variants go through small Node scripts that use the
// embedded API (fixtures/), the lighter ones through `tzkv` itself.
//
// Sized for 2 cores: 12 Node processes at once are the most this file starts.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { open } from '../../dist/index.js';
import { storeDir, tempDir, tzkv } from './helpers.js';
import { finish, fixture, range, tzkvChild } from './fixtures/processes.js';
import { checkValue, keyOf, makeValue } from './fixtures/values.mjs';

interface ReaderReport {
  gets: number;
  hits: number;
  listings: number;
  values: number;
  final: Record<string, number>;
  errors: string[];
}

/** Runs readers (fixtures/reader.mjs) while `work` runs; returns their reports once work is done. */
async function whileReading(dir: string, readers: number, specs: string[], work: () => Promise<void>): Promise<ReaderReport[]> {
  const stop = join(await tempDir(), 'stop');
  const running = range(readers).map(() => fixture('reader.mjs', [dir, stop, ...specs], { READER_PAUSE_MS: '10' }));
  try {
    await work();
  } finally {
    await writeFile(stop, '');
  }
  const done = await Promise.all(running.map(finish));
  return done.map((r) => {
    expect(r.stderr, 'reader stderr').toBe('');
    expect(r.exitCode, 'reader exit code').toBe(0);
    return JSON.parse(r.stdout) as ReaderReport;
  });
}

/** Every key of every writer is present with its whole value (one read-only open, in this process). */
async function expectAllKeys(dir: string, prefixes: string[], count: number): Promise<void> {
  const store = await open(dir, { readOnly: true });
  try {
    for (const prefix of prefixes) {
      const found: string[] = [];
      for await (const { key, value } of store.entries({ prefix })) {
        const k = key.toString('utf8');
        expect(checkValue(k, value), k).toBeUndefined();
        found.push(k);
      }
      expect(found).toEqual(range(count).map((i) => keyOf(prefix, i)));
    }
  } finally {
    await store.close();
  }
}

describe('concurrent writers and readers', () => {
  test('8 writer processes × 200 puts with 4 readers reading all along: every key present, every value read whole', async () => {
    const dir = await storeDir();
    expect((await tzkv(['put', '-d', dir, 'init', 'x'])).exitCode).toBe(0);
    const prefixes = range(8).map((w) => `w${w}:`);
    const reports = await whileReading(
      dir,
      4,
      prefixes.map((p) => `${p}=200`),
      async () => {
        const writers = await Promise.all(prefixes.map((p) => finish(fixture('writer.mjs', [dir, p, '200']))));
        for (const w of writers) {
          expect(w.stderr).toBe('');
          expect(w.exitCode).toBe(0);
        }
      },
    );
    for (const r of reports) {
      expect(r.errors).toEqual([]);
      // Readers really ran alongside the writers: several listings, and gets that found keys.
      expect(r.listings).toBeGreaterThan(2);
      expect(r.hits).toBeGreaterThan(0);
      expect(r.final).toEqual(Object.fromEntries(prefixes.map((p) => [p, 200])));
    }
    await expectAllKeys(dir, prefixes, 200);
    const verify = await tzkv(['verify', '-d', dir]);
    expect(verify.exitCode, verify.stdout).toBe(0);
   }, 120_000); // ~15 s on 2 idle cores; generous for a loaded machine

  test('4 × 25 `tzkv put` processes with readers (the API and `tzkv export`) at the same time', async () => {
    const dir = await storeDir();
    expect((await tzkv(['put', '-d', dir, 'init', 'x'])).exitCode).toBe(0);
    const prefixes = range(4).map((w) => `c${w}:`);
    const exportErrors: string[] = [];
    let exports = 0;
    let writing = true;
    // A `tzkv export` loop: every value whole, each writer's keys 0…m-1 and m never shrinking.
    const exporter = (async () => {
      const seen = new Map(prefixes.map((p) => [p, 0]));
      while (writing) {
        const run = await tzkv(['export', '-d', dir]);
        exports++;
        if (run.exitCode !== 0) exportErrors.push(`export exit ${run.exitCode}: ${run.stderr}`);
        const found = new Map(prefixes.map((p) => [p, [] as number[]]));
        for (const line of run.stdout.split('\n').filter(Boolean)) {
          const { key, value } = JSON.parse(line) as { key: string; value: string };
          const p = prefixes.find((x) => key.startsWith(x));
          if (!p) continue;
          const bad = checkValue(key, value);
          if (bad) exportErrors.push(bad);
          found.get(p)!.push(Number(key.slice(p.length)));
        }
        for (const p of prefixes) {
          const idx = found.get(p)!;
          if (idx.some((v, j) => v !== j)) exportErrors.push(`export: keys of ${p} have a gap: ${idx.join(',')}`);
          if (idx.length < seen.get(p)!) exportErrors.push(`export: ${idx.length} keys of ${p} after ${seen.get(p)}`);
          seen.set(p, idx.length);
        }
      }
    })();
    const reports = await whileReading(
      dir,
      1,
      prefixes.map((p) => `${p}=25`),
      async () => {
        try {
          await Promise.all(
            prefixes.map(async (p) => {
              for (let i = 0; i < 25; i++) {
                const key = keyOf(p, i);
                const run = await finish(tzkvChild(['put', '-d', dir, key, makeValue(key, i)]));
                expect(run.stderr, key).toBe('');
                expect(run.exitCode, key).toBe(0);
              }
            }),
          );
        } finally {
          writing = false;
          await exporter;
        }
      },
    );
    expect(exportErrors).toEqual([]);
    expect(exports).toBeGreaterThan(1);
    for (const r of reports) {
      expect(r.errors).toEqual([]);
      expect(r.final).toEqual(Object.fromEntries(prefixes.map((p) => [p, 25])));
    }
    await expectAllKeys(dir, prefixes, 25);
    expect((await tzkv(['verify', '-d', dir])).exitCode).toBe(0);
   }, 120_000);
});

describe('incr: no lost updates', () => {
  test('8 processes × 100 store.update increments end at exactly 800, each value produced once', async () => {
    const dir = await storeDir();
    const runs = await Promise.all(range(8).map(() => finish(fixture('incr.mjs', [dir, 'counter', '100']))));
    const produced: number[] = [];
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      produced.push(...(JSON.parse(r.stdout) as number[]));
    }
    // Each increment saw the one before it: the values produced are 1…800, each exactly once.
    expect(produced.sort((a, b) => a - b)).toEqual(range(800).map((i) => i + 1));
    expect((await tzkv(['get', '-d', dir, 'counter'])).stdout).toBe('800');
  });

  test('4 × 10 `tzkv incr counter` processes at once end at exactly 40', async () => {
    const dir = await storeDir();
    const printed: number[] = [];
    await Promise.all(
      range(4).map(async (p) => {
        for (let i = 0; i < 10; i++) {
          // Half the processes ask for --json: {"key", "value"} with value a number.
          const json = p % 2 === 1;
          const run = await finish(tzkvChild(['incr', '-d', dir, 'counter', ...(json ? ['--json'] : [])]));
          expect(run.stderr).toBe('');
          expect(run.exitCode).toBe(0);
          if (json) {
            const out = JSON.parse(run.stdout) as { key: string; value: number };
            expect(out.key).toBe('counter');
            expect(typeof out.value).toBe('number');
            printed.push(out.value);
          } else {
            expect(run.stdout).toMatch(/^[0-9]+\n$/);
            printed.push(Number(run.stdout));
          }
        }
      }),
    );
    expect(printed.sort((a, b) => a - b)).toEqual(range(40).map((i) => i + 1));
    expect((await tzkv(['get', '-d', dir, 'counter'])).stdout).toBe('40');
    // Concurrent increments by a negative BY, with a concurrent refusal that changes nothing.
    expect((await tzkv(['put', '-d', dir, 'text', '12a'])).exitCode).toBe(0);
    const [down, refused] = await Promise.all([
      Promise.all(range(4).map(() => tzkv(['incr', '-d', dir, 'counter', '--', '-10']))),
      tzkv(['incr', '-d', dir, 'text']),
    ]);
    expect(down.map((r) => r.exitCode)).toEqual([0, 0, 0, 0]);
    expect(refused.exitCode).toBe(1);
    expect((await tzkv(['get', '-d', dir, 'counter'])).stdout).toBe('0');
    expect((await tzkv(['get', '-d', dir, 'text'])).stdout).toBe('12a');
  });
});
