// What a terminal is shown of text tzkv did not write itself: keys, values,
// file and host names, messages that quote them. A terminal obeys the control
// characters it is sent (ESC [2J clears the screen, OSC sequences set the
// title or write to the clipboard, a carriage return or a bidi override hides
// what came before), so each of them, and each byte that is not UTF-8, is
// shown as an escape instead: \x1b, \u202e, \n. Callers use these functions
// only for a terminal, where pipes and files get the exact bytes — except
// lineField, the fields of a line format (`tzkv watch`), everywhere.

import { isUtf8 } from 'node:buffer';

/** Characters a terminal may act on instead of showing: C0 and C1 controls, DEL, line and paragraph separators, bidi controls. */
const UNSAFE = /[\p{Cc}\p{Zl}\p{Zp}\p{Bidi_Control}]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');

const NAMED: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', '\\': '\\\\', '"': '\\"' };

const hex = (n: number, digits: number) => n.toString(16).padStart(digits, '0');

/** The escape of one character: a name (`\n`), `\xNN` below 0x80, else `\uNNNN`. */
function escapeChar(char: string): string {
  const code = char.codePointAt(0)!;
  return NAMED[char] ?? (code < 0x80 ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`);
}

/**
 * `text` with every unsafe character escaped, except those in `keep` (a
 * value keeps its newlines and tabs; a table cell keeps none). Bytes that are
 * not UTF-8 become `\xNN`. Backslashes are left as they are: the result is
 * for reading, not for parsing back (terminalKey is unambiguous).
 */
export function terminalText(text: string | Buffer, keep = ''): string {
  const escape = (part: string) => part.replace(UNSAFE_ALL, (char) => (keep.includes(char) ? char : escapeChar(char)));
  return typeof text === 'string' ? escape(text) : utf8Pieces(text, escape);
}

/**
 * A key as `tzkv keys` shows it on a terminal: as it is when it is plain
 * UTF-8 text; otherwise in double quotes with C-style escapes (`"a\x1b[2J"`,
 * `"say \"hi\""`), so that every shown line names exactly one key.
 */
export function terminalKey(key: Buffer): string {
  return plainText(key) ?? quoted(key);
}

/**
 * Bytes as one space-separated field of a line (`tzkv watch`), for a
 * terminal and a pipe alike: as terminalKey shows them, quoted also when they
 * are empty or hold a space, so that every line splits into its fields.
 */
export function lineField(bytes: Buffer): string {
  return (bytes.length > 0 && !bytes.includes(0x20) ? plainText(bytes) : undefined) ?? quoted(bytes);
}

/** The text of `bytes` when it is plain UTF-8 with nothing a terminal acts on, no quote and no backslash; else undefined. */
function plainText(bytes: Buffer): string | undefined {
  if (!isUtf8(bytes) || /["\\]/.test(bytes.toString('latin1'))) return undefined;
  const text = bytes.toString('utf8');
  return UNSAFE.test(text) ? undefined : text;
}

/** `bytes` in double quotes with C-style escapes: unambiguous, and nothing in it acts on a terminal. */
function quoted(bytes: Buffer): string {
  const escape = (part: string) => part.replace(/["\\]/g, escapeChar).replace(UNSAFE_ALL, escapeChar);
  return `"${utf8Pieces(bytes, escape)}"`;
}

/** A key as a message quotes it: `"users:42"` (JSON's quoting), or as terminalKey has it when it is not UTF-8. */
export function quotedKey(key: Buffer): string {
  return isUtf8(key) ? JSON.stringify(key.toString('utf8')) : terminalKey(key);
}

/** Decodes `bytes` as UTF-8, passing each valid run through `escape` and writing each other byte as `\xNN`. */
function utf8Pieces(bytes: Buffer, escape: (text: string) => string): string {
  if (isUtf8(bytes)) return escape(bytes.toString('utf8'));
  let shown = '';
  let start = 0;
  let i = 0;
  while (i < bytes.length) {
    const length = utf8SequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    shown += `${escape(bytes.toString('utf8', start, i))}\\x${hex(bytes[i], 2)}`;
    start = ++i;
  }
  return shown + escape(bytes.toString('utf8', start));
}

/** The length of the well-formed UTF-8 sequence at `i` (Unicode's table 3-7), or 0. */
function utf8SequenceLength(bytes: Buffer, i: number): number {
  const lead = bytes[i];
  if (lead < 0x80) return 1;
  const inRange = (at: number, low = 0x80, high = 0xbf) => at < bytes.length && bytes[at] >= low && bytes[at] <= high;
  if (lead >= 0xc2 && lead <= 0xdf) return inRange(i + 1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    const [low, high] = lead === 0xe0 ? [0xa0, 0xbf] : lead === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return inRange(i + 1, low, high) && inRange(i + 2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const [low, high] = lead === 0xf0 ? [0x90, 0xbf] : lead === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return inRange(i + 1, low, high) && inRange(i + 2) && inRange(i + 3) ? 4 : 0;
  }
  return 0;
}

/**
 * A JSON text for a terminal: the characters JSON.stringify leaves raw that a
 * terminal may act on (DEL, C1 controls, separators, bidi controls; it
 * escapes C0 itself) become `\uNNNN`, which parses back to the same document.
 */
export function terminalJson(json: string): string {
  return json.replace(/[\u007f-\u009f\u2028\u2029\p{Bidi_Control}]/gu, (char) => `\\u${hex(char.codePointAt(0)!, 4)}`);
}
