// tzkv rekey (docs/cli.md "rekey"): the store's secret changes in O(1), only
// KEYRING replaced; killed at random moments, the store opens with the old
// secret or the new one, never neither.
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { open } from '../../src/index.js';
import type { Secret } from '../../src/index.js';
import { prng, tzkvChild } from './fixtures/processes.js';
import { storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

/** A writer's lock file before it is linked into place (src/engine/files/file-kinds.ts LOCK_ASIDE). */
const LOCK_TEMP = /^LOCK\.[0-9a-f]+\.tmp$/;

/** A new key file in a temporary directory. */
async function keyFile(name: string): Promise<string> {
  const path = join(await tempDir(), name);
  writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  return path;
}

/** Whether `secret` opens the store (the KEYRING check at open). */
async function opensWith(dir: string, secret: Secret): Promise<boolean> {
  try {
    await (await open(dir, { readOnly: true, secret })).close();
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'KEY_WRONG') return false;
    throw err;
  }
}

describe('rekey', () => {
  test('wraps the data keys under the new secret: only it opens the store, the data files untouched', async () => {
    const dir = await storeDir();
    const oldKey = await keyFile('old.key');
    const newKey = await keyFile('new.key');
    expect((await tzkv(['init', '--encrypt', '--key-file', oldKey, '-d', dir])).exitCode).toBe(0);
    const data = () => Object.fromEntries(readdirSync(dir).filter((n) => n !== 'KEYRING').map((n) => [n, readFileSync(join(dir, n)).toString('hex')]));
    const before = data();
    const { run, json } = await tzkvJson(['rekey', '-d', dir, '--key-file', oldKey, '--new-key-file', newKey]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(json).toEqual({ rekeyed: true, location: dir });
    expect(data()).toEqual(before);
    expect(await opensWith(dir, { keyFile: oldKey })).toBe(false);
    expect(await opensWith(dir, { keyFile: newKey })).toBe(true);
    const stale = await tzkv(['keys', '-d', dir, '--key-file', oldKey]);
    expect(stale.exitCode).toBe(6);
    expect((await tzkv(['keys', '-d', dir, '--key-file', newKey])).exitCode).toBe(0);

    // To a passphrase and back to a key file, by the variables.
    expect((await tzkv(['rekey', '-d', dir], { env: { TZKV_KEY_FILE: newKey, TZKV_NEW_PASSPHRASE: 'long passphrase' } })).exitCode).toBe(0);
    expect(await opensWith(dir, { passphrase: 'long passphrase' })).toBe(true);
    expect((await tzkv(['rekey', '-d', dir], { env: { TZKV_PASSPHRASE: 'long passphrase', TZKV_NEW_KEY_FILE: oldKey } })).exitCode).toBe(0);
    expect(await opensWith(dir, { keyFile: oldKey })).toBe(true);
  });

  test('refuses a wrong current secret, no new one, a bad new key file and a plain store, changing nothing', async () => {
    const dir = await storeDir();
    const key = await keyFile('k');
    const other = await keyFile('other');
    expect((await tzkv(['init', '--encrypt', '--key-file', key, '-d', dir])).exitCode).toBe(0);
    const keyring = readFileSync(join(dir, 'KEYRING'));
    const wrong = await tzkv(['rekey', '-d', dir, '--key-file', other, '--new-key-file', other]);
    expect(wrong.exitCode).toBe(6);
    expect(wrong.stderr).toContain('does not open');
    const none = await tzkv(['rekey', '-d', dir, '--key-file', key]);
    expect(none.exitCode).toBe(6);
    expect(none.stderr).toBe(`tzkv: rekey needs the new secret for ${dir}: give it with --new-key-file PATH, TZKV_NEW_KEY_FILE or TZKV_NEW_PASSPHRASE\n`);
    const short = join(await tempDir(), 'short');
    writeFileSync(short, 'abc');
    const bad = await tzkv(['rekey', '-d', dir, '--key-file', key, '--new-key-file', short]);
    expect(bad.exitCode).toBe(6);
    expect(bad.stderr).toMatch(/key file .*short holds 3 bytes, not a key/);
    const noCurrent = await tzkv(['rekey', '-d', dir, '--new-key-file', other]);
    expect(noCurrent.exitCode).toBe(6);
    expect(noCurrent.stderr).toMatch(/is an encrypted store: give its key with --key-file PATH/);
    expect(readFileSync(join(dir, 'KEYRING'))).toEqual(keyring);

    const plain = await storeDir();
    expect((await tzkv(['put', 'k', 'v', '-d', plain])).exitCode).toBe(0);
    const refused = await tzkv(['rekey', '-d', plain, '--new-key-file', other]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toBe(`tzkv: store ${plain} is not encrypted: rekey changes the secret of an encrypted store\n`);
  });

  test('rekey and compact --new-data-key refuse a store that is not encrypted alike: exit 2 naming it, --json too, nothing changed', async () => {
    const plain = await storeDir();
    expect((await tzkv(['put', 'k', 'v', '-d', plain])).exitCode).toBe(0);
    const files = () => new Map(readdirSync(plain).sort().map((n) => [n, readFileSync(join(plain, n))]));
    const before = files();
    const other = await keyFile('other');
    for (const args of [['rekey', '--new-key-file', other], ['compact', '--new-data-key'], ['rekey', '--new-key-file', other, '--json'], ['compact', '--new-data-key', '--json']]) {
      const run = await tzkv([...args, '-d', plain]);
      expect(run.exitCode, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(new RegExp(`^tzkv: store ${plain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not encrypted: \\S+`));
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    expect(files()).toEqual(before);
  });

  test('SIGKILLed at 20 random moments: the store opens with the old secret or the new one, never neither', async () => {
    const dir = await storeDir();
    const keys = [await keyFile('a'), await keyFile('b')];
    expect((await tzkv(['init', '--encrypt', '--key-file', keys[0], '-d', dir])).exitCode).toBe(0);
    const seed = 20261206;
    const random = prng(seed);
    let current = 0;
    let killed = 0;
    let span = 500;
    for (let round = 1; round <= 20; round++) {
      const next = 1 - current;
      const started = Date.now();
      const child = tzkvChild(['rekey', '-d', dir, '--key-file', keys[current], '--new-key-file', keys[next]]);
      let finished = 0;
      void child.then(() => (finished = Date.now()));
      await new Promise((r) => setTimeout(r, Math.floor(random() * span)));
      if (!finished && child.kill('SIGKILL')) killed++;
      else span = Math.max(50, Math.floor(((finished || Date.now()) - started) * 1.1));
      const result = await child;
      const opens = [await opensWith(dir, { keyFile: keys[0] }), await opensWith(dir, { keyFile: keys[1] })];
      expect(opens.filter(Boolean), `round ${round} (seed ${seed}, exit ${result.exitCode}): exactly one key opens the store`).toHaveLength(1);
      if (result.exitCode === 0) expect(opens[next], `round ${round}: a rekey that finished`).toBe(true);
      current = opens[0] ? 0 : 1;
      // A killed rekey leaves at most its KEYRING.tmp and, killed while taking the writer lock, its LOCK.<random>.tmp;
      // the next writer removes both (checked after the last round).
      expect(readdirSync(dir).filter((n) => !['00000001.tzds', 'KEYRING', 'MANIFEST', 'KEYRING.tmp', 'LOCK'].includes(n) && !LOCK_TEMP.test(n))).toEqual([]);
    }
    expect(killed).toBeGreaterThanOrEqual(5);
    const last = await tzkv(['keys', '-d', dir, '--key-file', keys[current]]);
    expect(last.exitCode, last.stderr).toBe(0);
    expect((await tzkv(['put', 'after', 'rekeys', '-d', dir, '--key-file', keys[current]])).exitCode).toBe(0);
    expect(readdirSync(dir).filter((n) => n === 'KEYRING.tmp' || LOCK_TEMP.test(n))).toEqual([]);
  });
});
