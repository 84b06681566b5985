// Merging sorted entry streams into index runs: the k-way merge of runs
// (newest wins), and ordering a batch's keys. Pure over readers and writers.
import { KIND_DEL, KIND_PUT } from '../../format/constants.js';
import type { IndexEntry } from '../../format/index-block.js';
import type { RunReader } from './run-reader.js';
import type { RunWriter } from './run-writer.js';
import type { TtlList } from './ttl-list.js';

/**
 * Indices of keys in ascending order, keeping only the last occurrence of each
 * key; null when the keys already strictly ascend (the order is the identity).
 */
export function sortedUnique(keys: string[], onShadowed: (index: number) => void): Uint32Array | null {
  const n = keys.length;
  let sorted = true;
  for (let i = 1; i < n; i++) {
    if (!(keys[i - 1] < keys[i])) {
      sorted = false;
      break;
    }
  }
  if (sorted) return null;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b));
  const out = new Uint32Array(n);
  let m = 0;
  for (let j = 0; j < n; j++) {
    if (j + 1 < n && keys[idx[j + 1]] === keys[idx[j]]) onShadowed(idx[j]);
    else out[m++] = idx[j];
  }
  return out.subarray(0, m);
}

/**
 * The newest entry of each key across runs (index 0 newest), in key order,
 * streaming: one cursor per run. Every older entry of a key is passed to
 * `onShadowed` before the key's newest is yielded.
 */
export function* newestEntries(readers: RunReader[], onShadowed: (e: IndexEntry) => void): Generator<IndexEntry> {
  const empty = Buffer.alloc(0);
  const its = readers.map((r) => r.cursor(empty));
  const heads = its.map((it) => it.next().value);
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h && (best < 0 || Buffer.compare(h.key, heads[best]!.key) < 0)) best = i;
    }
    if (best < 0) return;
    const e = heads[best]!;
    // Occurrences of the key, newest first: best is the newest (ties go to the lower index).
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h && (i === best || h.key.equals(e.key))) {
        if (i !== best) onShadowed(h);
        heads[i] = its[i].next().value;
      }
    }
    yield e;
  }
}

/**
 * k-way merge of runs (index 0 newest) into w; returns the bytes of shadowed
 * entries. At the bottom, tombstones are dropped. Expired entries are kept:
 * the census counts them until a compaction drops them (docs/design.md
 * "Census"). Every PUT with an expiry that a newer entry of the group shadows
 * is pushed to `shadowed`: the group's runs had listed it as removed.
 */
export function mergeInto(w: RunWriter, readers: RunReader[], bottom: boolean, shadowed: TtlList): number {
  let dead = 0;
  const older = (h: IndexEntry) => {
    dead += h.length;
    if (h.kind === KIND_PUT && h.expiresAt > 0) shadowed.push(h.expiresAt, h.length);
  };
  for (const e of newestEntries(readers, older)) {
    if (bottom && e.kind === KIND_DEL) {
      dead += e.length;
      continue;
    }
    w.add(e.key.toString('latin1'), e.kind, e.segment, e.offset, e.length, e.expiresAt, e.group, e.groupLength);
  }
  return dead;
}
