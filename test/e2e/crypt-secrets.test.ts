// Every command that reads or writes an encrypted store's keys or values,
// without its secret or with a wrong one (docs/cli.md "Encrypted stores:
// --key-file", README "Exit codes"): exit 6, one `tzkv:` line naming the store
// and how to give the key, no stack, and not one byte of the store directory
// changed. verify, stats and replicate need no secret and succeed without it
// (a wrong one they refuse, as every command does).
// On both start paths for the commands the fast path takes.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ENCRYPTED_KINDS, writeKeyFile } from '../helpers/store-kinds.js';
import { START_PATHS, expectNoStack, storeDir, tempDir, tzkv } from './helpers.js';
import type { RunOptions } from './helpers.js';
import { initKindStore } from './store-kinds.js';

/** Every file under the store directory and its bytes. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => [join(e.parentPath, e.name), readFileSync(join(e.parentPath, e.name)).toString('base64')]),
  );
}

interface Row {
  /** The command line after `tzkv`, without -d and the secret. */
  args: string[];
  input?: string;
  /** The fast path takes it (it also runs with TZKV_NO_FAST_PATH). */
  fast?: boolean;
}

/** The commands that need the secret: each refuses without it, changing nothing. */
const NEEDS_KEY: Row[] = [
  { args: ['get', 'k1'], fast: true },
  { args: ['put', 'k9', 'v9'], fast: true },
  { args: ['del', 'k1'], fast: true },
  { args: ['keys'], fast: true },
  { args: ['incr', 'n'], fast: true },
  { args: ['ttl', 'k1'], fast: true },
  { args: ['ttl', 'k1', '1h'], fast: true },
  { args: ['export'] },
  { args: ['import', '--format', 'tsv', '-'], input: 'k8\tv8\n' },
  { args: ['batch', '-'], input: 'put k7 v7\n', fast: true },
  { args: ['watch', 'k1', '--timeout', '1s'] },
  { args: ['compact'] },
  { args: ['verify', '--repair'] },
  { args: ['serve', '--port', '0', '--http-port', '0'] },
];

/** The ways of giving no secret or the wrong one, and what the message must name besides the store. */
const WRONG_SECRETS = [
  { name: 'no secret', code: 'KEY_REQUIRED', secret: (_wrongKey: string) => ({ args: [] as string[], env: {} }), names: ['--key-file PATH', 'TZKV_KEY_FILE', 'TZKV_PASSPHRASE'] },
  { name: 'a wrong --key-file', code: 'KEY_WRONG', secret: (wrongKey: string) => ({ args: ['--key-file', wrongKey], env: {} }), names: ['--key-file', 'wrong key'] },
  { name: 'a wrong TZKV_KEY_FILE', code: 'KEY_WRONG', secret: (wrongKey: string) => ({ args: [], env: { TZKV_KEY_FILE: wrongKey } }), names: ['TZKV_KEY_FILE', 'wrong key'] },
  { name: 'a wrong TZKV_PASSPHRASE', code: 'KEY_WRONG', secret: () => ({ args: [], env: { TZKV_PASSPHRASE: 'not the key' } }), names: ['passphrase'] },
];

