// Maintenance commands and encrypted stores (#17): verify with and without
// the key, compaction and repair needing it, and what a store that is not
// encrypted answers to the options of encrypted ones.
import { randomBytes } from 'node:crypto';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { StoreStats, VerifyReport } from '../../src/api.js';
import { crc32 } from '../../src/format/bytes.js';
import { expectNoStack, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

const NOT_CHECKED = 'keys not checked: no key given';

/** A key file, and an encrypted store made with it in `dir` holding a few keys. */
async function encryptedStore(dir: string): Promise<string> {
  const key = join(await tempDir(), 'store.key');
  await writeFile(key, randomBytes(32), { mode: 0o600 });
  expect((await tzkv(['init', '-d', dir, '--encrypt', '--key-file', key])).exitCode).toBe(0);
  for (const [k, v] of [['user:1', 'alice'], ['user:2', 'bob'], ['user:1', 'carol']]) expect((await tzkv(['put', '-d', dir, k, v, '--key-file', key])).exitCode).toBe(0);
  return key;
}

/** Every file of `dir` and its bytes. */
async function files(dir: string): Promise<Map<string, Buffer>> {
  const names = (await readdir(dir)).sort();
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n))] as const)));
}

describe('compact --new-data-key', () => {
  test('on a store that is not encrypted: exit 2 saying so, nothing changed', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'a', '1']);
    await tzkv(['put', '-d', dir, 'a', '2']);
    const before = await files(dir);
    const run = await tzkv(['compact', '-d', dir, '--new-data-key']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`store ${dir} is not encrypted: --new-data-key rotates the data key of an encrypted store`);
    expectNoStack(run);
    expect(await files(dir)).toEqual(before);
  });

  test('with --dry-run: exit 2, the two ask for opposite things', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'a', '1']);
    const run = await tzkv(['compact', '-d', dir, '--new-data-key', '--dry-run']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('--new-data-key rotates the data key as the store is rewritten; --dry-run rewrites nothing');
    expectNoStack(run);
  });
});

describe('verify of an encrypted store', () => {
  test('without the key: exit 0 on a clean store, saying what it did not check; with it, everything', async () => {
    const dir = await storeDir();
    const key = await encryptedStore(dir);
    const keyless = await tzkv(['verify', '-d', dir]);
    expect(keyless.exitCode).toBe(0);
    expect(keyless.stdout).toMatch(/^ok as far as checked: 3 files, \d+ records/m);
    expect(keyless.stdout).toContain(NOT_CHECKED);
    expect(keyless.stdout).not.toMatch(/^ok:/m);
    const { run, json } = await tzkvJson<VerifyReport>(['verify', '-d', dir]);
    expect(run.exitCode).toBe(0);
    expect(json.ok).toBe(true);
    expect(json.skipped).toHaveLength(1);
    expect(json.skipped[0]).toMatch(new RegExp(`^${NOT_CHECKED} `));
    const keyed = await tzkvJson<VerifyReport>(['verify', '-d', dir, '--key-file', key]);
    expect(keyed.run.exitCode).toBe(0);
    expect(keyed.json).toMatchObject({ ok: true, skipped: [], problems: [] });
    expect((await tzkv(['verify', '-d', dir, '--key-file', key])).stdout).toMatch(/^ok: 3 files/m);
  });

  test('a missing KEYRING is a missing file (exit 4), found without the key', async () => {
    const dir = join(await tempDir(), 'store');
    await encryptedStore(dir);
    await rm(join(dir, 'KEYRING'));
    const { run, json } = await tzkvJson<VerifyReport>(['verify', '-d', dir]);
    expect(run.exitCode).toBe(4);
    expect(json.problems).toEqual([
      { file: 'KEYRING', offset: null, kind: 'missing-file', message: 'KEYRING is missing from an encrypted store: without it the data cannot be read, and it cannot be rebuilt' },
    ]);
    expectNoStack(run);
  });

  test('a KEYRING whose body changed fails its CRC (exit 4), found without the key', async () => {
    const dir = join(await tempDir(), 'store');
    await encryptedStore(dir);
    const keyring = await readFile(join(dir, 'KEYRING'));
    keyring[keyring.length - 3] ^= 1;
    await writeFile(join(dir, 'KEYRING'), keyring);
    const run = await tzkv(['verify', '-d', dir]);
    expect(run.exitCode).toBe(4);
    expect(run.stdout).toContain('KEYRING offset 0: KEYRING CRC mismatch');
    expect(run.stdout).toContain(NOT_CHECKED);
  });
});

