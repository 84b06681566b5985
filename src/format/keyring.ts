// The KEYRING file (docs/format.md "KEYRING"): a store's data keys, each
// wrapped by the key-encryption key (KEK) its secret makes. Pure: Buffers in,
// Buffers out; node:crypto for the KEK, the wrapping and random bytes.
//
// Every function that needs the keys checks the secret first by unwrapping the
// current data key: its GCM tag is the store's check value, so a wrong secret
// is KEY_WRONG before any data is read. `path` (the KEYRING's path) is only
// for messages.
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, scryptSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { crc32 } from './bytes.js';
import { DataKeys } from './store-codec.js';

/** docs/format.md "KEYRING": the header. */
const MAGIC_KEYRING = 'TZKR';
const KEYRING_VERSION = 1;
const HEADER_BYTES = 16;
const CIPHER = 'aes-256-gcm';
const DATA_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED_BYTES = NONCE_BYTES + DATA_KEY_BYTES + TAG_BYTES;
const SALT_BYTES = 16;
const MAX_KEY_ID = 0xffff;

/**
 * scrypt's cost for a new passphrase: N = 2^15, r = 8, p = 1 takes 32 MiB and
 * 80–140 ms on the 2-core machine this was measured on (2^14: 36–58 ms). A
 * KEYRING may record other parameters; these bounds keep a damaged or hostile
 * one from asking for more than 1 GiB or an hour.
 */
export const SCRYPT_PARAMETERS = { N: 1 << 15, r: 8, p: 1 } as const;
const SCRYPT_MAX_N = 1 << 20;
const SCRYPT_MAX_R = 32;
const SCRYPT_MAX_P = 16;
const SCRYPT_MAX_MEM = 1 << 30;

/**
 * A secret, its bytes in hand: a 32-byte key (a key file's, or given to open()
 * directly) or a passphrase. `given` says how it was given, for messages
 * ("the key file /home/me/store.key").
 */
export type SecretMaterial = { kind: 'key'; key: Buffer; given: string } | { kind: 'passphrase'; passphrase: string; given: string };

/** How the KEK is made (KEYRING `secret`). */
type KekRecipe = { kind: 'key-file' } | { kind: 'passphrase'; kdf: 'scrypt'; salt: string; N: number; r: number; p: number };

interface WrappedKey {
  id: number;
  /** nonce ‖ ciphertext ‖ tag, base64 in the file. */
  wrapped: Buffer;
  created: string;
}

/** A KEYRING's body, decoded. */
interface Keyring {
  secret: KekRecipe;
  current: number;
  keys: WrappedKey[];
  /** Unknown fields, kept on rewrite. */
  extra: Record<string, unknown>;
}

/**
 * A KEYRING that does not decode (CORRUPT), a secret that does not open it
 * or a key file that holds no key (KEY_WRONG), a keyring that is full
 * (PRECONDITION): the code of the TzkvError the engine makes of it
 * (src/engine/files/keyring-file.ts keyringOp), format/ importing nothing of ours.
 */
export class KeyringError extends Error {
  constructor(
    readonly code: 'CORRUPT' | 'KEY_WRONG' | 'PRECONDITION',
    message: string,
    /** The KEYRING or key file it is about. */
    readonly path: string,
  ) {
    super(message);
  }
}

function corrupt(path: string, what: string): KeyringError {
  return new KeyringError('CORRUPT', `${path}: ${what}`, path);
}

function encodeKeyring(k: Keyring): Buffer {
  const body = Buffer.from(
    JSON.stringify({
      ...k.extra,
      cipher: CIPHER,
      secret: k.secret,
      current: k.current,
      keys: k.keys.map((w) => ({ id: w.id, wrapped: w.wrapped.toString('base64'), created: w.created })),
    }),
    'utf8',
  );
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(MAGIC_KEYRING, 0, 4, 'latin1');
  header.writeUInt16LE(KEYRING_VERSION, 4);
  header.writeUInt16LE(0, 6);
  header.writeUInt32LE(body.length, 8);
  header.writeUInt32LE(crc32(body), 12);
  return Buffer.concat([header, body]);
}

const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
const KNOWN = new Set(['cipher', 'secret', 'current', 'keys']);

function decodeRecipe(raw: unknown, path: string): KekRecipe {
  const s = raw as Record<string, unknown> | null;
  if (s && s.kind === 'key-file') return { kind: 'key-file' };
  if (!s || s.kind !== 'passphrase' || s.kdf !== 'scrypt' || typeof s.salt !== 'string') throw corrupt(path, 'KEYRING secret is invalid');
  const { N, r, p } = s;
  if (!isInt(N, 2, SCRYPT_MAX_N) || (N & (N - 1)) !== 0 || !isInt(r, 1, SCRYPT_MAX_R) || !isInt(p, 1, SCRYPT_MAX_P) || Buffer.from(s.salt, 'base64').length !== SALT_BYTES) {
    throw corrupt(path, 'KEYRING scrypt parameters are invalid');
  }
  return { kind: 'passphrase', kdf: 'scrypt', salt: s.salt, N, r, p };
}