for (const kind of ENCRYPTED_KINDS) {
  describe(`an ${kind.name} store`, () => {
    test('every command that reads or writes keys or values: exit 6 without the secret or with a wrong one, naming the store and the way to give it, nothing written', async () => {
      const s = await initKindStore(kind);
      for (const [k, v] of [['k1', 'v1'], ['k2', 'v2'], ['n', '5']]) expect((await tzkv(['put', ...s.args, k, v])).exitCode).toBe(0);
      const wrongKey = writeKeyFile(join(await tempDir(), 'other.key'));
      const failures: string[] = [];
      for (const row of NEEDS_KEY) {
        // A wrong secret fails at KEYRING, whatever the store holds: the both-kinds store is asked without one only.
        for (const wrong of kind.compression === undefined ? WRONG_SECRETS : WRONG_SECRETS.slice(0, 1)) {
          for (const { path, env } of row.fast ? START_PATHS : START_PATHS.slice(1)) {
            const given = wrong.secret(wrongKey);
            const options: RunOptions = { env: { ...env, ...given.env }, input: row.input, timeout: 10_000 };
            const line = `tzkv ${row.args.join(' ')} with ${wrong.name} (${path})`;
            const before = snapshot(s.dir);
            const run = await tzkv([...row.args, '-d', s.dir, ...given.args], options);
            if (run.exitCode !== 6) failures.push(`${line}: exit ${run.exitCode}, ${run.stderr.trim() || run.stdout.trim()}`);
            else {
              expect(run.stderr, line).toMatch(/^tzkv: [^\n]*\n$/);
              expect(run.stderr, line).toContain(s.dir);
              for (const name of wrong.names) expect(run.stderr, line).toContain(name);
              expect(run.stdout, line).toBe('');
              expectNoStack(run);
            }
            const after = snapshot(s.dir);
            const changed = Object.keys({ ...before, ...after }).filter((f) => before[f] !== after[f]);
            if (changed.length > 0) failures.push(`${line}: changed ${changed.join(', ')}`);
            if (row.args[0] === 'get' && path === 'oclif') {
              const json = await tzkv([...row.args, '-d', s.dir, ...given.args, '--json'], options);
              expect(JSON.parse(json.stdout), line).toMatchObject({ error: { code: wrong.code, exitCode: 6 } });
            }
          }
        }
      }
      expect(failures).toEqual([]);
      // The secret opens it still, and nothing was lost.
      expect(await tzkv(['get', ...s.args, 'k1'])).toMatchObject({ exitCode: 0, stdout: 'v1' });
    }, 180_000);

    test('verify, stats and replicate need no secret: they succeed without one; a wrong one is refused (exit 6), as by every command', async () => {
      const s = await initKindStore(kind);
      for (const [k, v] of [['k1', 'v1'], ['k2', 'v2']]) expect((await tzkv(['put', ...s.args, k, v])).exitCode).toBe(0);
      expect((await tzkv(['compact', ...s.args])).exitCode).toBe(0);
      const verify = await tzkv(['verify', '-d', s.dir]);
      expect(verify.exitCode, verify.stderr).toBe(0);
      const stats = await tzkv(['stats', '-d', s.dir, '--json']);
      expect(stats.exitCode, stats.stderr).toBe(0);
      expect(JSON.parse(stats.stdout)).toMatchObject({ keys: 2 });
      const follower = await storeDir();
      const replicate = await tzkv(['replicate', '-d', s.dir, '--to', follower]);
      expect(replicate.exitCode, replicate.stderr).toBe(0);
      // The follower is the same encrypted store: the leader's secret reads it.
      expect(await tzkv(['get', '-d', follower, '--key-file', s.keyFile, 'k2'])).toMatchObject({ exitCode: 0, stdout: 'v2' });

      // A wrong secret is told at open (docs/cli.md "a wrong secret"), never taken for none: verify with it would
      // otherwise report the tags unchecked to someone who gave a key to have them checked.
      const wrongKey = writeKeyFile(join(await tempDir(), 'other.key'));
      const before = snapshot(s.dir);
      const elsewhere = await storeDir();
      for (const args of [['verify'], ['stats', '--json'], ['replicate', '--to', elsewhere]]) {
        const run = await tzkv([args[0], '-d', s.dir, '--key-file', wrongKey, ...args.slice(1)]);
        expect(run.exitCode, `${args[0]}: ${run.stderr}`).toBe(6);
        expect(run.stderr, args[0]).toContain('wrong key');
      }
      expect(snapshot(s.dir), 'the store unchanged').toEqual(before);
      expect(existsSync(elsewhere) ? readdirSync(elsewhere) : [], 'nothing replicated').toEqual([]);
    }, 60_000);
  });
}
