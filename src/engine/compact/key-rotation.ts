// compact --new-data-key (docs/design.md "Rotation"): the two changes to
// KEYRING around a compaction, each made under the writer lock by replacing
// the file whole (temp + fsync + rename), so a crash at any moment leaves a
// KEYRING that the same secret opens and that holds every key a file names.
//   before the compaction writes anything: a new data key, made current;
//   after its switch: the keys no file of the store names any more, dropped.
// And the codec a store holds, whose keys a rotation replaces in place, so
// every view, writer and feed of the process sees the new current key.
import type { Secret } from '../../api.js';
import { isTzkvError } from '../../errors.js';
import { KEYRING_NAME, MAGIC_RUN, MAGIC_SEGMENT } from '../../format/constants.js';
import { addDataKey, decodeKeyring, dropUnusedKeys, openKeyring } from '../../format/keyring.js';
import type { DataKeys, StoreCodec } from '../../format/store-codec.js';
import type { FileSystem } from '../../io/fs.js';
import { readWholeFile } from '../../io/fs.js';
import { fileKind } from '../files/file-kinds.js';
import { fileVersionAt } from '../files/made-as.js';
import { installKeyring, keyringOp, secretMaterial } from '../files/keyring-file.js';
import { runName, segmentName } from '../files/layout.js';
import { readManifest } from '../files/store-manifest.js';

/** A store's codec and the way to give it new data keys. */
export interface RotatableCodec {
  readonly codec: StoreCodec;
  /** From now on the codec's keys() returns `keys`. */
  rotate(keys: DataKeys): void;
  /**
   * Reads KEYRING again when it was replaced since the keys were read (another
   * process rotated the data key or rekeyed): a writer must seal with the key
   * KEYRING now calls current, never one a rotation has since dropped. A
   * stat when nothing changed. After a rekey (`secret` no longer opens it)
   * the keys already held go on serving; KEY_WRONG only when KEYRING's current
   * key is one this process does not hold.
   */
  refresh(fs: FileSystem, dir: string, secret: Secret | undefined): void;
}

/** What tells one KEYRING file from its replacement (replaced whole: a new inode). */
export function keyringIdentity(fs: FileSystem, dir: string): string | undefined {
  const st = fs.stat(`${dir}/${KEYRING_NAME}`);
  return st === undefined ? undefined : `${st.ino}:${st.size}:${st.ctimeMs}`;
}

/**
 * `base` as a codec whose keys a rotation can replace (a store that is not
 * encrypted: `base` itself, never rotated); `seen` is keyringIdentity() taken
 * before `base`'s keys were read from KEYRING.
 */
export function rotatableCodec(base: StoreCodec, seen: string | undefined): RotatableCodec {
  const { encryption } = base;
  if (encryption === undefined) return { codec: base, rotate: () => undefined, refresh: () => undefined };
  let rotated: DataKeys | undefined;
  let read = seen;
  const codec: StoreCodec = Object.freeze({ encryption: { keys: () => rotated ?? encryption.keys() }, compression: base.compression });
  return {
    codec,
    rotate: (keys) => (rotated = keys),
    refresh(fs, dir, secret) {
      if (secret === undefined) return;
      const now = keyringIdentity(fs, dir);
      if (now === read || now === undefined) return;
      const path = `${dir}/${KEYRING_NAME}`;
      const bytes = readWholeFile(fs, path);
      try {
        rotated = keyringOp(() => openKeyring(bytes, secretMaterial(fs, secret), path));
      } catch (err) {
        // A rekey rewrapped the keys under another secret: this process holds them unwrapped already and goes on,
        // unless the key now current is one it does not hold (rotated under the new secret): then it cannot write.
        const held = rotated ?? encryption.keys();
        if (!isTzkvError(err, 'KEY_WRONG') || held.key(keyringOp(() => decodeKeyring(bytes, path)).current) === undefined) throw err;
      }
      read = now;
    },
  };
}

/**
 * Adds a new data key to the KEYRING of `dir` and makes it current; returns
 * every key it now holds. REQUIRES: the writer lock; `secret` opens KEYRING.
 */
export function addRotationKey(fs: FileSystem, dir: string, secret: Secret, now: number): DataKeys {
  const path = `${dir}/${KEYRING_NAME}`;
  const added = keyringOp(() => addDataKey(readWholeFile(fs, path), secretMaterial(fs, secret), path, now));
  installKeyring(fs, dir, added.bytes);
  return added.keys;
}

/**
 * Drops from the KEYRING of `dir` every data key that no file the manifest
 * lists, and no batch a process is staging, names in its header (the current
 * key stays). Returns the ids dropped; none when any such header cannot be
 * read (every key is kept then: a dropped key cannot come back).
 * REQUIRES: the writer lock.
 */
export function dropRetiredKeys(fs: FileSystem, dir: string): number[] {
  const m = readManifest(fs, dir);
  if (m === null) return [];
  const named = new Set<number>();
  const files = [...m.segments.map((s) => ({ name: segmentName(s.file), file: s.file, magic: MAGIC_SEGMENT })), ...m.runs.map((r) => ({ name: runName(r.file), file: r.file, magic: MAGIC_RUN }))];
  for (const { name, file, magic } of files) {
    const id = fileVersionAt(fs, `${dir}/${name}`, magic, file)?.keyId ?? null;
    if (id === null) return [];
    named.add(id);
  }
  // A batch staged now is committed later, by renaming its stage file into the log.
  for (const name of fs.readdir(dir)) {
    if (fileKind(name).kind !== 'stage') continue;
    const id = fileVersionAt(fs, `${dir}/${name}`, MAGIC_SEGMENT, null)?.keyId ?? null;
    if (id === null) return [];
    named.add(id);
  }
  const path = `${dir}/${KEYRING_NAME}`;
  const before = readWholeFile(fs, path);
  const after = keyringOp(() => dropUnusedKeys(before, named, path));
  if (after.equals(before)) return [];
  installKeyring(fs, dir, after);
  const kept = new Set(decodeKeyring(after, path).keys.map((k) => k.id));
  return decodeKeyring(before, path).keys.map((k) => k.id).filter((id) => !kept.has(id));
}