describe('rewriting an encrypted store needs its key', () => {
  test('compact and verify --repair without it: exit 6 naming the store and how to give the key, nothing changed', async () => {
    const dir = await storeDir();
    await encryptedStore(dir);
    const before = await files(dir);
    for (const args of [['compact'], ['verify', '--repair'], ['compact', '--new-data-key']]) {
      const run = await tzkv([...args, '-d', dir]);
      expect(run.exitCode, args.join(' ')).toBe(6);
      expect(run.stderr).toContain(`${dir} is an encrypted store: give its key with --key-file PATH, TZKV_KEY_FILE or TZKV_PASSPHRASE`);
      expectNoStack(run);
      expect(await files(dir)).toEqual(before);
    }
  });
});

describe('replicate of an encrypted store', () => {
  test('needs no key: the follower gets KEYRING with the files and reads with the leader\'s key; a rekey ships KEYRING again', async () => {
    const dir = await storeDir();
    const key = await encryptedStore(dir);
    const follower = join(await tempDir(), 'follower');
    const first = await tzkvJson<{ filesShipped: number }>(['replicate', '-d', dir, '--to', follower]);
    expect(first.run.exitCode).toBe(0);
    expect(await readFile(join(follower, 'KEYRING'))).toEqual(await readFile(join(dir, 'KEYRING')));
    expect((await tzkv(['get', '-d', follower, 'user:1', '--key-file', key])).stdout).toBe('carol');
    const keyless = await tzkv(['get', '-d', follower, 'user:1']);
    expect(keyless.exitCode).toBe(6);
    expect((await tzkv(['verify', '-d', follower])).exitCode).toBe(0);

    // Nothing new: nothing shipped, KEYRING included.
    const again = await tzkvJson<{ filesShipped: number }>(['replicate', '-d', dir, '--to', follower]);
    expect(again.json.filesShipped).toBe(0);

    const newKey = join(await tempDir(), 'new.key');
    await writeFile(newKey, randomBytes(32), { mode: 0o600 });
    expect((await tzkv(['rekey', '-d', dir, '--key-file', key, '--new-key-file', newKey])).exitCode).toBe(0);
    const rekeyed = await tzkvJson<{ filesShipped: number }>(['replicate', '-d', dir, '--to', follower]);
    expect(rekeyed.run.exitCode).toBe(0);
    expect(rekeyed.json.filesShipped).toBe(1);
    expect((await tzkv(['get', '-d', follower, 'user:1', '--key-file', newKey])).stdout).toBe('carol');
    expect((await tzkv(['get', '-d', follower, 'user:1', '--key-file', key])).exitCode).toBe(6);

    // A rotation drops the key the follower's files name: its new KEYRING arrives with the files that need it.
    expect((await tzkv(['compact', '-d', dir, '--new-data-key', '--key-file', newKey])).exitCode).toBe(0);
    expect((await tzkv(['replicate', '-d', dir, '--to', follower])).exitCode).toBe(0);
    expect(await readFile(join(follower, 'KEYRING'))).toEqual(await readFile(join(dir, 'KEYRING')));
    expect((await tzkv(['get', '-d', follower, 'user:2', '--key-file', newKey])).stdout).toBe('bob');
    expect((await tzkv(['verify', '-d', follower, '--key-file', newKey])).stdout).toMatch(/^ok: /m);
  });
});

describe('stats of an encrypted store', () => {
  test('needs no key, and names the cipher and the current data key; a plain store says it is not encrypted', async () => {
    const dir = await storeDir();
    const key = await encryptedStore(dir);
    const text = await tzkv(['stats', '-d', dir]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/^encrypted: yes \(aes-256-gcm, data key 1\)$/m);
    const { json } = await tzkvJson<StoreStats>(['stats', '-d', dir]);
    expect(json.encryption).toEqual({ cipher: 'aes-256-gcm', dataKey: 1 });
    // Its three puts are not indexed yet: counted as puts, not as keys, and it says so.
    expect(json).toMatchObject({ puts: 3, keys: 0, counted: 'indexed' });
    const keyed = await tzkvJson<StoreStats>(['stats', '-d', dir, '--key-file', key]);
    expect(keyed.json).toMatchObject({ puts: 3, keys: 2, counted: 'census' });
    const plain = await storeDir();
    await tzkv(['put', '-d', plain, 'a', '1']);
    expect((await tzkv(['stats', '-d', plain])).stdout).toMatch(/^encrypted: no$/m);
    expect((await tzkvJson<StoreStats>(['stats', '-d', plain])).json.encryption).toBeNull();
  });
});

