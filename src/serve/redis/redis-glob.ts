// KEYS and SCAN MATCH patterns, matched as Redis 7.0's stringmatchlen
// (util.c) matches them, which src/cli/glob.ts does not: bytes, not UTF-8
// characters; no pattern is malformed (an unclosed "[" takes the rest of the
// pattern as its set, a range may run backwards, "[a-]" is the range a..]);
// "^" negates a set and "!" does not; a byte of a range compares as a signed
// char (x86-64), so [a-\xff] is \xff..a. `*` any run of bytes, `?` one byte,
// `\` makes the next byte literal (a trailing one is itself).
//
// The matcher walks the pattern as the C code does, reading the byte after
// the end as the NUL that ends every Redis string. Recursion stops at 1000
// nested stars, as Redis 7.2's does (7.0 has no limit), so a pattern cannot
// exhaust the stack.

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;
const BACKSLASH = 0x5c;
const MAX_NESTING = 1000;

/** Whether `key` matches `pattern`, as Redis's KEYS and SCAN MATCH decide. */
export function globMatches(pattern: Buffer, key: Buffer): boolean {
  return new Matcher(pattern, key).match(0, 0, 0);
}

/**
 * The bytes every key that matches `pattern` starts with (those before its
 * first `*`, `?` or `[`, escapes undone): a listing needs only keys with
 * this prefix.
 */
export function globPrefix(pattern: Buffer): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const byte = pattern[i];
    if (byte === STAR || byte === QUESTION || byte === OPEN) break;
    if (byte === BACKSLASH && i + 1 < pattern.length) i++;
    bytes.push(pattern[i]);
  }
  return Buffer.from(bytes);
}

const signedChar = (byte: number) => (byte << 24) >> 24;

class Matcher {
  /** Set when the rest of the pattern after a star matched nowhere: no longer match of an earlier star can help. */
  private skipLongerMatches = false;

  constructor(
    private readonly pattern: Buffer,
    private readonly text: Buffer,
  ) {}

  /** The pattern's byte at `i`; 0 past its end, as the NUL after a Redis string. */
  private at(i: number): number {
    return i < this.pattern.length ? this.pattern[i] : 0;
  }

  /** Whether the pattern from `p` matches the text from `s` to the end. */
  match(p: number, s: number, nesting: number): boolean {
    if (nesting > MAX_NESTING) return false;
    const { pattern, text } = this;
    while (p < pattern.length && s < text.length) {
      const byte = pattern[p];
      if (byte === STAR) {
        while (p + 1 < pattern.length && this.at(p + 1) === STAR) p++;
        if (p + 1 === pattern.length) return true;
        for (; s < text.length; s++) {
          if (this.match(p + 1, s, nesting + 1)) return true;
          if (this.skipLongerMatches) return false;
        }
        this.skipLongerMatches = true;
        return false;
      } else if (byte === QUESTION) {
        s++;
      } else if (byte === OPEN) {
        const set = this.set(p + 1, text[s]);
        if (!set.matched) return false;
        p = set.end;
        s++;
      } else {
        if (byte === BACKSLASH && p + 2 <= pattern.length) p++;
        if (pattern[p] !== text[s]) return false;
        s++;
      }
      p++;
      if (s === text.length) {
        while (this.at(p) === STAR) p++;
        break;
      }
    }
    return p === pattern.length && s === text.length;
  }

  /**
   * The set whose first byte (after "[") is at `p`: whether `c` is in it (or
   * not, for "[^"), and where it ends: its "]", or the pattern's last byte
   * when none closes it.
   */
  private set(p: number, c: number): { matched: boolean; end: number } {
    const { pattern } = this;
    const negated = this.at(p) === CARET;
    if (negated) p++;
    let matched = false;
    for (;;) {
      const left = pattern.length - p;
      if (this.at(p) === BACKSLASH && left >= 2) {
        p++;
        if (pattern[p] === c) matched = true;
      } else if (this.at(p) === CLOSE) {
        break;
      } else if (left <= 0) {
        p--;
        break;
      } else if (left >= 3 && pattern[p + 1] === DASH) {
        let start = signedChar(pattern[p]);
        let end = signedChar(pattern[p + 2]);
        if (start > end) [start, end] = [end, start];
        const signed = signedChar(c);
        if (signed >= start && signed <= end) matched = true;
        p += 2;
      } else if (pattern[p] === c) {
        matched = true;
      }
      p++;
    }
    return { matched: matched !== negated, end: p };
  }
}
