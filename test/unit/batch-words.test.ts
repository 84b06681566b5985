// The words of a `tzkv batch` line and the quoting batch prints values in
// (src/cli/batch-words.ts; docs/cli.md "batch"): every byte string printed
// reads back as itself, and a line that cannot be read says why.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LineWords, wordText, WordError } from '../../src/cli/batch-words.js';

/** The words of `line`, read inside a longer buffer (as batch reads a whole input). */
function read(line: string | Buffer): Buffer[] {
  const bytes = Buffer.isBuffer(line) ? line : Buffer.from(line, 'utf8');
  const input = Buffer.concat([Buffer.from('before\n'), bytes, Buffer.from('\nafter')]);
  const reader = new LineWords();
  reader.read(input, 7, 7 + bytes.length);
  return Array.from({ length: Math.min(reader.count, 4) }, (_, w) => reader.bytes(w).subarray(reader.start(w), reader.end(w)));
}
const words = (line: string | Buffer) => read(line).map((w) => w.toString('latin1'));

describe('LineWords', () => {
  test.each([
    ['put k v', ['put', 'k', 'v']],
    ['  put\tk \t v  ', ['put', 'k', 'v']],
    ['put k "two words"', ['put', 'k', 'two words']],
    ['put k ""', ['put', 'k', '']],
    ['put "" v', ['put', '', 'v']],
    ['put k "a\\"b\\\\c\\nd\\te\\rf"', ['put', 'k', 'a"b\\c\nd\te\rf']],
    ['put k "\\x00\\xff\\xAb"', ['put', 'k', '\x00\xff\xab']],
    ['put k C:\\dir\\file', ['put', 'k', 'C:\\dir\\file']],
    ['put k {"a":1}', ['put', 'k', '{"a":1}']],
    ['put k -x', ['put', 'k', '-x']],
    ['put k "#"', ['put', 'k', '#']],
    ['', []],
    ['   ', []],
  ])('%j → %j', (line, expected) => {
    expect(words(line)).toEqual(expected);
  });

  test('words past the fourth are counted, not kept', () => {
    const reader = new LineWords();
    const line = Buffer.from('put k v 1h extra "more"');
    reader.read(line, 0, line.length);
    expect(reader.count).toBe(6);
    expect([0, 1, 2, 3].map((w) => reader.text(w))).toEqual(['put', 'k', 'v', '1h']);
  });

  test('bytes outside quotes are taken as they are, UTF-8 or not', () => {
    expect(words(Buffer.from([0x70, 0x20, 0xff, 0xc3, 0xa9, 0x22]))).toEqual(['p', '\xff\xc3\xa9"']);
  });

  test.each([
    ['put k "open', /quoted word is not closed \(the " at column 7/],
    ['put k "a"b', /closing " must be followed by a space or the end of the line \(column 10\)/],
    ['put k "\\q"', /unknown escape "\\q"/],
    ['put k "\\x4"', /\\x must be followed by two hex digits, got "\\x4""/],
    ['put k "\\xzz"', /two hex digits/],
    ['put k "a\\', /unknown escape a backslash at the end of the line/],
  ])('%j is refused: %s', (line, message) => {
    expect(() => words(line)).toThrow(WordError);
    expect(() => words(line)).toThrow(message);
  });
});

describe('wordText', () => {
  test.each([
    ['hello', 'hello'],
    ['42', '42'],
    ['-x', '-x'],
    ['a"b', 'a"b'],
    ['back\\slash', 'back\\slash'],
    ['héllo', 'héllo'],
    ['', '""'],
    ['two words', '"two words"'],
    ['"quoted"', '"\\"quoted\\""'],
    ['tab\there', '"tab\\there"'],
    ['line\nbreak\r', '"line\\nbreak\\r"'],
    ['esc\x1b[2J', '"esc\\x1b[2J"'],
    ['c1\u009b', '"c1\\xc2\\x9b"'],
  ])('%j prints as %s', (value, shown) => {
    expect(wordText(Buffer.from(value, 'utf8'))).toBe(shown);
  });

  test('bytes that are not UTF-8 print quoted, each byte past ASCII as \\xHH', () => {
    expect(wordText(Buffer.from([0x61, 0xff, 0x20, 0xc3]))).toBe('"a\\xff \\xc3"');
  });

  test('every byte string prints as one word that reads back as the same bytes', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 24 }),
      fc.string({ unit: fc.constantFrom('a', ' ', '"', '\\', '\t', '\n', '\r', 'é', '\u009b', '\x00', 'x') }).map((s) => new TextEncoder().encode(s)),
    );
    fc.assert(
      fc.property(bytes, (raw) => {
        const value = Buffer.from(raw);
        const printed = wordText(value);
        expect(printed).not.toMatch(/[\n\r]/);
        const words = read(`get ${printed} `);
        expect(words).toHaveLength(2);
        expect(words[1].equals(value)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