describe('compaction of a compressed store', () => {
  test('writes version 2 files (key 0), verify finds them clean, every value reads back', async () => {
    const dir = await storeDir();
    expect((await tzkv(['init', '-d', dir, '--compress'])).exitCode).toBe(0);
    const doc = JSON.stringify({ items: Array.from({ length: 40 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] })) });
    for (const k of ['a', 'b', 'a', 'c']) expect((await tzkv(['put', '-d', dir, k, `${k}:${doc}`])).exitCode).toBe(0);
    expect((await tzkv(['compact', '-d', dir])).exitCode).toBe(0);
    for (const name of (await readdir(dir)).filter((n) => /\.tz(ds|ix)$/.test(n))) {
      const head = await readFile(join(dir, name));
      expect([head.readUInt16LE(4), head.readUInt16LE(6)], name).toEqual([2, 0]);
    }
    expect((await tzkv(['verify', '-d', dir])).stdout).toMatch(/^ok: /m);
    for (const k of ['a', 'b', 'c']) expect((await tzkv(['get', '-d', dir, k])).stdout).toBe(`${k}:${doc}`);
    // stats: the values the compaction kept, as stored and uncompressed, read from the report it left (none read now).
    const { json } = await tzkvJson<StoreStats>(['stats', '-d', dir]);
    const raw = 3 * (doc.length + 2);
    expect(json.compression).toMatchObject({ algorithm: 'brotli', values: { raw } });
    expect(json.compression!.values!.stored).toBeLessThan(raw / 2); // JSON of repeated shape: brotli saves more than half
    expect(json.compression!.values!.ratio).toBeCloseTo(json.compression!.values!.stored / raw, 6);
    expect((await tzkv(['stats', '-d', dir])).stdout).toMatch(new RegExp(`^compressed: brotli: \\d+ bytes of values stored, ${raw} uncompressed \\(ratio [0-9.]+\\) at the last compaction`, 'm'));
  });

  test('stats of a compressed store before its first compaction says its figures come with it; a plain store is not compressed', async () => {
    const dir = await storeDir();
    expect((await tzkv(['init', '-d', dir, '--compress'])).exitCode).toBe(0);
    await tzkv(['put', '-d', dir, 'a', '1']);
    expect((await tzkv(['stats', '-d', dir])).stdout).toMatch(/^compressed: brotli \(figures after the first compaction\)$/m);
    const plain = await storeDir();
    await tzkv(['put', '-d', plain, 'a', '1']);
    expect((await tzkv(['stats', '-d', plain])).stdout).toMatch(/^compressed: no$/m);
    expect((await tzkvJson<StoreStats>(['stats', '-d', plain])).json.compression).toBeNull();
  });
});

/**
 * Changes a byte of the body of the first record of the first group of the
 * store's first segment (after the file header and the 52-byte SEAL record);
 * `fixCrc`: makes the record's CRC good again. Returns the segment's bytes as changed.
 */
async function changeSealedBody(dir: string, fixCrc: boolean): Promise<Buffer> {
  const path = join(dir, '00000001.tzds');
  const segment = await readFile(path);
  const at = 16 + 20 + 32;
  const length = 20 + segment.readUInt16LE(at + 6) + segment.readUInt32LE(at + 8);
  segment[at + 21] ^= 0x10;
  if (fixCrc) segment.writeUInt32LE(crc32(segment, at + 4, at + length), at);
  await writeFile(path, segment);
  return segment;
}

describe('a changed byte in an encrypted record body', () => {
  test('its CRC left as it was: found by verify with and without the key', async () => {
    const dir = join(await tempDir(), 'store');
    const key = await encryptedStore(dir);
    await changeSealedBody(dir, false);
    const keyless = await tzkv(['verify', '-d', dir]);
    expect(keyless.exitCode).toBe(4);
    expect(keyless.stdout).toContain('00000001.tzds offset 16:');
    expect((await tzkv(['verify', '-d', dir, '--key-file', key])).exitCode).toBe(4);
  });

  test('its CRC made good again: without the key it cannot be seen (ok as far as checked); with it, the tag fails', async () => {
    const dir = join(await tempDir(), 'store');
    const key = await encryptedStore(dir);
    await changeSealedBody(dir, true);
    const keyless = await tzkv(['verify', '-d', dir]);
    expect(keyless.exitCode).toBe(0);
    expect(keyless.stdout).toContain(NOT_CHECKED);
    const keyed = await tzkv(['verify', '-d', dir, '--key-file', key]);
    expect(keyed.exitCode).toBe(4);
    expect(keyed.stdout).toMatch(/00000001\.tzds offset 16: .*authentication failed/);
    // A read never returns the unauthenticated bytes.
    const get = await tzkv(['get', '-d', dir, 'user:1', '--key-file', key]);
    expect(get.stdout).not.toBe('alice');
  });
});