/** Decodes and checks a KEYRING; throws CORRUPT naming what is wrong. */
export function decodeKeyring(buf: Buffer, path: string): Keyring {
  if (buf.length < HEADER_BYTES) throw corrupt(path, `KEYRING is ${buf.length} bytes, shorter than its header`);
  if (buf.toString('latin1', 0, 4) !== MAGIC_KEYRING) throw corrupt(path, 'KEYRING has the wrong magic');
  if (buf.readUInt16LE(4) !== KEYRING_VERSION || buf.readUInt16LE(6) !== 0) throw corrupt(path, 'KEYRING header is invalid');
  if (buf.length !== HEADER_BYTES + buf.readUInt32LE(8)) throw corrupt(path, 'KEYRING length does not match its header');
  const body = buf.subarray(HEADER_BYTES);
  if (crc32(body) !== buf.readUInt32LE(12)) throw corrupt(path, 'KEYRING CRC mismatch');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    throw corrupt(path, 'KEYRING body is not JSON');
  }
  if (!raw || typeof raw !== 'object' || raw.cipher !== CIPHER) throw corrupt(path, `KEYRING cipher is not ${CIPHER}`);
  if (!Array.isArray(raw.keys) || raw.keys.length === 0) throw corrupt(path, 'KEYRING lists no keys');
  const keys = raw.keys.map((e: Record<string, unknown> | null, i: number): WrappedKey => {
    const wrapped = typeof e?.wrapped === 'string' ? Buffer.from(e.wrapped, 'base64') : Buffer.alloc(0);
    if (!e || !isInt(e.id, 1, MAX_KEY_ID) || wrapped.length !== WRAPPED_BYTES) throw corrupt(path, `KEYRING key entry ${i} is invalid`);
    return { id: e.id, wrapped, created: typeof e.created === 'string' ? e.created : '' };
  });
  if (keys.some((k, i) => i > 0 && k.id <= keys[i - 1].id)) throw corrupt(path, 'KEYRING keys are not in ascending order');
  if (!keys.some((k) => k.id === raw.current)) throw corrupt(path, 'KEYRING current key is not one of its keys');
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!KNOWN.has(k)) extra[k] = v;
  return { secret: decodeRecipe(raw.secret, path), current: raw.current as number, keys, extra };
}

/** A recipe for a new KEK from `secret`: a passphrase gets a fresh salt. */
function newRecipe(secret: SecretMaterial): KekRecipe {
  if (secret.kind === 'key') return { kind: 'key-file' };
  return { kind: 'passphrase', kdf: 'scrypt', salt: randomBytes(SALT_BYTES).toString('base64'), ...SCRYPT_PARAMETERS };
}

/** The KEK `recipe` makes of `secret`; KEY_WRONG when the secret is of the other kind. */
function deriveKek(recipe: KekRecipe, secret: SecretMaterial, path: string): KeyObject {
  if (recipe.kind === 'key-file') {
    if (secret.kind !== 'key') throw new KeyringError('KEY_WRONG', `${path} is wrapped by a key file, not a passphrase: give the key with --key-file PATH or TZKV_KEY_FILE (${secret.given} was given)`, path);
    return createSecretKey(secret.key);
  }
  if (secret.kind !== 'passphrase') throw new KeyringError('KEY_WRONG', `${path} is wrapped by a passphrase, not a key file: give it in TZKV_PASSPHRASE, with no key file given, which would win over it (${secret.given} was given: \`env -u TZKV_KEY_FILE\` drops one from the environment)`, path);
  const { N, r, p } = recipe;
  const maxmem = 128 * N * r * p + 2 * 128 * r * p + (1 << 20);
  if (maxmem > SCRYPT_MAX_MEM) throw corrupt(path, 'KEYRING scrypt parameters ask for more than 1 GiB');
  return createSecretKey(scryptSync(Buffer.from(secret.passphrase, 'utf8'), Buffer.from(recipe.salt, 'base64'), DATA_KEY_BYTES, { N, r, p, maxmem }));
}

const aad = (id: number) => Buffer.from(`tzkv data key ${id}`, 'ascii');

function wrap(kek: KeyObject, id: number, dataKey: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const c = createCipheriv(CIPHER, kek, nonce, { authTagLength: TAG_BYTES }).setAAD(aad(id));
  const sealed = Buffer.concat([c.update(dataKey), c.final()]);
  return Buffer.concat([nonce, sealed, c.getAuthTag()]);
}

