// Compaction between real processes (issue #5): `tzkv compact` SIGKILLed at
// random moments while writer processes put, and a put made while a long
// compaction runs. After every kill the store opens and verifies clean, and
// in the end every acknowledged key reads back exactly.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { open } from '../../dist/index.js';
import { checkValue, keyOf } from './fixtures/values.mjs';
import { finish, fixture, prng, range, timed, tzkvChild } from './fixtures/processes.js';
import { type Run, storeDir, tzkv, tzkvJson } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const baseKey = (i: number) => `base:${String(i).padStart(7, '0')}`;
const baseValue = (i: number, round: number) => `${round}:${i}:`.padEnd(90, 'v');

/** N keys, then every other one overwritten and every tenth deleted: about half the bytes are dead. */
async function loadStore(dir: string, n: number): Promise<void> {
  const store = await open(dir, { segmentBytes: 8 * 1024 * 1024 });
  for (const round of [0, 1]) {
    const b = store.batch();
    for (let i = round; i < n; i += round + 1) b.put(baseKey(i), baseValue(i, round));
    if (round === 1) for (let i = 0; i < n; i += 10) b.del(baseKey(i));
    await b.write();
  }
  await store.close();
}

/** Every base key as loadStore left it, read back exactly. */
async function expectBase(dir: string, n: number): Promise<void> {
  const store = await open(dir, { readOnly: true });
  let seen = 0;
  try {
    for await (const e of store.entries({ prefix: 'base:' })) {
      const i = Number(e.key.toString().slice(5));
      expect(i % 10, `${e.key} was deleted`).not.toBe(0);
      expect(e.value.toString()).toBe(baseValue(i, i % 2));
      seen++;
    }
  } finally {
    await store.close();
  }
  expect(seen).toBe(n - Math.ceil(n / 10));
}

describe('tzkv compact under SIGKILL', () => {
  test('killed at random moments while writers put: the store verifies after every kill and keeps every acknowledged key', async () => {
    const dir = await storeDir();
    const N = 150_000;
    await loadStore(dir, N);
    const WRITERS = 2;
    const PUTS = 300;
    const writers = range(WRITERS).map((w) => fixture('writer.mjs', [dir, `w${w}:`, String(PUTS)]));
    const seed = 20261129;
    const random = prng(seed);
    // How long a compaction takes here, start-up included: kill moments are drawn from it, and it
    // shrinks to any run that finished before its kill, so a fast machine still kills most part way.
    let span = 2500;
    let killed = 0;
    for (let round = 1; round <= 8; round++) {
      const started = Date.now();
      const child = tzkvChild(['compact', '-d', dir, '--json', '--lock-timeout', '30s']);
      let finished = 0;
      void child.then(() => (finished = Date.now()));
      await sleep(Math.floor(random() * span));
      if (!finished && child.kill('SIGKILL')) killed++;
      else span = Math.max(100, Math.floor(((finished || Date.now()) - started) * 0.9));
      const r = await child;
      if (!r.isTerminated) expect(r.exitCode, `round ${round}: ${String(r.stderr)}`).toBe(0);
      const verify = await tzkv(['verify', '-d', dir]);
      expect(verify.exitCode, `round ${round} (seed ${seed}): ${verify.stdout} ${verify.stderr}`).toBe(0);
    }
    expect(killed, 'compactions killed part way').toBeGreaterThanOrEqual(4);
    for (const w of writers) {
      const done = await finish(w);
      expect(done.exitCode, done.stderr).toBe(0);
    }
    // The next compaction runs to the end and removes what the killed ones left.
    const last = await tzkvJson<{ compacted: boolean; lockHeldMs: number }>(['compact', '-d', dir]);
    expect(last.run.exitCode, last.run.stderr).toBe(0);
    expect(last.json.compacted).toBe(true);
    expect(readdirSync(dir).filter((n) => n.startsWith('compact-') || n.endsWith('.tmp'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(dir, 'MANIFEST')).subarray(16).toString()) as { compaction?: unknown };
    expect(manifest.compaction).toBeUndefined();
    await expectBase(dir, N);
    const store = await open(dir, { readOnly: true });
    try {
      for (let w = 0; w < WRITERS; w++) {
        for (let i = 0; i < PUTS; i++) {
          const key = keyOf(`w${w}:`, i);
          const value = await store.get(key);
          expect(value, key).toBeDefined();
          expect(checkValue(key, value!)).toBeUndefined();
        }
      }
    } finally {
      await store.close();
    }
  }, 240_000);
});

describe('writers during a long compaction', () => {
  test('a put waits for the lock a few milliseconds, not for the compaction', async () => {
    const dir = await storeDir();
    const N = 400_000;
    await loadStore(dir, N);
    const compact = tzkvChild(['compact', '-d', dir, '--json']);
    let done = false;
    void compact.then(() => (done = true));
    // Wait for its rewrite: the marker shows in stats and the snapshot's lock is released.
    for (;;) {
      const s = await tzkvJson<{ compacting: { pid: number } | null; lockHolder: unknown }>(['stats', '-d', dir]);
      if (s.json.compacting && s.json.lockHolder === null) break;
      expect(done, 'the compaction ended before the test saw it rewrite').toBe(false);
      await sleep(10);
    }
    // Then hold it there, as a slow disk or a busy machine would, so that
    // what follows happens during its rewrite however fast this machine is.
    expect(compact.kill('SIGSTOP')).toBe(true);
    const puts: Array<{ ms: number; value: Run }> = [];
    let second: Run | undefined;
    let ifNeeded: { run: Run; json: { skipped?: boolean; reason?: string } } | undefined;
    let statsText: Run | undefined;
    try {
      const frozen = await tzkvJson<{ compacting: { pid: number } | null; lockHolder: unknown }>(['stats', '-d', dir]);
      expect(frozen.json.lockHolder, 'stopped in its rewrite, which holds no lock').toBeNull();
      // Meanwhile a second compaction fails with exit 3 naming the first; --if-needed skips; stats shows it.
      second = await tzkv(['compact', '-d', dir]);
      ifNeeded = await tzkvJson<{ skipped?: boolean; reason?: string }>(['compact', '-d', dir, '--if-needed', '--min-dead-bytes', '0']);
      statsText = await tzkv(['stats', '-d', dir]);
      for (let i = 0; i < 3; i++) {
        puts.push(await timed(() => tzkv(['put', '-d', dir, `during:${i}`, `value ${i}`, '--lock-timeout', '5s'])));
      }
    } finally {
      compact.kill('SIGCONT');
    }
    const result = await finish(compact);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { lockHeldMs: number; durationMs: number };
    for (const p of puts) expect(p.value.exitCode, p.value.stderr).toBe(0);
    // Each put is a whole process (start-up ~0.1-0.5 s here), and none waited for the compaction.
    expect(Math.max(...puts.map((p) => p.ms))).toBeLessThan(3000);
    expect(report.lockHeldMs).toBeLessThan(report.durationMs / 4);
    expect(second?.exitCode, second?.stderr).toBe(3);
    expect(second?.stderr).toMatch(/being compacted by pid \d+/);
    expect(ifNeeded?.run.exitCode).toBe(0);
    expect(ifNeeded?.json).toMatchObject({ skipped: true, reason: expect.stringMatching(/already running/) });
    expect(statsText?.stdout).toMatch(/^compacting: pid \d+ on .+ since /m);
    for (let i = 0; i < puts.length; i++) expect((await tzkv(['get', '-d', dir, `during:${i}`])).stdout).toBe(`value ${i}`);
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
    await expectBase(dir, N);
  }, 120_000);
});
