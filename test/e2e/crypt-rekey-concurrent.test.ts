// rekey while other processes read and write (docs/cli.md "rekey"; issue 17
// "Tests"): readers and writers keep going through several rekeys, each
// process with the secret current when it started or the one being rekeyed
// to. Every read returns the value written or fails with KEY_WRONG (exit 6,
// "wrong key") — never other bytes, never CORRUPT; every write acknowledged
// (exit 0) is there at the end, under the last secret.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ENCRYPTED_KINDS, writeKeyFile } from '../helpers/store-kinds.js';
import { prng } from './fixtures/processes.js';
import { tempDir, tzkv } from './helpers.js';
import { initKindStore } from './store-kinds.js';

const REKEYS = 3;
const READERS = 2;
const WRITERS = 2;
const STABLE = { key: 'stable', value: 'written before every rekey' };

for (const kind of ENCRYPTED_KINDS) {
  describe(`rekey of an ${kind.name} store under concurrent readers and writers`, () => {
    test(`${REKEYS} rekeys: every read is the value or KEY_WRONG, no acknowledged write lost`, async () => {
      const s = await initKindStore(kind);
      const keyDir = await tempDir();
      const keys = [s.keyFile, ...Array.from({ length: REKEYS }, (_, i) => writeKeyFile(join(keyDir, `k${i + 1}`)))];
      expect((await tzkv(['put', ...s.args, STABLE.key, STABLE.value])).exitCode).toBe(0);
      /** The index in `keys` of the secret that opens the store; during a rekey the next one may already. */
      let current = 0;
      let rekeying = false;
      const random = prng(20261206);
      /** The secret a process starting now uses: the current one, or the one being rekeyed to. */
      const secretNow = () => keys[rekeying && random() < 0.5 ? current + 1 : current];
      const problems: string[] = [];
      const acknowledged = new Map<string, string>();
      const tally = { reads: 0, readsRefused: 0, writes: 0, writesRefused: 0 };
      let done = false;

      const reader = async (r: number) => {
        while (!done) {
          const key = secretNow();
          // A write acknowledged before this read started (or the stable key): it must read back exactly.
          const written = [...acknowledged];
          const [k, v] = written.length > 0 && random() < 0.7 ? written[Math.floor(random() * written.length)] : [STABLE.key, STABLE.value];
          const run = await tzkv(['get', '-d', s.dir, '--key-file', key, k], { timeout: 60_000 });
          if (run.exitCode === 0 && run.stdout === v) tally.reads++;
          else if (run.exitCode === 6 && run.stdout === '' && /wrong key/.test(run.stderr)) tally.readsRefused++;
          else problems.push(`reader ${r} of ${k} with ${key}: exit ${run.exitCode}, stdout ${JSON.stringify(run.stdout.slice(0, 80))}, ${run.stderr.trim()}`);
        }
      };
      const writer = async (w: number) => {
        for (let i = 0; !done; i++) {
          const key = secretNow();
          const [k, v] = [`w${w}-${i}`, `value ${i} of writer ${w}`];
          const run = await tzkv(['put', '-d', s.dir, '--key-file', key, k, v], { timeout: 60_000 });
          if (run.exitCode === 0) {
            acknowledged.set(k, v);
            tally.writes++;
          } else if (run.exitCode === 6 && /wrong key/.test(run.stderr)) tally.writesRefused++;
          else problems.push(`writer ${w} with ${key}: exit ${run.exitCode}, ${run.stderr.trim()}`);
        }
      };
      const rekeyer = async () => {
        for (let n = 0; n < REKEYS; n++) {
          await new Promise((r) => setTimeout(r, 300));
          rekeying = true;
          const run = await tzkv(['rekey', '-d', s.dir, '--key-file', keys[current], '--new-key-file', keys[current + 1]], { timeout: 60_000 });
          expect(run.exitCode, `rekey ${n + 1}: ${run.stderr}`).toBe(0);
          current++;
          rekeying = false;
        }
        await new Promise((r) => setTimeout(r, 300));
        done = true;
      };
      await Promise.all([rekeyer(), ...Array.from({ length: READERS }, (_, r) => reader(r)), ...Array.from({ length: WRITERS }, (_, w) => writer(w))]);

      expect(problems, JSON.stringify(tally)).toEqual([]);
      // The race was run: reads and writes succeeded, and some met a secret that no longer (or not yet) opened the store.
      expect(tally.reads, JSON.stringify(tally)).toBeGreaterThan(0);
      expect(tally.writes, JSON.stringify(tally)).toBeGreaterThan(0);
      expect(tally.readsRefused + tally.writesRefused, JSON.stringify(tally)).toBeGreaterThan(0);
      // Every acknowledged write is there under the last secret, and only it opens the store.
      const listed = await tzkv(['export', '-d', s.dir, '--key-file', keys[REKEYS], '--format', 'tsv']);
      expect(listed.exitCode, listed.stderr).toBe(0);
      const stored = new Map(listed.stdout.split('\n').filter(Boolean).map((line) => line.split('\t') as [string, string]));
      for (const [k, v] of acknowledged) expect(stored.get(k), k).toBe(v);
      expect(stored.get(STABLE.key)).toBe(STABLE.value);
      for (const stale of keys.slice(0, REKEYS)) expect((await tzkv(['get', '-d', s.dir, '--key-file', stale, STABLE.key])).exitCode).toBe(6);
    }, 180_000);
  });
}
