// The KEYRING codec (docs/format.md "KEYRING"): wrapping data keys under a
// key file's key or a scrypt passphrase, the check value, rekey and rotation,
// and a damaged or truncated file.
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/format/bytes.js';
import { keyFileText, parseKeyFile } from '../../src/format/key-file.js';
import type { SecretMaterial } from '../../src/format/keyring.js';
import { SCRYPT_PARAMETERS, addDataKey, createKeyring, decodeKeyring, dropUnusedKeys, openKeyring, rewrapKeyring } from '../../src/format/keyring.js';

const PATH = '/stores/s/KEYRING';
const keyOf = (key: Buffer): SecretMaterial => ({ kind: 'key', key, given: 'the key file /k' });
const phrase = (passphrase: string): SecretMaterial => ({ kind: 'passphrase', passphrase, given: 'the passphrase in TZKV_PASSPHRASE' });

/** What a data key encrypts, so two DataKeys can be compared by their effect. */
function sealWith(keys: ReturnType<typeof openKeyring>, id: number): string {
  const c = createCipheriv('aes-256-gcm', keys.key(id)!, Buffer.alloc(12));
  return Buffer.concat([c.update('canary'), c.final(), c.getAuthTag()]).toString('hex');
}

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    const e = err as { code: string; message: string };
    return { code: e.code, message: e.message };
  }
  throw new Error('expected an error');
}

