// A store's beginning (docs/format.md "The store directory"): its first
// segment and the first manifest, plain (version 1) or as the codec it is
// created with says (version 2: encrypted and/or compressed, for good).
import { fileVersionFor } from '../../format/file-header.js';
import type { Manifest } from '../../format/manifest.js';
import type { StoreCodec } from '../../format/store-codec.js';
import type { FileSystem } from '../../io/fs.js';
import type { Processes } from '../../io/processes.js';
import { removeLeftovers } from '../files/leftovers.js';
import { newManifest, settingsOf } from '../files/store-manifest.js';
import { createSegment } from './active-segment.js';

/**
 * Starts a store in `dir`, which holds none: removes leftovers, creates
 * segment 1 stamped for `codec`, and returns the first manifest, for the
 * caller to install (store-manifest.ts installManifest). REQUIRES: the writer lock.
 */
export function startStore(fs: FileSystem, dir: string, codec: StoreCodec, now: number, processes: Processes): Manifest {
  removeLeftovers(fs, dir, null, processes);
  createSegment(fs, dir, 1, codec);
  const { keyId } = fileVersionFor(codec);
  const segment = { file: 1, size: null, ...(keyId > 0 ? { key: keyId } : {}) };
  return newManifest({ segments: [segment], nextFile: 2, now, census: { keys: 0, bytes: 0 }, settings: settingsOf(codec) });
}
