// A run's key range, as lookups and listings skip runs by it (docs/format.md
// "MANIFEST" `runs`). In an encrypted store the MANIFEST holds it sealed
// (src/format/run-range.ts): RunInfo.minKey/maxKey are those stored bytes,
// which code without the key (verify, replicate, a manifest edit) carries
// unchanged, and only a reader with the key opens them, here.
import type { KeyObject } from 'node:crypto';
import { REPAIR_HINT, TzkvError } from '../../errors.js';
import { MANIFEST_NAME } from '../../format/constants.js';
import type { RunInfo } from '../../format/manifest.js';
import { type RangeEnd, openRangeKey, sealRangeKey } from '../../format/run-range.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { dataKey } from '../data-key.js';

/** A run's smallest and largest key, plain. */
export interface KeyRange {
  readonly min: Buffer;
  readonly max: Buffer;
}

/**
 * Ranges opened so far, by the stored minKey buffer: a manifest's run entries
 * keep theirs through cloneManifest, so a range is opened once per manifest
 * read, not once per lookup. Sealed bytes open to the same key under any
 * codec that opens them at all, so the memo holds across codecs.
 */
const opened = new WeakMap<Buffer, KeyRange>();

/**
 * The plain key range of run `info` of the store in `dir`. For a run of an
 * encrypted store, opens it with the run's data key: KEY_REQUIRED without the
 * secret, CORRUPT (reason "authentication failed") when a tag fails.
 */
export function keyRange(info: RunInfo, codec: StoreCodec, dir: string): KeyRange {
  if (info.key === undefined) return { min: info.minKey, max: info.maxKey };
  let range = opened.get(info.minKey);
  if (range === undefined) {
    const key = dataKey(codec, info.key, `${dir}/${MANIFEST_NAME}`);
    range = { min: openEnd(info, 'min', key, dir), max: openEnd(info, 'max', key, dir) };
    opened.set(info.minKey, range);
  }
  return range;
}

function openEnd(info: RunInfo, end: RangeEnd, key: KeyObject, dir: string): Buffer {
  const plain = openRangeKey(end, info.file, end === 'min' ? info.minKey : info.maxKey, key);
  if (plain !== null) return plain;
  const reason = `run ${info.file}'s ${end}Key: authentication failed (changed bytes, or not this run's)`;
  throw new TzkvError('CORRUPT', `${MANIFEST_NAME}: ${reason}; ${REPAIR_HINT}`, { path: `${dir}/${MANIFEST_NAME}`, info: { reason } });
}

/** False when `key` lies outside the run's range (the run cannot hold it); an empty run holds nothing. */
export function mayHold(info: RunInfo, codec: StoreCodec, dir: string, key: Buffer): boolean {
  if (info.entries === 0) return false;
  const range = keyRange(info, codec, dir);
  return Buffer.compare(key, range.min) >= 0 && Buffer.compare(key, range.max) <= 0;
}

/**
 * The range fields of a new run's manifest entry: the keys themselves, or
 * with `sealWith` (an encrypted run: its data key and id) sealed, remembered
 * as opened so the writer's own reads need not open them.
 */
export function storedRange(file: number, min: Buffer, max: Buffer, sealWith?: { key: KeyObject; id: number }): Pick<RunInfo, 'minKey' | 'maxKey' | 'key'> {
  if (sealWith === undefined) return { minKey: min, maxKey: max };
  const stored = { minKey: sealRangeKey('min', file, min, sealWith.key), maxKey: sealRangeKey('max', file, max, sealWith.key), key: sealWith.id };
  opened.set(stored.minKey, { min, max });
  return stored;
}
