// A listing's merge of a view's sources: the active segment's tail, then the
// index runs newest first. Each key comes out once, from its newest source;
// a run that cannot be opened, or a damaged leaf, is stepped over when the
// caller passes onDamage (docs/design.md "Reading past damage").
import { isTzkvError } from '../../errors.js';
import type { IndexEntry } from '../../format/index-block.js';
import { damageOf, type OnDamage, stepOver } from '../damage.js';
import { keyRange } from '../runs/run-range.js';
import type { RunReader } from '../runs/run-reader.js';
import type { Located, View } from './view.js';

/**
 * All newest entries with key >= start and starting with prefix, in key
 * order, tombstones included. Sources: the tail, then runs newest first.
 * With `onDamage`, damage is reported and stepped over: each entry is the
 * newest readable one of its key (docs/design.md "Reading past damage");
 * without it, damage throws CORRUPT.
 */
export function* mergedEntries(view: View, prefix: Buffer, start: Buffer, onDamage?: OnDamage): Generator<{ key: Buffer } & Located> {
  const m = view.manifest;
  if (!m) return;
  view.reportTailDamage(onDamage);
  const active = m.active.file;
  const startStr = start.toString('latin1');
  const tailEntries = view.tailSorted();
  let lo = 0;
  let hi = tailEntries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (tailEntries[mid].key < startStr) lo = mid + 1;
    else hi = mid;
  }
  type Src = { next: () => ({ key: Buffer } & Located) | undefined; head: ({ key: Buffer } & Located) | undefined };
  const sources: Src[] = [];
  let ti = lo;
  const tailSrc: Src = {
    head: undefined,
    next: () => {
      if (ti >= tailEntries.length) return undefined;
      const t = tailEntries[ti++];
      return { key: Buffer.from(t.key, 'latin1'), kind: t.kind, segment: active, offset: t.offset, length: t.length, expiresAt: t.expiresAt, group: t.group, groupLength: t.groupLength };
    },
  };
  sources.push(tailSrc);
  for (let i = 0; i < m.runs.length; i++) {
    const info = m.runs[i];
    if (info.entries === 0) continue;
    const range = keyRange(info, view.codec, view.dir);
    if (Buffer.compare(range.max, start) < 0) continue;
    if (prefix.length > 0 && Buffer.compare(range.min, prefix) > 0 && !range.min.subarray(0, prefix.length).equals(prefix)) continue;
    let run: RunReader;
    try {
      run = view.run(i);
    } catch (err) {
      if (!isTzkvError(err, 'CORRUPT')) throw err;
      stepOver(onDamage, damageOf(err, 'corrupt-index'), () => err); // the whole run: older runs answer for its keys
      continue;
    }
    const it = run.cursor(start, onDamage);
    sources.push({ head: undefined, next: () => { const r = it.next(); return r.done ? undefined : (r.value as IndexEntry); } });
  }
  for (const s of sources) s.head = s.next();
  for (;;) {
    let best = -1;
    for (let i = 0; i < sources.length; i++) {
      const h = sources[i].head;
      if (h && (best < 0 || Buffer.compare(h.key, sources[best].head!.key) < 0)) best = i;
    }
    if (best < 0) return;
    const winner = sources[best].head!;
    if (prefix.length > 0 && !(winner.key.length >= prefix.length && winner.key.subarray(0, prefix.length).equals(prefix))) return;
    // Advance every source past this key; the lowest index (newest) wins.
    for (let i = 0; i < sources.length; i++) {
      const h = sources[i].head;
      if (h && (i === best || h.key.equals(winner.key))) sources[i].head = sources[i].next();
    }
    yield winner;
  }
}
