// init() and the secret at open (docs/cli.md "init", "--key-file"): what an
// encrypted or compressed store is made of, KEY_WRONG at open before anything
// is read or written, KEY_REQUIRED for keys and values (not for stats), and a
// secret given to a plain store accepted and never read.
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { init } from '../../src/open.js';
import { open } from '../../src/local/local-store.js';
import { decodeManifest } from '../../src/format/manifest.js';
import { fileVersion } from '../../src/format/file-header.js';
import { skipVerify, tempDir } from '../helpers/temp-store.js';

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code: string; message: string };
    return { code: e.code, message: e.message };
  }
  throw new Error('expected a failure');
}

/** Every file of a directory and its bytes, to show that nothing changed. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((n) => [n, readFileSync(join(dir, n)).toString('hex')]));
}

describe('init', () => {
  it('makes a plain store as version 1, byte for byte what a first write makes', async () => {
    const dir = join(tempDir(), 'plain');
    expect(await init(dir)).toEqual({ location: dir, formatVersion: 1, encrypted: false, compression: null });
    expect(readdirSync(dir).sort()).toEqual(['00000001.tzds', 'MANIFEST']);
    expect(readFileSync(join(dir, 'MANIFEST')).readUInt16LE(4)).toBe(1);
    expect(fileVersion(readFileSync(join(dir, '00000001.tzds')))).toEqual({ version: 1, keyId: 0 });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const s = await open(dir);
    await s.put('k', 'v');
    expect((await s.get('k'))?.toString()).toBe('v');
    await s.close();
  });

  it('makes an encrypted and compressed store: KEYRING, a version 2 manifest and segment 1 under data key 1', async () => {
    const dir = tempDir();
    const key = randomBytes(32);
    const report = await init(dir, { encrypt: true, compression: 'brotli', secret: { key } });
    expect(report).toEqual({ location: dir, formatVersion: 2, encrypted: true, compression: 'brotli' });
    expect(readdirSync(dir).sort()).toEqual(['00000001.tzds', 'KEYRING', 'MANIFEST']);
    const m = decodeManifest(readFileSync(join(dir, 'MANIFEST')));
    expect(m).toMatchObject({ encryption: { cipher: 'aes-256-gcm' }, compression: { algorithm: 'brotli', minBytes: 128 }, segments: [{ file: 1, size: null, key: 1 }] });
    expect(fileVersion(readFileSync(join(dir, '00000001.tzds')))).toEqual({ version: 2, keyId: 1 });
    expect(readFileSync(join(dir, 'KEYRING')).toString('latin1', 0, 4)).toBe('TZKR');

    const compressed = tempDir();
    await init(compressed, { compression: 'deflate' });
    expect(readdirSync(compressed).sort()).toEqual(['00000001.tzds', 'MANIFEST']);
    expect(fileVersion(readFileSync(join(compressed, '00000001.tzds')))).toEqual({ version: 2, keyId: 0 });
  });

  it('refuses what it must not make, changing nothing', async () => {
    const dir = tempDir();
    await init(dir);
    const before = snapshot(dir);
    expect(await failure(init(dir))).toEqual({ code: 'PRECONDITION', message: `${dir} already holds a tzkv store: init changed nothing` });
    expect(await failure(init(dir, { encrypt: true, secret: { passphrase: 'p' } }))).toMatchObject({ code: 'PRECONDITION' });
    expect(snapshot(dir)).toEqual(before);

    const other = tempDir();
    writeFileSync(join(other, 'notes.txt'), 'mine');
    expect(await failure(init(other))).toMatchObject({ code: 'NOT_A_STORE' });
    expect(readdirSync(other)).toEqual(['notes.txt']);

    const fresh = join(tempDir(), 'fresh');
    expect(await failure(init(fresh, { encrypt: true }))).toMatchObject({ code: 'KEY_REQUIRED', message: expect.stringContaining('--key-file PATH, TZKV_KEY_FILE or TZKV_PASSPHRASE') });
    expect(await failure(init(fresh, { encrypt: true, secret: { keyFile: join(fresh, 'none') } }))).toMatchObject({ code: 'KEY_WRONG', message: expect.stringMatching(/^cannot read key file .*none: /) });
    expect(await failure(init(fresh, { compression: 'lz5' }))).toEqual({ code: 'INVALID_ARGUMENT', message: 'unknown compression "lz5": choose deflate or brotli' });
    expect(() => statSync(fresh)).toThrow(/ENOENT/);

    expect(await failure(init('etcd://127.0.0.1:2379/app', { encrypt: true }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('encryption and compression are properties of directory stores') });
  });
});

describe('the secret at open', () => {
  it('checks the secret at open, before anything is read or written, and asks for it where keys or values are', async () => {
    const dir = tempDir();
    const keyFile = join(tempDir(), 'key');
    writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`);
    await init(dir, { encrypt: true, secret: { keyFile } });
    const before = snapshot(dir);

    const wrongKey = join(tempDir(), 'other');
    writeFileSync(wrongKey, randomBytes(32));
    expect(await failure(open(dir, { secret: { keyFile: wrongKey } }))).toEqual({ code: 'KEY_WRONG', message: `the key file ${wrongKey} does not open ${dir}/KEYRING: wrong key` });
    expect(await failure(open(dir, { secret: { passphrase: 'guess' } }))).toMatchObject({ code: 'KEY_WRONG', message: expect.stringContaining('wrapped by a key file, not a passphrase') });
    expect(snapshot(dir)).toEqual(before);

    const keyless = await open(dir);
    const required = { code: 'KEY_REQUIRED', message: `${dir} is an encrypted store: give its key with --key-file PATH, TZKV_KEY_FILE or TZKV_PASSPHRASE` };
    expect(await failure(keyless.get('k'))).toEqual(required);
    expect(await failure(keyless.put('k', 'v'))).toEqual(required);
    expect(await failure(keyless.keys().next())).toEqual(required);
    expect((await keyless.stats()).formatVersion).toBe(2);
    await keyless.close();
    expect(snapshot(dir)).toEqual(before);

    const keyed = await open(dir, { secret: { keyFile } });
    expect(await keyed.get('k')).toBeUndefined();
    await keyed.close();
  });

  it('lets a plain store take a secret it never reads (one TZKV_KEY_FILE for many stores)', async () => {
    const dir = tempDir();
    const s = await open(dir, { secret: { keyFile: join(dir, 'no-such-key') } });
    await s.put('k', 'v');
    expect((await s.get('k'))?.toString()).toBe('v');
    await s.close();
  });

  it('reports a missing KEYRING of an encrypted store as damage, not a wrong key', async () => {
    const dir = tempDir();
    await init(dir, { encrypt: true, secret: { passphrase: 'p' } });
    rmSync(join(dir, 'KEYRING'));
    skipVerify(dir);
    expect(await failure(open(dir, { secret: { passphrase: 'p' } }))).toMatchObject({ code: 'CORRUPT', message: expect.stringContaining('KEYRING is missing from') });
  });

  it('refuses a write from a process that opened the directory before another made it an encrypted store', async () => {
    const dir = tempDir();
    const early = await open(dir);
    await init(dir, { encrypt: true, secret: { passphrase: 'p' } });
    const before = snapshot(dir);
    expect(await failure(early.put('k', 'plain bytes'))).toEqual({
      code: 'PRECONDITION',
      message: `store ${dir} was made encrypted after this process opened it (by \`tzkv init\`): open it again to write to it`,
    });
    await early.close();
    expect(snapshot(dir)).toEqual(before);
  });

  it('takes a directory holding a KEYRING and no MANIFEST for a store that lost its manifest', async () => {
    const dir = tempDir();
    await init(dir, { encrypt: true, secret: { passphrase: 'p' } });
    rmSync(join(dir, 'MANIFEST'));
    rmSync(join(dir, '00000001.tzds'));
    skipVerify(dir);
    expect(await failure(init(dir))).toMatchObject({ code: 'CORRUPT', message: expect.stringContaining(`MANIFEST is missing from ${dir}, which holds a store's files (KEYRING)`) });
    const s = await open(dir, { readOnly: true });
    expect(await failure(s.get('k'))).toMatchObject({ code: 'CORRUPT' });
    await s.close();
  });

  it('lets a process that opened the store before a rekey go on; new opens need the new secret', async () => {
    const dir = tempDir();
    const oldKey = randomBytes(32);
    await init(dir, { encrypt: true, secret: { key: oldKey } });
    const before = await open(dir, { secret: { key: oldKey } });
    const admin = await open(dir, { secret: { key: oldKey } });
    await admin.admin()!.rekey({ passphrase: 'next' });
    await admin.close();
    expect(await before.keys().next()).toEqual({ done: true, value: undefined });
    await before.close();
    expect(await failure(open(dir, { secret: { key: oldKey } }))).toMatchObject({ code: 'KEY_WRONG' });
    await (await open(dir, { secret: { passphrase: 'next' } })).close();
    const keyless = await open(dir);
    expect(await failure(keyless.admin()!.rekey({ passphrase: 'x' }))).toMatchObject({ code: 'KEY_REQUIRED' });
    await keyless.close();
  });
});
