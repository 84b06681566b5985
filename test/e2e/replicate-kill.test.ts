// Replication between real processes (issue #6): replicate SIGKILLed at
// random moments, and replicate running while four writer processes import
// batches. The follower must be a valid store after every kill, hold one
// consistent cut at every moment (each import wholly there or wholly absent),
// and end identical to the leader.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { open } from '../../src/index.js';
import { prng, range, tzkvChild } from './fixtures/processes.js';
import { storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

async function exportOf(dir: string): Promise<string> {
  const run = await tzkv(['export', '-d', dir]);
  expect(run.exitCode, run.stderr).toBe(0);
  return run.stdout;
}

describe('replicate under SIGKILL', () => {
  test('killed at 10 random moments while the leader grows, the follower stays a valid store; a full run makes it identical', async () => {
    const dir = await storeDir();
    const seed = 20261122;
    const random = prng(seed);
    const leader = await open(dir, { segmentBytes: 4 * 1024 * 1024 });
    const load = async (round: number, n: number) => {
      const b = leader.batch();
      for (let i = 0; i < n; i++) b.put(`r${round}:k${i}`, `value ${round} ${i} `.repeat(4), i % 5 ? {} : { ttlMs: 3_600_000 });
      await b.write();
    };
    await load(0, 150_000);
    const follower = join(await tempDir(), 'follower');
    let killed = 0;
    // How long a replicate run takes here (start-up included): the kill moment
    // is drawn from it, and it shrinks to any run that finished before its kill,
    // so a fast machine still kills most runs part way.
    let span = 600;
    for (let round = 1; round <= 10; round++) {
      await load(round, 5_000 + Math.floor(random() * 20_000));
      for (let i = 0; i < 200; i += 7) await leader.del(`r0:k${round * 1000 + i}`);
      const started = Date.now();
      const child = tzkvChild(['replicate', '-d', dir, '--to', follower, '--json']);
      let finished = 0;
      void child.then(() => (finished = Date.now()));
      await new Promise((r) => setTimeout(r, Math.floor(random() * span)));
      if (!finished && child.kill('SIGKILL')) killed++;
      else span = Math.max(50, Math.floor(((finished || Date.now()) - started) * 0.9));
      await child;
      // After every kill the follower, once it has a manifest, is a valid store.
      const verify = await tzkv(['verify', '-d', follower]);
      expect([0, 5], `round ${round} (seed ${seed}): ${verify.stdout}${verify.stderr}`).toContain(verify.exitCode);
      if (verify.exitCode === 5) expect(verify.stderr).toMatch(/not a tzkv store|no tzkv store|does not exist|empty/i);
    }
    expect(killed).toBeGreaterThanOrEqual(5);
    await leader.close();
    const done = await tzkvJson<{ resynced: string[] }>(['replicate', '-d', dir, '--to', follower]);
    expect(done.run.exitCode, done.run.stderr).toBe(0);
    expect(done.json.resynced).toEqual([]);
    expect(await exportOf(follower)).toBe(await exportOf(dir));
    expect((await tzkv(['verify', '-d', follower])).exitCode).toBe(0);
  }, 240_000);
});

describe('replicate while four writers import', () => {
  test('every cut the follower shows holds each import wholly or not at all', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'seed', 'x']);
    const follower = join(await tempDir(), 'follower');
    const inputs = mkdtempSync(join(tmpdir(), 'tzkv-imports-'));
    const BATCHES = 6;
    const KEYS = 400;
    const writer = async (w: number) => {
      for (let b = 0; b < BATCHES; b++) {
        const file = join(inputs, `w${w}-b${b}.jsonl`);
        writeFileSync(file, range(KEYS).map((k) => JSON.stringify({ key: `w${w}:b${b}:k${k}`, value: `${w}/${b}/${k}` })).join('\n') + '\n');
        const run = await tzkv(['import', '-d', dir, '-', '--lock-timeout', '60s'], { inputFile: file });
        expect(run.exitCode, run.stderr).toBe(0);
      }
    };
    const cuts: string[] = [];
    let writing = true;
    const replicator = (async () => {
      while (writing) {
        const run = await tzkv(['replicate', '-d', dir, '--to', follower]);
        expect(run.exitCode, run.stderr).toBe(0);
        cuts.push(await exportOf(follower));
      }
    })();
    await Promise.all(range(4).map(writer));
    writing = false;
    await replicator;
    await tzkv(['replicate', '-d', dir, '--to', follower]);
    cuts.push(await exportOf(follower));
    expect(cuts.length).toBeGreaterThanOrEqual(3);
    let partial = 0;
    const sizes = new Set<number>();
    for (const cut of cuts) {
      const perBatch = new Map<string, number>();
      for (const line of cut.split('\n')) {
        const m = /"key":"(w\d+:b\d+):k\d+"/.exec(line);
        if (m) perBatch.set(m[1], (perBatch.get(m[1]) ?? 0) + 1);
      }
      for (const n of perBatch.values()) if (n !== KEYS) partial++;
      sizes.add(perBatch.size);
    }
    expect(partial).toBe(0);
    expect(sizes.size, 'the follower was seen at different points').toBeGreaterThan(1);
    expect(cuts.at(-1)).toBe(await exportOf(dir));
  }, 240_000);
});
