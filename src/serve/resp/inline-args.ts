// The words of an inline command (`SET greeting "hello world"\r\n`), split as
// Redis's sdssplitargs splits them: blanks separate words; "double quotes"
// take the escapes \n \r \t \b \a \xHH and \<any>; 'single quotes' take \'
// only; a closing quote must be followed by a blank or the end of the line.
// A NUL byte ends the line (sdssplitargs reads a C string).

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const BACKSLASH = 0x5c;

/** C's isspace: what is skipped before a word and must follow a closing quote. */
function isBlank(byte: number): boolean {
  return byte === SPACE || (byte >= TAB && byte <= CR);
}

/** What ends an unquoted word (not \v and \f, which sdssplitargs keeps inside one). */
function endsWord(byte: number): boolean {
  return byte === SPACE || byte === LF || byte === CR || byte === TAB;
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

const ESCAPES: Record<number, number> = { 0x6e: LF, 0x72: CR, 0x74: TAB, 0x62: 0x08, 0x61: 0x07 };

/**
 * The words of `line[start, end)` (the line without its \r\n), or null when a
 * quote is unbalanced. A word without quotes is a view of `line` (not copied).
 */
export function splitInlineArgs(line: Buffer, start: number, end: number): Buffer[] | null {
  const nul = line.indexOf(0, start);
  if (nul !== -1 && nul < end) end = nul;
  const words: Buffer[] = [];
  let p = start;
  for (;;) {
    while (p < end && isBlank(line[p]!)) p++;
    if (p >= end) return words;
    const wordStart = p;
    while (p < end && !endsWord(line[p]!) && line[p] !== DQUOTE && line[p] !== SQUOTE) p++;
    if (p >= end || endsWord(line[p]!)) {
      words.push(line.subarray(wordStart, p));
      continue;
    }
    const bytes: number[] = [];
    for (let i = wordStart; i < p; i++) bytes.push(line[i]!);
    p = line[p] === DQUOTE ? readDoubleQuoted(line, p + 1, end, bytes) : readSingleQuoted(line, p + 1, end, bytes);
    if (p < 0) return null;
    words.push(Buffer.from(bytes));
  }
}

/** Reads from after the opening quote; returns the index after the closing one, or -1 when unbalanced. */
function readDoubleQuoted(line: Buffer, p: number, end: number, out: number[]): number {
  for (;;) {
    if (p >= end) return -1;
    const byte = line[p]!;
    if (byte === BACKSLASH && p + 3 < end && line[p + 1] === 0x78) {
      const high = hexValue(line[p + 2]!);
      const low = hexValue(line[p + 3]!);
      if (high >= 0 && low >= 0) {
        out.push(high * 16 + low);
        p += 4;
        continue;
      }
    }
    if (byte === BACKSLASH && p + 1 < end) {
      const escaped = line[p + 1]!;
      out.push(ESCAPES[escaped] ?? escaped);
      p += 2;
    } else if (byte === DQUOTE) {
      return closingQuote(line, p, end);
    } else {
      out.push(byte);
      p++;
    }
  }
}

function readSingleQuoted(line: Buffer, p: number, end: number, out: number[]): number {
  for (;;) {
    if (p >= end) return -1;
    const byte = line[p]!;
    if (byte === BACKSLASH && p + 1 < end && line[p + 1] === SQUOTE) {
      out.push(SQUOTE);
      p += 2;
    } else if (byte === SQUOTE) {
      return closingQuote(line, p, end);
    } else {
      out.push(byte);
      p++;
    }
  }
}

function closingQuote(line: Buffer, p: number, end: number): number {
  if (p + 1 < end && !isBlank(line[p + 1]!)) return -1;
  return p + 1;
}
