// A multiset of (expiresAt, record length) pairs: the expiry times an index
// run adds to or removes from the store's census (docs/design.md "Census").
// Typed arrays, so a run of millions of entries costs 12 bytes an entry.

/** Lists longer than this sort with less scratch memory (sortLean). */
export const LEAN_SORT_FROM = 1 << 20;

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

  /** Sorts in place by (expiresAt, length). */
  sort(): this {
    const n = this.length;
    if (n < 2) return this;
    if (n <= 4096) return this.sortSmall();
    if (n > LEAN_SORT_FROM) return this.sortLean();
    // LSD radix, 16-bit digits: the length's two, then expiresAt's four (it is below 2^53).
    let exp: Float64Array = this.exp.subarray(0, n);
    let len: Uint32Array = this.len.subarray(0, n);
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
    if (exp.buffer !== this.exp.buffer) {
      this.exp.set(exp);
      this.len.set(len);
    }
    return this;
  }

  /**
   * For lists of millions (a compaction's run): an index sorted by comparison,
   * then applied in place by following its cycles. 4.1 bytes of scratch an
   * entry instead of the radix sort's 14; slower, once per compaction.
   */
  private sortLean(): this {
    const n = this.length;
    const { exp, len } = this;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => exp[a] - exp[b] || len[a] - len[b]);
    const done = new Uint8Array((n + 7) >>> 3);
    for (let start = 0; start < n; start++) {
      if (done[start >>> 3] & (1 << (start & 7))) continue;
      // Position i takes the entry at order[i]: walk the cycle through start.
      const e0 = exp[start];
      const l0 = len[start];
      let i = start;
      for (;;) {
        done[i >>> 3] |= 1 << (i & 7);
        const from = order[i];
        if (from === start) {
          exp[i] = e0;
          len[i] = l0;
          break;
        }
        exp[i] = exp[from];
        len[i] = len[from];
        i = from;
      }
    }
    return this;
  }

  private sortSmall(): this {
    const n = this.length;
    const order = Array.from({ length: n }, (_, i) => i);
    const { exp, len } = this;
    order.sort((a, b) => exp[a] - exp[b] || len[a] - len[b]);
    const e = Float64Array.from(order, (i) => exp[i]);
    const l = Uint32Array.from(order, (i) => len[i]);
    exp.set(e);
    len.set(l);
    return this;
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