describe('KEYRING', () => {
  it('creates a keyring whose data key 1 opens again with the same key file, and only with it', () => {
    const key = randomBytes(32);
    const { bytes, keys } = createKeyring(keyOf(key), Date.parse('2026-12-06T10:00:00Z'));
    expect(bytes.toString('latin1', 0, 4)).toBe('TZKR');
    const body = JSON.parse(bytes.subarray(16).toString('utf8'));
    expect(body).toMatchObject({ cipher: 'aes-256-gcm', secret: { kind: 'key-file' }, current: 1, keys: [{ id: 1, created: '2026-12-06T10:00:00.000Z' }] });
    expect(Buffer.from(body.keys[0].wrapped, 'base64')).toHaveLength(60);
    expect(keys.current).toBe(1);
    const opened = openKeyring(bytes, keyOf(key), PATH);
    expect(opened.ids).toEqual([1]);
    expect(sealWith(opened, 1)).toBe(sealWith(keys, 1));
    // The data key itself is never in the file.
    expect(bytes.includes(Buffer.from(sealWith(keys, 1), 'hex').subarray(0, 6))).toBe(false);

    const wrong = errorOf(() => openKeyring(bytes, keyOf(randomBytes(32)), PATH));
    expect(wrong).toEqual({ code: 'KEY_WRONG', message: `the key file /k does not open ${PATH}: wrong key` });
  });

  it('derives the KEK from a passphrase with scrypt and the recorded salt and cost', () => {
    const { bytes, keys } = createKeyring(phrase('correct horse'), 0);
    const secret = decodeKeyring(bytes, PATH).secret;
    expect(secret).toMatchObject({ kind: 'passphrase', kdf: 'scrypt', ...SCRYPT_PARAMETERS });
    expect(sealWith(openKeyring(bytes, phrase('correct horse'), PATH), 1)).toBe(sealWith(keys, 1));
    expect(errorOf(() => openKeyring(bytes, phrase('correct horse!'), PATH)).code).toBe('KEY_WRONG');
    // The other kind of secret is named as such.
    expect(errorOf(() => openKeyring(bytes, keyOf(randomBytes(32)), PATH)).message).toMatch(/wrapped by a passphrase, not a key file: give it in TZKV_PASSPHRASE/);
    const byFile = createKeyring(keyOf(randomBytes(32)), 0).bytes;
    expect(errorOf(() => openKeyring(byFile, phrase('x'), PATH)).message).toMatch(/wrapped by a key file, not a passphrase: give the key with --key-file PATH or TZKV_KEY_FILE/);
  });

  it('rewraps every data key under a new secret, which alone opens it afterwards (rekey)', () => {
    const key = randomBytes(32);
    const first = createKeyring(keyOf(key), 0);
    const rotated = addDataKey(first.bytes, keyOf(key), PATH, 1000);
    const rekeyed = rewrapKeyring(rotated.bytes, keyOf(key), phrase('new one'), PATH);
    expect(errorOf(() => openKeyring(rekeyed, keyOf(key), PATH)).code).toBe('KEY_WRONG');
    const opened = openKeyring(rekeyed, phrase('new one'), PATH);
    expect(opened.ids).toEqual([1, 2]);
    expect(opened.current).toBe(2);
    expect(sealWith(opened, 1)).toBe(sealWith(first.keys, 1));
    expect(sealWith(opened, 2)).toBe(sealWith(rotated.keys, 2));
    expect(decodeKeyring(rekeyed, PATH).keys.map((k) => k.created)).toEqual(decodeKeyring(rotated.bytes, PATH).keys.map((k) => k.created));
    // Fresh nonces: no wrapping is reused.
    const before = decodeKeyring(rotated.bytes, PATH).keys.map((k) => k.wrapped.toString('hex'));
    const back = rewrapKeyring(rekeyed, phrase('new one'), keyOf(key), PATH);
    expect(decodeKeyring(back, PATH).keys.map((k) => k.wrapped.toString('hex'))).not.toContain(before[0]);
    expect(errorOf(() => rewrapKeyring(rekeyed, keyOf(key), keyOf(key), PATH)).code).toBe('KEY_WRONG');
  });

  it('adds a data key with the next id, made current, and drops the keys no file names', () => {
    const key = randomBytes(32);
    const one = createKeyring(keyOf(key), 0);
    const two = addDataKey(one.bytes, keyOf(key), PATH, 0);
    expect(two.keys.current).toBe(2);
    expect(two.keys.ids).toEqual([1, 2]);
    expect(sealWith(two.keys, 2)).not.toBe(sealWith(two.keys, 1));
    const three = addDataKey(two.bytes, keyOf(key), PATH, 0);
    const kept = dropUnusedKeys(three.bytes, [2], PATH);
    expect(openKeyring(kept, keyOf(key), PATH).ids).toEqual([2, 3]);
    expect(openKeyring(kept, keyOf(key), PATH).key(1)).toBeUndefined();
  });

  it('reports a damaged or truncated KEYRING as CORRUPT, whatever the secret', () => {
    const key = randomBytes(32);
    const { bytes } = createKeyring(keyOf(key), 0);
    for (const cut of [0, 3, 15, 16, bytes.length - 1]) {
      expect(errorOf(() => openKeyring(bytes.subarray(0, cut), keyOf(key), PATH))).toMatchObject({ code: 'CORRUPT', message: expect.stringContaining(PATH) });
    }
    for (let at = 0; at < bytes.length; at += 7) {
      const flipped = Buffer.from(bytes);
      flipped[at] ^= 0x20;
      expect(errorOf(() => openKeyring(flipped, keyOf(key), PATH)).code, `byte ${at}`).toBe('CORRUPT');
    }
    // A body whose CRC checks but whose fields are wrong (written by hand).
    const reframe = (body: object) => {
      const b = Buffer.from(JSON.stringify(body));
      const h = Buffer.from(bytes.subarray(0, 16));
      h.writeUInt32LE(b.length, 8);
      h.writeUInt32LE(crc32(b), 12);
      return Buffer.concat([h, b]);
    };
    const body = JSON.parse(bytes.subarray(16).toString('utf8'));
    expect(errorOf(() => openKeyring(reframe({ ...body, current: 7 }), keyOf(key), PATH)).message).toMatch(/current key is not one of its keys/);
    expect(errorOf(() => openKeyring(reframe({ ...body, keys: [] }), keyOf(key), PATH)).message).toMatch(/lists no keys/);
    const greedy = { kind: 'passphrase', kdf: 'scrypt', salt: randomBytes(16).toString('base64'), N: 1 << 30, r: 8, p: 1 };
    expect(errorOf(() => openKeyring(reframe({ ...body, secret: greedy }), phrase('x'), PATH)).message).toMatch(/scrypt parameters are invalid/);
    // A wrapping damaged past the current key, with its CRC made to match: the right secret opens the current key, then CORRUPT.
    const two = JSON.parse(addDataKey(bytes, keyOf(key), PATH, 0).bytes.subarray(16).toString('utf8'));
    const w = Buffer.from(two.keys[0].wrapped, 'base64');
    w[20] ^= 1;
    two.keys[0].wrapped = w.toString('base64');
    expect(errorOf(() => openKeyring(reframe(two), keyOf(key), PATH)).message).toMatch(/data key 1 does not unwrap, though the current one does/);
  });
});

describe('key files', () => {
  it('holds 32 raw bytes or their base64, whitespace around it ignored', () => {
    const key = randomBytes(32);
    expect(parseKeyFile(key, '/k')).toEqual(key);
    expect(parseKeyFile(Buffer.from(keyFileText(key)), '/k')).toEqual(key);
    expect(parseKeyFile(Buffer.from(`  \n${key.toString('base64')}\r\n\n`), '/k')).toEqual(key);
  });

  it('refuses anything else as KEY_WRONG naming the file and its size, never its contents', () => {
    for (const bad of ['', 'hunter2\n', randomBytes(31).toString('binary'), randomBytes(33).toString('base64'), `${randomBytes(32).toString('base64')} extra`]) {
      const bytes = Buffer.from(bad, 'latin1');
      const e = errorOf(() => parseKeyFile(bytes, '/etc/tzkv.key'));
      expect(e.code).toBe('KEY_WRONG');
      expect(e.message).toContain(`key file /etc/tzkv.key holds ${bytes.length} bytes, not a key`);
      if (bad.trim() !== '') expect(e.message).not.toContain(bad.trim());
    }
  });
});
