// The words of a `tzkv batch` line (docs/cli.md "batch"), and the same
// quoting for what batch prints, so that a value it prints reads back as
// the same bytes:
//   Words are separated by spaces and tabs.
//   A word that starts with `"` is quoted: it ends at the next `"` not
//   escaped, which must end the line or be followed by a space or a tab.
//   Inside, \" \\ \n \t \r and \xHH (two hex digits) are escapes, any other
//   backslash is an error; every other byte stands for itself.
//   Any other word is taken as it is, byte for byte, up to the next space or
//   tab: backslashes and quotes inside it are plain bytes.

import { isUtf8 } from 'node:buffer';

const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** A line whose words cannot be read; the message says why (the caller names the line). */
export class WordError extends Error {}

/** A word: bytes[start, end). A plain word lies in the line itself, a quoted one in bytes of its own. */
export interface Word {
  bytes: Buffer;
  start: number;
  end: number;
}

/**
 * Reads lines into words without a Buffer or an array per word (a batch of
 * 10,000 lines would spend its time making them): `words` is reused by every
 * read(), and a word lies in the line's own bytes unless it was quoted.
 */
export class LineWords {
  /** The first MAX_WORDS words of the last line read; `count` says how many the line had. */
  readonly words: Word[] = Array.from({ length: MAX_WORDS }, () => ({ bytes: EMPTY, start: 0, end: 0 }));
  count = 0;

  /** Reads the words of input[start, end); throws WordError when they cannot be read. */
  read(input: Buffer, start: number, end: number): void {
    this.count = 0;
    let i = start;
    for (;;) {
      while (i < end && isBlank(input[i])) i++;
      if (i === end) return;
      const word = this.count < MAX_WORDS ? this.words[this.count] : SPARE;
      this.count++;
      if (input[i] === QUOTE) {
        i = quotedWord(input, i, end, word, start);
      } else {
        word.bytes = input;
        word.start = i;
        while (i < end && !isBlank(input[i])) i++;
        word.end = i;
      }
    }
  }
}

/** No batch operation has more words than this (put KEY VALUE TTL); more are counted, not kept. */
const MAX_WORDS = 4;
const EMPTY = Buffer.alloc(0);
const SPARE: Word = { bytes: EMPTY, start: 0, end: 0 };

const ESCAPED: Record<number, number> = { [QUOTE]: QUOTE, [BACKSLASH]: BACKSLASH, 0x6e: 0x0a, 0x74: TAB, 0x72: 0x0d };

const isBlank = (byte: number) => byte === SPACE || byte === TAB;

/** Decodes the quoted word whose opening quote is at `at` into `word`; returns where the line goes on after it. Columns count from `lineStart`. */
function quotedWord(input: Buffer, at: number, end: number, word: Word, lineStart: number): number {
  const out: number[] = [];
  let i = at + 1;
  for (;;) {
    if (i >= end) throw new WordError(`a quoted word is not closed (the " at column ${at - lineStart + 1} has no closing ")`);
    const byte = input[i];
    if (byte === QUOTE) break;
    if (byte !== BACKSLASH) {
      out.push(byte);
      i++;
      continue;
    }
    const next = i + 1 < end ? input[i + 1] : undefined;
    if (next === 0x78) {
      const hex = input.toString('latin1', i + 2, Math.min(i + 4, end));
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new WordError(`\\x must be followed by two hex digits, got "\\x${hex}"`);
      out.push(parseInt(hex, 16));
      i += 4;
    } else if (next !== undefined && ESCAPED[next] !== undefined) {
      out.push(ESCAPED[next]);
      i += 2;
    } else {
      const shown = next === undefined ? 'a backslash at the end of the line' : `"\\${String.fromCharCode(next)}"`;
      throw new WordError(`unknown escape ${shown} in a quoted word (escapes: \\" \\\\ \\n \\t \\r \\xHH)`);
    }
  }
  const after = i + 1;
  if (after < end && !isBlank(input[after])) throw new WordError(`a closing " must be followed by a space or the end of the line (column ${after - lineStart + 1})`);
  word.bytes = Buffer.from(out);
  word.start = 0;
  word.end = out.length;
  return after;
}

/** C0 controls, DEL and C1 controls (as UTF-8, U+0080–U+009F): never printed as they are. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * `bytes` as one word that LineWords reads back as the same bytes: as it is
 * when it can be (valid UTF-8, not empty, no space, tab or control
 * character, not starting with `"`), else quoted with escapes.
 */
export function wordText(bytes: Buffer): string {
  const text = isUtf8(bytes) ? bytes.toString('utf8') : undefined;
  if (text !== undefined && text !== '' && text[0] !== '"' && !/[ \t]/.test(text) && !CONTROL.test(text)) return text;
  return quoted(bytes, text);
}

/** `bytes` in double quotes, escaped; `text` is their UTF-8 reading when they are valid UTF-8. */
function quoted(bytes: Buffer, text: string | undefined): string {
  let out = '"';
  if (text === undefined) {
    // Not UTF-8: every byte past ASCII as \xHH.
    for (const byte of bytes) out += byte < 0x80 ? escapeChar(String.fromCharCode(byte)) : hexByte(byte);
  } else {
    for (const char of text) out += escapeChar(char);
  }
  return `${out}"`;
}

const SHORT: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r' };

function escapeChar(char: string): string {
  const short = SHORT[char];
  if (short !== undefined) return short;
  if (!CONTROL.test(char)) return char;
  return [...Buffer.from(char, 'utf8')].map(hexByte).join('');
}

const hexByte = (byte: number) => `\\x${byte.toString(16).padStart(2, '0')}`;
