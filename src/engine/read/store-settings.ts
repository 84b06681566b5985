// What stats says of how a store keeps its bytes (docs/format.md "Format
// version 2"): encrypted, with which cipher and current data key, and how it
// compresses and how much that saved, as of the last compaction (which counts
// the values it copies; stats reads none), and what bulk imports left for the
// next compaction to compress. Read without the secret: KEYRING's
// `current` is in its plain body.
import type { StoreStats, VerifyProblem } from '../../api.js';
import { KEYRING_NAME } from '../../format/constants.js';
import { KeyringError, decodeKeyring } from '../../format/keyring.js';
import type { Manifest } from '../../format/manifest.js';
import type { FileSystem } from '../../io/fs.js';
import { readWholeFile } from '../../io/fs.js';

/**
 * StoreStats.encryption of the store whose manifest is `m`: null when it is
 * not encrypted; `dataKey` null when KEYRING cannot be read (told to onDamage).
 */
export function encryptionFacts(fs: FileSystem, dir: string, m: Manifest | null, onDamage: (damage: VerifyProblem) => void): StoreStats['encryption'] {
  if (!m?.encryption) return null;
  const path = `${dir}/${KEYRING_NAME}`;
  try {
    return { cipher: m.encryption.cipher, dataKey: decodeKeyring(readWholeFile(fs, path), KEYRING_NAME).current };
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    if (!missing && !(err instanceof KeyringError)) throw err;
    onDamage({ file: KEYRING_NAME, offset: missing ? null : 0, kind: missing ? 'missing-file' : 'bad-keyring', message: missing ? `${KEYRING_NAME} is missing from an encrypted store` : err instanceof Error ? err.message : String(err) });
    return { cipher: m.encryption.cipher, dataKey: null };
  }
}

/** StoreStats.compression of the store whose manifest is `m`: from its setting, its last compaction's report and its segments' pending bytes. */
export function compressionFacts(m: Manifest | null): StoreStats['compression'] {
  if (!m?.compression) return null;
  const r = m.lastCompactionReport;
  const values = r?.values ? { stored: r.values.stored, raw: r.values.raw, ratio: r.values.raw === 0 ? 1 : r.values.stored / r.values.raw, at: r.at } : null;
  return { algorithm: m.compression.algorithm, values, pending: pendingCompression(m) };
}

/** Bytes of values bulk imports left uncompressed for compaction (docs/format.md "MANIFEST, version 2" `pending`), and the segments holding them. */
function pendingCompression(m: Manifest): { bytes: number; segments: number } {
  let bytes = 0;
  let segments = 0;
  for (const s of m.segments) {
    if (!s.pending) continue;
    bytes += s.pending;
    segments++;
  }
  return { bytes, segments };
}
