// The common shape of a JSON Lines import line, read as bytes: a flat object
// whose fields are strings without escapes, or null, such as `tzkv export`
// writes ({"key":"k","value":"v","expiresAt":null}). Its key and value are
// then spans of the line itself, the bytes JSON.parse and fromRecord would
// give (src/text/records.ts). Any other line is left to them: they decide what it
// holds, or what is wrong with it.

import { isUtf8 } from 'node:buffer';
import { ViewOf } from '../format/bytes.js';
import { MAX_EXPIRY_MS } from '../format/constants.js';

const [QUOTE, BACKSLASH, COLON, COMMA, OPEN, CLOSE] = Buffer.from('"\\:,{}');

/** The fields fromRecord reads, numbered from 1 in this order (0: any other). */
const NAMES = ['key', 'value', 'expiresAt', 'encoding', 'keyEncoding'].map((name) => Buffer.from(name));
const [OTHER, KEY, VALUE, EXPIRES_AT, ENCODING, KEY_ENCODING] = [0, 1, 2, 3, 4, 5];
const UTF8 = Buffer.from('utf8');
/** The words of the region being scanned. */
const views = new ViewOf();

/** What scanJsonLine found; reused from line to line. */
export class JsonLineFields {
  keyStart = 0;
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  /** ms since the epoch, or null: never. */
  expiresAt: number | null = null;
}

/**
 * Reads buf[start, end), one line without its `\n`, into `out` when it is an
 * entry in the common shape: a flat object, every field a string without
 * escapes (its bytes valid UTF-8) or null, with a non-empty "key", a "value",
 * an "expiresAt" null, absent or a time tzkv stores, and text encodings
 * ("utf8", null or absent); other fields are ignored, as fromRecord does.
 * Returns false for anything else, blank lines included: the caller reads
 * those the general way, which also says what is wrong.
 */
export function scanJsonLine(buf: Buffer, start: number, end: number, out: JsonLineFields): boolean {
  let i = skipSpace(buf, start, end);
  if (i === end || buf[i] !== OPEN) return false;
  let seen = 0;
  let keyStart = -1;
  let keyEnd = -1;
  let valueStart = -1;
  let valueEnd = -1;
  let expiresStart = -1;
  let expiresEnd = -1;
  i = skipSpace(buf, i + 1, end);
  for (;;) {
    if (i === end || buf[i] !== QUOTE) return false;
    const nameEnd = stringEnd(buf, i + 1, end);
    if (nameEnd < 0) return false;
    const field = fieldOf(buf, i + 1, nameEnd);
    if (field !== OTHER) {
      if ((seen & (1 << field)) !== 0) return false; // JSON.parse would keep the last: left to it
      seen |= 1 << field;
    }
    i = skipSpace(buf, nameEnd + 1, end);
    if (i === end || buf[i] !== COLON) return false;
    i = skipSpace(buf, i + 1, end);
    if (i === end) return false;
    let textStart = -1;
    let textEnd = -1;
    if (buf[i] === QUOTE) {
      textStart = i + 1;
      textEnd = stringEnd(buf, textStart, end);
      if (textEnd < 0) return false;
      i = textEnd + 1;
    } else if (i + 4 <= end && buf[i] === 0x6e && buf[i + 1] === 0x75 && buf[i + 2] === 0x6c && buf[i + 3] === 0x6c) {
      i += 4; // null
    } else {
      return false;
    }
    if (field === KEY || field === VALUE) {
      if (textStart < 0) return false;
      if (field === KEY) [keyStart, keyEnd] = [textStart, textEnd];
      else [valueStart, valueEnd] = [textStart, textEnd];
    } else if (field === EXPIRES_AT) {
      [expiresStart, expiresEnd] = [textStart, textEnd];
    } else if (field === ENCODING || field === KEY_ENCODING) {
      if (textStart >= 0 && !equalBytes(buf, textStart, textEnd, UTF8)) return false;
    }
    i = skipSpace(buf, i, end);
    if (i === end) return false;
    if (buf[i] === COMMA) {
      i = skipSpace(buf, i + 1, end);
      continue;
    }
    if (buf[i] !== CLOSE || skipSpace(buf, i + 1, end) !== end) return false;
    break;
  }
  if (keyStart < 0 || keyStart === keyEnd || valueStart < 0) return false;
  let expiresAt: number | null = null;
  if (expiresStart >= 0) {
    for (let i = expiresStart; i < expiresEnd; i++) if (buf[i] >= 0x80) return false; // its latin1 form is its text only when ASCII
    expiresAt = Date.parse(buf.toString('latin1', expiresStart, expiresEnd));
    if (!Number.isFinite(expiresAt) || expiresAt > MAX_EXPIRY_MS) return false;
  }
  out.keyStart = keyStart;
  out.keyEnd = keyEnd;
  out.valueStart = valueStart;
  out.valueEnd = valueEnd;
  out.expiresAt = expiresAt;
  return true;
}

/** The first index at or after i in [i, end) that is not JSON whitespace. */
function skipSpace(buf: Buffer, i: number, end: number): number {
  while (i < end) {
    const b = buf[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) break;
    i++;
  }
  return i;
}

/** A word of four 0x01 bytes, and of four 0x80: multiplied by a byte, the byte four times; the high bits. */
const ONES = 0x01010101;
const HIGHS = 0x80808080 | 0;

/**
 * Where the string whose text starts at `i` ends (its closing quote), or -1
 * when it has an escape or a control character, is not valid UTF-8, or does
 * not end on the line. Four bytes a step while none of them is a quote, a
 * backslash, a control character or past ASCII (tested together on a word:
 * a zero byte of w ^ byte·ONES is that byte, and (v − ONES) & ~v & HIGHS is
 * nonzero exactly when v has a zero byte; w − 0x20·ONES likewise flags a
 * byte below 0x20, or, past ASCII, any: such a word is read byte by byte).
 */
function stringEnd(buf: Buffer, i: number, end: number): number {
  const start = i;
  const view = views.of(buf);
  let ascii = true;
  while (i < end) {
    if (i + 4 <= end) {
      const w = view.getInt32(i, true);
      const quote = w ^ (QUOTE * ONES);
      const backslash = w ^ (BACKSLASH * ONES);
      const special = ((quote - ONES) & ~quote) | ((backslash - ONES) & ~backslash) | ((w - 0x20 * ONES) & ~w) | w;
      if ((special & HIGHS) === 0) {
        i += 4;
        continue;
      }
    }
    const b = buf[i];
    if (b === QUOTE) return ascii || isUtf8(buf.subarray(start, i)) ? i : -1;
    if (b === BACKSLASH || b < 0x20) return -1;
    if (b >= 0x80) ascii = false;
    i++;
  }
  return -1;
}

function fieldOf(buf: Buffer, start: number, end: number): number {
  for (let i = 0; i < NAMES.length; i++) if (equalBytes(buf, start, end, NAMES[i])) return i + 1;
  return OTHER;
}

function equalBytes(buf: Buffer, start: number, end: number, bytes: Buffer): boolean {
  if (end - start !== bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (buf[start + i] !== bytes[i]) return false;
  return true;
}
