// The files a manifest names, held against what is in the directory: which
// of them went missing, and which file numbers are taken on disk
// (docs/format.md "The store directory", "Recovery rules").
import { TzkvError } from '../../errors.js';
import type { Manifest } from '../../format/manifest.js';
import { fileKind } from './file-kinds.js';
import { runName, segmentName } from './layout.js';

/** The segments and index runs a manifest lists, by file name. */
export function listedNames(m: Manifest): Set<string> {
  return new Set([...m.segments.map((s) => segmentName(s.file)), ...m.runs.map((r) => runName(r.file))]);
}

/** Of the files `m` lists, those not among `names` (a listing of its directory), in manifest order. */
export function missingFiles(m: Manifest, names: Iterable<string>): string[] {
  const present = new Set(names);
  return [...listedNames(m)].filter((n) => !present.has(n));
}

/** A file the manifest lists that is not on disk; `then`: what that means for the command, and what to run. */
export function missingFileError(dir: string, name: string, then: string): TzkvError {
  return new TzkvError('CORRUPT', `${name} is missing: the store's manifest lists it, but it is not in ${dir}; ${then}`, { path: `${dir}/${name}` });
}

/**
 * The highest file number a name in `names` carries: segments, runs, and the
 * temporary files written under a number (0 when none does). A writer numbers
 * new files above it, so no number still on disk is ever taken again.
 */
export function highestFileNumber(names: Iterable<string>): number {
  let high = 0;
  for (const name of names) high = Math.max(high, fileKind(name).file);
  return high;
}
