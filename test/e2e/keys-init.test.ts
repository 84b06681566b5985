// Encrypted stores at the command line (docs/cli.md "init", "keygen",
// "Encrypted stores: --key-file"): making a key and a store, giving the key by
// flag, variable or passphrase, and every way of giving none or the wrong one:
// exit 6, the store and the way to give a key named, nothing read or written.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BIN, NODE, START_PATHS, childEnv, expectNoStack, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';
import { tzkvOnTerminal } from './terminal.js';

/** `tzkv keygen > file`, as a shell runs it; the file is made first with `mode`, as an earlier file or umask would leave it. */
async function keygenInto(file: string, mode = 0o644): Promise<number> {
  writeFileSync(file, '', { mode });
  const run = await execa('sh', ['-c', `"$0" "$1" keygen > "$2"`, NODE, BIN, file], { env: childEnv(), extendEnv: false, reject: false });
  return run.exitCode ?? -1;
}

/** Every file of a store directory and its bytes. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((n) => [n, readFileSync(join(dir, n)).toString('hex')]));
}

describe('keygen', () => {
  test('writes 32 random bytes as base64 into a file it makes private (0600)', async () => {
    const dir = await tempDir();
    const a = join(dir, 'a.key');
    const b = join(dir, 'b.key');
    expect(await keygenInto(a)).toBe(0);
    expect(await keygenInto(b)).toBe(0);
    for (const file of [a, b]) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8')).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
      expect(Buffer.from(readFileSync(file, 'utf8'), 'base64')).toHaveLength(32);
    }
    expect(readFileSync(a, 'utf8')).not.toBe(readFileSync(b, 'utf8'));
  });

  test('refuses to append to a file that holds something (`>>`): exit 2, the file as it was', async () => {
    const file = join(await tempDir(), 'existing.key');
    expect(await keygenInto(file)).toBe(0);
    const before = readFileSync(file);
    const run = await execa('sh', ['-c', `"$0" "$1" keygen >> "$2"`, NODE, BIN, file], { env: childEnv(), extendEnv: false, reject: false });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('already holds 45 bytes');
    expect(readFileSync(file)).toEqual(before);
  });

  test('refuses to print a key on a terminal (exit 2), printing none', async () => {
    const screen = await tzkvOnTerminal(['keygen']);
    expect(screen.exitCode).toBe(2);
    expect(screen.text).toContain('keygen does not print a key on a terminal: redirect it to a file (tzkv keygen > store.key)');
    expect(screen.text).not.toMatch(/[A-Za-z0-9+/]{43}=/);
  });

  test('prints the key to a pipe, and as {"key"} with --json', async () => {
    const run = await tzkv(['keygen']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    const { json } = await tzkvJson<{ key: string }>(['keygen']);
    expect(Buffer.from(json.key, 'base64')).toHaveLength(32);
  });
});

describe('init', () => {
  test('makes an encrypted store with a key file, which every later command needs', async () => {
    const dir = await storeDir();
    const key = join(await tempDir(), 'store.key');
    expect(await keygenInto(key)).toBe(0);
    const { run, json } = await tzkvJson(['init', '--encrypt', '--key-file', key, '-d', dir]);
    expect(run.exitCode).toBe(0);
    expect(json).toEqual({ location: dir, formatVersion: 2, encrypted: true, compression: null });
    expect(readdirSync(dir).sort()).toEqual(['00000001.tzds', 'KEYRING', 'MANIFEST']);
    expect(statSync(dir).mode & 0o777).toBe(0o700);

    for (const { path, env } of START_PATHS) {
      const missing = await tzkv(['get', 'k', '-d', dir], { env });
      expect({ path, exit: missing.exitCode, stderr: missing.stderr }).toEqual({
        path,
        exit: 6,
        stderr: `tzkv: ${dir} is an encrypted store: give its key with --key-file PATH, TZKV_KEY_FILE or TZKV_PASSPHRASE\n`,
      });
      const { json: failure } = await tzkvJson(['keys', '-d', dir], { env });
      expect(failure).toMatchObject({ error: { code: 'KEY_REQUIRED', exitCode: 6 } });
      // With the key: the store opens (and is empty).
      for (const given of [{ args: ['--key-file', key], env }, { args: [], env: { ...env, TZKV_KEY_FILE: key } }]) {
        const keyed = await tzkv(['get', 'k', '-d', dir, ...given.args], { env: given.env });
        expect({ path, exit: keyed.exitCode, stderr: keyed.stderr }).toEqual({ path, exit: 1, stderr: 'tzkv: key not found: "k"\n' });
      }
    }
    // stats needs no key.
    const stats = await tzkvJson<{ formatVersion: number }>(['stats', '-d', dir]);
    expect(stats.json.formatVersion).toBe(2);
  });

  test('makes a store with a passphrase; a key file given too wins over it', async () => {
    const dir = await storeDir();
    const made = await tzkv(['init', '--encrypt', '--compression', 'brotli', '-d', dir], { env: { TZKV_PASSPHRASE: 'correct horse' } });
    expect(made.exitCode).toBe(0);
    expect((await tzkv(['keys', '-d', dir], { env: { TZKV_PASSPHRASE: 'correct horse' } })).exitCode).toBe(0);
    const wrong = await tzkv(['keys', '-d', dir], { env: { TZKV_PASSPHRASE: 'battery staple' } });
    expect(wrong.exitCode).toBe(6);
    expect(wrong.stderr).toBe(`tzkv: the passphrase in $TZKV_PASSPHRASE does not open ${dir}/KEYRING: wrong key\n`);
    const key = join(await tempDir(), 'k');
    writeFileSync(key, randomBytes(32));
    const both = await tzkv(['keys', '-d', dir], { env: { TZKV_PASSPHRASE: 'correct horse', TZKV_KEY_FILE: key } });
    expect(both.exitCode).toBe(6);
    expect(both.stderr).toContain(`is wrapped by a passphrase, not a key file: give it in TZKV_PASSPHRASE, with no key file given, which would win over it (the key file ${key} ($TZKV_KEY_FILE) was given: \`env -u TZKV_KEY_FILE\` drops one from the environment)`);
  });

  test('makes plain and compressed stores, version 1 and 2', async () => {
    const plain = await storeDir();
    expect((await tzkvJson(['init', '-d', plain])).json).toEqual({ location: plain, formatVersion: 1, encrypted: false, compression: null });
    expect(readFileSync(join(plain, 'MANIFEST')).readUInt16LE(4)).toBe(1);
    const compressed = await storeDir();
    expect((await tzkvJson(['init', '--compress', '-d', compressed])).json).toEqual({ location: compressed, formatVersion: 2, encrypted: false, compression: 'brotli' });
    expect(readFileSync(join(compressed, 'MANIFEST')).readUInt16LE(4)).toBe(2);
    const both = await tzkv(['init', '--compress', '--compression', 'brotli', '-d', await storeDir()]);
    expect(both.exitCode).toBe(2);
    const unknown = await tzkv(['init', '--compression', 'lz5', '-d', await storeDir()]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/Expected --compression=lz5 to be one of: deflate, brotli/);
  });

  test('refuses a directory that holds a store (exit 1) or other files (exit 5), changing nothing', async () => {
    const dir = await storeDir();
    expect((await tzkv(['put', 'k', 'v', '-d', dir])).exitCode).toBe(0);
    const before = snapshot(dir);
    for (const args of [[], ['--encrypt'], ['--compress']]) {
      const again = await tzkv(['init', ...args, '-d', dir], { env: { TZKV_PASSPHRASE: 'p' } });
      expect(again.exitCode).toBe(1);
      expect(again.stderr).toBe(`tzkv: ${dir} already holds a tzkv store: init changed nothing\n`);
    }
    expect(snapshot(dir)).toEqual(before);
    const other = await tempDir();
    writeFileSync(join(other, 'notes.txt'), 'mine');
    const foreign = await tzkv(['init', '--encrypt', '-d', other], { env: { TZKV_PASSPHRASE: 'p' } });
    expect(foreign.exitCode).toBe(5);
    expect(foreign.stderr).toMatch(/is not a tzkv store: it holds other files \(notes\.txt\)/);
    expect(readdirSync(other)).toEqual(['notes.txt']);
  });

  test('warns when --key-file is given without --encrypt (the store is plain, and says so); $TZKV_KEY_FILE alone makes a plain store quietly', async () => {
    const dir = join(await tempDir(), 'store');
    const keyFile = join(await tempDir(), 'k');
    writeFileSync(keyFile, Buffer.alloc(32, 3).toString('base64'));
    const run = await tzkv(['init', '--key-file', keyFile, '-d', dir, '--json']);
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toBe('tzkv: warning: --key-file was given without --encrypt: this store is not encrypted (`tzkv init --encrypt` makes one that is)\n');
    expect(JSON.parse(run.stdout)).toMatchObject({ encrypted: false });
    const other = join(await tempDir(), 'store');
    const quiet = await tzkv(['init', '-d', other, '--json'], { env: { TZKV_KEY_FILE: keyFile } });
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(JSON.parse(quiet.stdout)).toMatchObject({ encrypted: false });
  });

  test('refuses --encrypt without a secret (exit 6) and with a key file holding no key, creating nothing', async () => {
    const dir = await storeDir();
    const none = await tzkv(['init', '--encrypt', '-d', dir]);
    expect(none.exitCode).toBe(6);
    expect(none.stderr).toBe(`tzkv: init --encrypt needs the key that will open ${dir}: give it with --key-file PATH, TZKV_KEY_FILE or TZKV_PASSPHRASE (\`tzkv keygen > FILE\` makes a key file)\n`);
    const short = join(await tempDir(), 'short.key');
    writeFileSync(short, 'hunter2-is-my-password\n');
    const bad = await tzkv(['init', '--encrypt', '--key-file', short, '-d', dir]);
    expect(bad.exitCode).toBe(6);
    expect(bad.stderr).toBe(`tzkv: key file ${short} holds 23 bytes, not a key: a key file holds 32 bytes, or their base64 (44 characters) as \`tzkv keygen\` writes it\n`);
    expect(bad.stderr).not.toContain('hunter2');
    const missing = await tzkv(['init', '--encrypt', '--key-file', join(dir, 'nope.key'), '-d', dir]);
    expect(missing.exitCode).toBe(6);
    expect(missing.stderr).toMatch(/^tzkv: cannot read key file .*nope\.key: /);
    for (const run of [none, bad, missing]) expectNoStack(run);
    expect(existsSync(dir)).toBe(false);
  });

  test('refuses encryption and compression for etcd (exit 2)', async () => {
    for (const args of [['--encrypt'], ['--compress'], []]) {
      const run = await tzkv(['init', ...args, '-d', 'etcd://127.0.0.1:1/app'], { env: { TZKV_PASSPHRASE: 'p' } });
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toMatch(/^tzkv: init makes directory stores, not etcd:\/\/127\.0\.0\.1:1\/app: /);
    }
  });
});

describe('a wrong key', () => {
  test('is exit 6 at open, naming the key file and the store, with the store left byte for byte', async () => {
    const dir = await storeDir();
    const key = join(await tempDir(), 'right.key');
    const other = join(await tempDir(), 'other.key');
    await keygenInto(key);
    await keygenInto(other);
    expect((await tzkv(['init', '--encrypt', '--key-file', key, '-d', dir])).exitCode).toBe(0);
    const before = snapshot(dir);
    for (const { path, env } of START_PATHS) {
      for (const args of [['put', 'k', 'v'], ['get', 'k'], ['del', 'k'], ['keys'], ['incr', 'n'], ['export'], ['compact']]) {
        const run = await tzkv([...args, '-d', dir, '--key-file', other], { env });
        expect({ path, args, exit: run.exitCode, stderr: run.stderr }).toEqual({
          path,
          args,
          exit: 6,
          stderr: `tzkv: the key file ${other} (--key-file) does not open ${dir}/KEYRING: wrong key\n`,
        });
      }
    }
    expect(snapshot(dir)).toEqual(before);
    const wrongSize = join(await tempDir(), 'raw.key');
    writeFileSync(wrongSize, randomBytes(31));
    const run = await tzkv(['get', 'k', '-d', dir, '--key-file', wrongSize]);
    expect(run.exitCode).toBe(6);
    expect(run.stderr).toBe(`tzkv: key file ${wrongSize} holds 31 bytes, not a key: a key file holds 32 bytes, or their base64 (44 characters) as \`tzkv keygen\` writes it\n`);
  });

  test('is never read for a store that is not encrypted (one TZKV_KEY_FILE for many stores)', async () => {
    const dir = await storeDir();
    for (const { env } of START_PATHS) {
      const run = await tzkv(['put', 'k', 'v', '-d', dir], { env: { ...env, TZKV_KEY_FILE: join(dir, 'no-such.key') } });
      expect(run.exitCode).toBe(0);
      expect((await tzkv(['get', 'k', '-d', dir, '--key-file', '/nonexistent.key'], { env })).stdout).toBe('v');
    }
  });
});
