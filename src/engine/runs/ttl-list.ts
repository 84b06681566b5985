// A multiset of (expiresAt, record length) pairs: the expiry times an index
// run adds to or removes from the store's census (docs/design.md "Census").
// Typed arrays, so a run of millions of entries costs 12 bytes an entry.

/** Longer lists are sorted in chunks of this many pairs and merged (TtlList.sortedBatches). */
export const SORT_CHUNK = 1 << 20;

/** Sorts parallel views in place by (expiresAt, length): LSD radix, or by comparison when short. */
function sortRange(exp0: Float64Array, len0: Uint32Array): void {
  const n = exp0.length;
  if (n < 2) return;
  if (n <= 4096) {
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => exp0[a] - exp0[b] || len0[a] - len0[b]);
    const e = Float64Array.from(order, (i) => exp0[i]);
    const l = Uint32Array.from(order, (i) => len0[i]);
    exp0.set(e);
    len0.set(l);
    return;
  }
  // 16-bit digits: the length's two, then expiresAt's four (it is below 2^53).
  let exp = exp0;
  let len = len0;
  let exp2: Float64Array = new Float64Array(n);
  let len2: Uint32Array = new Uint32Array(n);
  const digits = new Uint16Array(n);
  const counts = new Uint32Array(65537);
  for (let pass = 0; pass < 6; pass++) {
    if (pass < 2) {
      const shift = 16 * pass;
      for (let i = 0; i < n; i++) digits[i] = (len[i] >>> shift) & 0xffff;
    } else {
      const scale = 2 ** (16 * (pass - 2));
      for (let i = 0; i < n; i++) digits[i] = Math.floor(exp[i] / scale) & 0xffff;
    }
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[digits[i] + 1]++;
    if (counts[digits[0] + 1] === n) continue; // every entry has the same digit
    for (let d = 0; d < 65536; d++) counts[d + 1] += counts[d];
    for (let i = 0; i < n; i++) {
      const at = counts[digits[i]]++;
      exp2[at] = exp[i];
      len2[at] = len[i];
    }
    [exp, exp2] = [exp2, exp];
    [len, len2] = [len2, len];
  }
  if (exp !== exp0) {
    exp0.set(exp);
    len0.set(len);
  }
}

export class TtlList {
  exp: Float64Array;
  len: Uint32Array;
  length = 0;

  constructor(capacity = 64) {
    this.exp = new Float64Array(capacity);
    this.len = new Uint32Array(capacity);
  }

  push(expiresAt: number, length: number): void {
    if (this.length === this.exp.length) this.grow(Math.ceil(this.length * 1.5) + 16); // 1.5x: a compaction's list may hold millions
    this.exp[this.length] = expiresAt;
    this.len[this.length] = length;
    this.length++;
  }

  private grow(capacity: number): void {
    const exp = new Float64Array(capacity);
    exp.set(this.exp.subarray(0, this.length));
    const len = new Uint32Array(capacity);
    len.set(this.len.subarray(0, this.length));
    this.exp = exp;
    this.len = len;
  }

  /** Sorts in place by (expiresAt, length). Lists past SORT_CHUNK take 12 bytes a pair more for the merge. */
  sort(): this {
    const n = this.length;
    if (n <= SORT_CHUNK) {
      sortRange(this.exp.subarray(0, n), this.len.subarray(0, n));
      return this;
    }
    const exp = new Float64Array(n);
    const len = new Uint32Array(n);
    let at = 0;
    for (const b of this.sortedBatches(1 << 16)) {
      exp.set(b.exp.subarray(0, b.n), at);
      len.set(b.len.subarray(0, b.n), at);
      at += b.n;
    }
    this.exp = exp;
    this.len = len;
    return this;
  }

  /**
   * The pairs in (expiresAt, length) order, in batches of up to `size`
   * (reused buffers: use each before asking for the next). Sorts chunks of
   * SORT_CHUNK pairs in place and merges them as it goes, so a compaction's
   * list of millions needs ~14 MB of scratch, not 14 bytes a pair. Leaves the
   * list sorted only when it is one chunk.
   */
  *sortedBatches(size: number): Generator<{ exp: Float64Array; len: Uint32Array; n: number }> {
    const n = this.length;
    const { exp, len } = this;
    const starts: number[] = [];
    const ends: number[] = [];
    for (let from = 0; from < n; from += SORT_CHUNK) {
      const to = Math.min(n, from + SORT_CHUNK);
      sortRange(exp.subarray(from, to), len.subarray(from, to));
      starts.push(from);
      ends.push(to);
    }
    if (starts.length <= 1) {
      for (let from = 0; from < n; from += size) {
        const to = Math.min(n, from + size);
        yield { exp: exp.subarray(from, to), len: len.subarray(from, to), n: to - from };
      }
      return;
    }
    const bexp = new Float64Array(size);
    const blen = new Uint32Array(size);
    let k = 0;
    for (;;) {
      let best = -1;
      for (let c = 0; c < starts.length; c++) {
        const i = starts[c];
        if (i >= ends[c]) continue;
        const j = best < 0 ? -1 : starts[best];
        if (best < 0 || exp[i] < exp[j] || (exp[i] === exp[j] && len[i] < len[j])) best = c;
      }
      if (best < 0) break;
      const i = starts[best]++;
      bexp[k] = exp[i];
      blen[k] = len[i];
      if (++k === size) {
        yield { exp: bexp, len: blen, n: k };
        k = 0;
      }
    }
    if (k > 0) yield { exp: bexp, len: blen, n: k };
  }

  /** Appends every pair of `other`. */
  addAll(other: TtlList): void {
    if (this.length + other.length > this.exp.length) this.grow(this.length + other.length);
    this.exp.set(other.exp.subarray(0, other.length), this.length);
    this.len.set(other.len.subarray(0, other.length), this.length);
    this.length += other.length;
  }

  /**
   * This multiset minus `other`, both sorted. Returns the pairs of `other` not
   * found here (a census that does not add up: the caller reports it).
   */
  subtractSorted(other: TtlList): number {
    let w = 0;
    let j = 0;
    let missing = 0;
    for (let i = 0; i < this.length; i++) {
      while (j < other.length && before(other, j, this, i)) {
        j++;
        missing++;
      }
      if (j < other.length && other.exp[j] === this.exp[i] && other.len[j] === this.len[i]) {
        j++;
        continue;
      }
      this.exp[w] = this.exp[i];
      this.len[w] = this.len[i];
      w++;
    }
    this.length = w;
    return missing + (other.length - j);
  }

  /** Count and total length of the pairs with expiresAt ≤ now (any order). */
  countUpTo(now: number): { count: number; bytes: number } {
    let count = 0;
    let bytes = 0;
    for (let i = 0; i < this.length; i++) {
      if (this.exp[i] <= now) {
        count++;
        bytes += this.len[i];
      }
    }
    return { count, bytes };
  }
}

function before(a: TtlList, i: number, b: TtlList, j: number): boolean {
  return a.exp[i] < b.exp[j] || (a.exp[i] === b.exp[j] && a.len[i] < b.len[j]);
}