/** The data key, or null when the tag does not check (a wrong KEK, or a damaged wrapping). */
function unwrap(kek: KeyObject, w: WrappedKey): Buffer | null {
  const d = createDecipheriv(CIPHER, kek, w.wrapped.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES }).setAAD(aad(w.id));
  d.setAuthTag(w.wrapped.subarray(NONCE_BYTES + DATA_KEY_BYTES));
  try {
    return Buffer.concat([d.update(w.wrapped.subarray(NONCE_BYTES, NONCE_BYTES + DATA_KEY_BYTES)), d.final()]);
  } catch {
    return null;
  }
}

/**
 * Every data key of `k`, unwrapped with `secret`. The current key first: its
 * tag failing is KEY_WRONG (the check value). Another failing once the
 * current one opened is CORRUPT: the secret was right.
 */
function unwrapAll(k: Keyring, secret: SecretMaterial, path: string): { kek: KeyObject; keys: Map<number, Buffer> } {
  const kek = deriveKek(k.secret, secret, path);
  const current = k.keys.find((w) => w.id === k.current)!;
  const keys = new Map<number, Buffer>();
  const opened = unwrap(kek, current);
  if (opened === null) throw new KeyringError('KEY_WRONG', `${secret.given} does not open ${path}: wrong key`, path);
  keys.set(current.id, opened);
  for (const w of k.keys) {
    if (w === current) continue;
    const key = unwrap(kek, w);
    if (key === null) throw corrupt(path, `data key ${w.id} does not unwrap, though the current one does`);
    keys.set(w.id, key);
  }
  return { kek, keys };
}

function dataKeys(keys: Map<number, Buffer>, current: number): DataKeys {
  return new DataKeys(new Map([...keys].map(([id, key]) => [id, createSecretKey(key)])), current);
}

/** A new KEYRING for `secret`, holding one new random data key, id 1, current. */
export function createKeyring(secret: SecretMaterial, now: number): { bytes: Buffer; keys: DataKeys } {
  const recipe = newRecipe(secret);
  const kek = deriveKek(recipe, secret, 'a new KEYRING');
  const key = randomBytes(DATA_KEY_BYTES);
  const bytes = encodeKeyring({ secret: recipe, current: 1, keys: [{ id: 1, wrapped: wrap(kek, 1, key), created: new Date(now).toISOString() }], extra: {} });
  return { bytes, keys: dataKeys(new Map([[1, key]]), 1) };
}

/** The data keys of a KEYRING. Throws CORRUPT (it does not decode), KEY_WRONG (the secret does not open it). */
export function openKeyring(bytes: Buffer, secret: SecretMaterial, path: string): DataKeys {
  const k = decodeKeyring(bytes, path);
  return dataKeys(unwrapAll(k, secret, path).keys, k.current);
}

/** For `rekey`: the same data keys, wrapped under `newSecret` instead of `oldSecret` (fresh nonces; a fresh salt for a passphrase). */
export function rewrapKeyring(bytes: Buffer, oldSecret: SecretMaterial, newSecret: SecretMaterial, path: string): Buffer {
  const k = decodeKeyring(bytes, path);
  const { keys } = unwrapAll(k, oldSecret, path);
  const recipe = newRecipe(newSecret);
  const kek = deriveKek(recipe, newSecret, 'a new KEYRING');
  return encodeKeyring({ ...k, secret: recipe, keys: k.keys.map((w) => ({ ...w, wrapped: wrap(kek, w.id, keys.get(w.id)!) })) });
}

/** For `compact --new-data-key`: the KEYRING with one more random data key (the next id), made current. */
export function addDataKey(bytes: Buffer, secret: SecretMaterial, path: string, now: number): { bytes: Buffer; keys: DataKeys } {
  const k = decodeKeyring(bytes, path);
  const { kek, keys } = unwrapAll(k, secret, path);
  const id = k.keys[k.keys.length - 1].id + 1;
  if (id > MAX_KEY_ID) throw new KeyringError('PRECONDITION', `${path} holds data key ${MAX_KEY_ID}, the last id: no new data key can be added`, path);
  const key = randomBytes(DATA_KEY_BYTES);
  keys.set(id, key);
  const added = { id, wrapped: wrap(kek, id, key), created: new Date(now).toISOString() };
  return { bytes: encodeKeyring({ ...k, current: id, keys: [...k.keys, added] }), keys: dataKeys(keys, id) };
}

/**
 * For the end of a compaction: the KEYRING without the data keys no file
 * names (`used`: the ids the manifest's files name). The current key stays.
 * Needs no secret: wrapped keys are dropped, not opened.
 */
export function dropUnusedKeys(bytes: Buffer, used: Iterable<number>, path: string): Buffer {
  const k = decodeKeyring(bytes, path);
  const keep = new Set(used);
  keep.add(k.current);
  return encodeKeyring({ ...k, keys: k.keys.filter((w) => keep.has(w.id)) });
}
