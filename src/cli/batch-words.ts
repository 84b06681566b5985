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

/**
 * Reads lines into words without a Buffer, an object or an array per word (a
 * batch of 10,000 lines would spend its time making them). After read(),
 * word w of the line is bytes(w)[start(w), end(w)): the input's own bytes,
 * or, for a quoted word, bytes of its own. Every read() reuses the same
 * fields.
 */
export class LineWords {
  /** How many words the last line read had; only the first MAX_WORDS are kept. */
  count = 0;
  /** Start and end of each kept word: [start0, end0, start1, end1, ...]. */
  private readonly bounds = new Int32Array(2 * MAX_WORDS);
  /** A quoted word's decoded bytes, else undefined. */
  private readonly decoded: Array<Buffer | undefined> = new Array<Buffer | undefined>(MAX_WORDS).fill(undefined);
  private input: Buffer = EMPTY;

  /** Reads the words of input[start, end); throws WordError when they cannot be read. */
  read(input: Buffer, start: number, end: number): void {
    this.input = input;
    this.count = 0;
    let i = start;
    for (;;) {
      while (i < end && (input[i] === SPACE || input[i] === TAB)) i++;
      if (i === end) return;
      const w = this.count++;
      const kept = w < MAX_WORDS;
      if (input[i] === QUOTE) {
        const [bytes, after] = quotedWord(input, i, end, start);
        if (kept) {
          this.decoded[w] = bytes;
          this.bounds[2 * w] = 0;
          this.bounds[2 * w + 1] = bytes.length;
        }
        i = after;
      } else {
        if (kept) {
          this.decoded[w] = undefined;
          this.bounds[2 * w] = i;
        }
        while (i < end && input[i] !== SPACE && input[i] !== TAB) i++;
        if (kept) this.bounds[2 * w + 1] = i;
      }
    }
  }

  /** The bytes word `w` lies in. REQUIRES: w < min(count, MAX_WORDS). */
  bytes(w: number): Buffer {
    return this.decoded[w] ?? this.input;
  }

  start(w: number): number {
    return this.bounds[2 * w];
  }

  end(w: number): number {
    return this.bounds[2 * w + 1];
  }

  /** Word `w` read as UTF-8 text. */
  text(w: number): string {
    return this.bytes(w).toString('utf8', this.start(w), this.end(w));
  }
}

/** No batch operation has more words than this (put KEY VALUE TTL); more are counted, not kept. */
const MAX_WORDS = 4;
const EMPTY = Buffer.alloc(0);

const ESCAPED: Record<number, number> = { [QUOTE]: QUOTE, [BACKSLASH]: BACKSLASH, 0x6e: 0x0a, 0x74: TAB, 0x72: 0x0d };

const isBlank = (byte: number) => byte === SPACE || byte === TAB;

/** The quoted word whose opening quote is at `at`, decoded, and where the line goes on after it. Columns count from `lineStart`. */
function quotedWord(input: Buffer, at: number, end: number, lineStart: number): [Buffer, number] {
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
  return [Buffer.from(out), after];
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