describe('compact --new-data-key on an encrypted store', () => {
  test('the old key leaves KEYRING, the data reads back with the same key file, no file holds the canary', async () => {
    const dir = await storeDir();
    const key = await encryptedStore(dir);
    const canaryKey = 'canary-key-7f3a9c';
    const canaryValue = 'canary-value-c0ffee-0123456789';
    expect((await tzkv(['put', '-d', dir, canaryKey, canaryValue, '--key-file', key])).exitCode).toBe(0);
    const run = await tzkv(['compact', '-d', dir, '--new-data-key', '--key-file', key]);
    expect(run.exitCode).toBe(0);
    const keyring = JSON.parse((await readFile(join(dir, 'KEYRING'))).subarray(16).toString('utf8')) as { current: number; keys: Array<{ id: number }> };
    expect(keyring.current).toBe(2);
    expect(keyring.keys.map((k) => k.id)).toEqual([2]);
    for (const name of (await readdir(dir)).filter((n) => /\.tz(ds|ix)$/.test(n))) {
      const head = await readFile(join(dir, name));
      expect([head.readUInt16LE(4), head.readUInt16LE(6)], name).toEqual([2, 2]);
    }
    expect((await tzkv(['get', '-d', dir, canaryKey, '--key-file', key])).stdout).toBe(canaryValue);
    expect((await tzkv(['get', '-d', dir, 'user:1', '--key-file', key])).stdout).toBe('carol');
    expect((await tzkv(['stats', '-d', dir])).stdout).toMatch(/^encrypted: yes \(aes-256-gcm, data key 2\)$/m);
    expect((await tzkv(['verify', '-d', dir, '--key-file', key])).stdout).toMatch(/^ok: /m);
    for (const [name, bytes] of await files(dir)) {
      for (const canary of [canaryKey, canaryValue]) {
        expect(bytes.includes(Buffer.from(canary)), `${name} holds ${canary}`).toBe(false);
        expect(bytes.toString('latin1').includes(Buffer.from(canary).toString('base64').slice(0, 16)), `${name} holds ${canary} in base64`).toBe(false);
      }
    }
    // Writes go on under the new key.
    expect((await tzkv(['put', '-d', dir, 'after', 'rotation', '--key-file', key])).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, 'after', '--key-file', key])).stdout).toBe('rotation');
  });
});

describe('verify --repair of an encrypted store', () => {
  test('moves the damaged group to quarantine as stored, keeps the rest readable, and leaves a clean store', async () => {
    const dir = join(await tempDir(), 'store');
    const key = await encryptedStore(dir);
    for (const [k, v] of [['user:3', 'dave'], ['user:4', 'erin']]) expect((await tzkv(['put', '-d', dir, k, v, '--key-file', key])).exitCode).toBe(0);
    const segment = await changeSealedBody(dir, true);
    const { run, json } = await tzkvJson<VerifyReport>(['verify', '-d', dir, '--repair', '--key-file', key]);
    expect(run.exitCode).toBe(0);
    expect(json.ok).toBe(true);
    const moved = json.repair!.moved;
    expect(moved).toHaveLength(1);
    expect(moved[0]).toMatchObject({ file: '00000001.tzds', offset: 16 });
    const quarantine = await readFile(join(dir, json.repair!.quarantine!));
    // The bytes as they were stored: still sealed, the changed byte in them.
    expect(quarantine.subarray(moved[0].quarantineOffset, moved[0].quarantineOffset + moved[0].bytes)).toEqual(segment.subarray(16, 16 + moved[0].bytes));
    for (const [k, v] of [['user:2', 'bob'], ['user:1', 'carol'], ['user:3', 'dave'], ['user:4', 'erin']]) expect((await tzkv(['get', '-d', dir, k, '--key-file', key])).stdout).toBe(v);
    expect((await tzkv(['verify', '-d', dir, '--key-file', key])).stdout).toMatch(/^ok: /m);
  });
});
