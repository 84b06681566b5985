// import's JSON Lines reader (readPacked) reads a line in the common shape as
// bytes, in place (scanJsonLine), and any other the general way (JSON.parse,
// fromRecord), writing its decoded bytes over the line. Whichever way a line
// goes, the outcome must be what the general reader (readEntries) gives:
// the same entries, the same expired ones left out, the same first error.
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { readEntries, readPacked } from '../../src/cli/import-formats.js';
import type { Source } from '../../src/cli/input.js';
import { JsonLineFields, scanJsonLine } from '../../src/cli/json-line-scan.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');

type Outcome = { entries: Array<[number, string, string, number]>; expired: number; error?: string };

/** What an import makes of an outcome: its entries and expired count, or, when a line is bad, only the error (nothing is stored). */
const imported = (o: Outcome) => (o.error === undefined ? o : { error: o.error });

/** input cut at `cuts`, each run over its own copy (the reader writes over lines it decodes). */
function source(input: Buffer, cuts: number[]): Source {
  const copy = Buffer.from(input);
  const bounds = [...new Set([0, ...cuts.filter((c) => c > 0 && c < copy.length), copy.length])].sort((a, b) => a - b);
  return { name: 'input', stream: Readable.from(bounds.slice(1).map((end, i) => copy.subarray(bounds[i], end))), size: copy.length };
}

const hex = (b: Buffer) => b.toString('hex');

async function packed(input: Buffer, cuts: number[]): Promise<Outcome> {
  const out: Outcome = { entries: [], expired: 0 };
  try {
    for await (const p of readPacked('jsonl', source(input, cuts), Buffer.alloc(0), NOW)) {
      out.expired += p.expired;
      for (let i = 0; i < p.count; i++) {
        out.entries.push([p.lines[i], hex(p.bytes.subarray(p.keyStart[i], p.keyEnd[i])), hex(p.bytes.subarray(p.valueStart[i], p.valueEnd[i])), p.expiresAt[i]]);
      }
    }
  } catch (err) {
    out.error = (err as Error).message;
  }
  return out;
}

/** The general reader's outcome, with import's rule for expired entries. */
async function general(input: Buffer): Promise<Outcome> {
  const out: Outcome = { entries: [], expired: 0 };
  try {
    for await (const items of readEntries('jsonl', source(input, []))) {
      for (const { line, key, value, expiresAt } of items) {
        if (expiresAt !== null && expiresAt <= NOW) out.expired++;
        else out.entries.push([line, hex(key), hex(value), expiresAt ?? 0]);
      }
    }
  } catch (err) {
    out.error = (err as Error).message;
  }
  return out;
}

const scans = (line: string) => scanJsonLine(Buffer.from(line), 0, Buffer.byteLength(line), new JsonLineFields());

describe('scanJsonLine: the common shape, read in place', () => {
  test.each([
    '{"key":"k","value":"v","expiresAt":null}',
    '{"key":"k","value":"v","expiresAt":"2099-01-01T00:00:00.000Z"}',
    ' { "value" : "" , "key" : "k:1" , "other": "x", "more": null }\r',
    '{"key":"clé","value":"😀 é","encoding":"utf8","keyEncoding":null}',
  ])('takes %s', (line) => expect(scans(line)).toBe(true));

  test.each([
    ['an escape', '{"key":"k","value":"a\\"b"}'],
    ['base64', '{"key":"k","value":"/wD+","encoding":"base64"}'],
    ['a number', '{"key":"k","value":"v","n":1}'],
    ['a field twice', '{"key":"k","key":"j","value":"v"}'],
    ['an empty key', '{"key":"","value":"v"}'],
    ['no value', '{"key":"k"}'],
    ['a bad time', '{"key":"k","value":"v","expiresAt":"soon"}'],
    ['invalid UTF-8', '{"key":"k","value":"\xff"}'],
    ['text after the object', '{"key":"k","value":"v"} x'],
    ['a blank line', '   '],
  ])('leaves a line with %s to the general reader', (_, line) => {
    expect(scanJsonLine(Buffer.from(line, 'latin1'), 0, Buffer.byteLength(line, 'latin1'), new JsonLineFields())).toBe(false);
  });

  test('a string read four bytes a step: whatever the position of an escape, a control character, a non-ASCII byte or the quote', async () => {
    const specials = ['\\"', '\\n', '\t', '\x01', '\x1f', ' ', '\x7f', 'é', '😀', '"'];
    const lines: string[] = [];
    for (const special of specials) {
      for (let before = 0; before < 9; before++) lines.push(`{"key":"k${before}","value":"${'a'.repeat(before)}${special}${'b'.repeat(9 - before)}"}`);
    }
    const input = Buffer.from(lines.join('\n'));
    const accepted = lines.filter(scans).length;
    expect(accepted).toBe(4 * 9); // a space, DEL, é and 😀 stay in the common shape; the rest go the general way (or are refused)
    expect(imported(await packed(input, []))).toEqual(imported(await general(input)));
    const valid = Buffer.from(lines.filter((l) => !/[\x00-\x1f]|"[a-z]*"[a-z]+"}$/.test(l)).join('\n'));
    expect(await packed(valid, [])).toEqual(await general(valid));
    for (let before = 0; before < 9; before++) {
      const invalid = Buffer.concat([Buffer.from(`{"key":"k","value":"${'a'.repeat(before)}`), Buffer.from([0xff, 0xfe]), Buffer.from(`${'b'.repeat(9)}"}`)]);
      expect(scanJsonLine(invalid, 0, invalid.length, new JsonLineFields()), `invalid UTF-8 after ${before}`).toBe(false);
    }
  });

  test('leaves a time that is not ASCII to the general reader (Date.parse must see its text)', () => {
    expect(scans('{"key":"k","value":"v","expiresAt":"2099-01-01T00:00:00Zé"}')).toBe(false);
  });
});

describe('readPacked, JSON Lines', () => {
  test('lines of both kinds, mixed in one region: the general reader\'s entries, expired ones counted', async () => {
    const text = [
      '{"key":"a","value":"1","expiresAt":null}',
      '{"value":"esc \\"q\\" \\n \\u00e9 \\ud83d\\ude00 \\ud800","key":"b\\tk"}',
      '',
      '{"key":"c","value":"/wD+","encoding":"base64","expiresAt":"2099-01-01T00:00:00Z"}\r',
      '{"key":"gone","value":"v","expiresAt":"2001-01-01T00:00:00Z"}',
      '{"key":"epoch","value":"v","expiresAt":"1970-01-01T00:00:00Z"}',
      '{"key":"d","value":"😀","expiresAt":"2099-01-01T00:00:00Z"}',
      '  \t ',
      '{"key":"e","value":""}',
    ].join('\n');
    const input = Buffer.from(text);
    const want = await general(input);
    expect(want.entries.map(([line]) => line)).toEqual([1, 2, 4, 7, 9]);
    expect(want.expired).toBe(2);
    for (let cut = 0; cut <= input.length; cut += 7) expect(await packed(input, [cut]), `cut at ${cut}`).toEqual(want);
    expect(want.error).toBeUndefined();
  });

  test('the first bad line is the one reported, after the entries before it', async () => {
    for (const bad of ['{"key":"k","value":3}', 'not json', '{"key":"k","value":"\xff"}', '{"key":"","value":"v"}', '{"key":"k","value":"v","expiresAt":"soon"}']) {
      const input = Buffer.concat([Buffer.from('{"key":"a","value":"1"}\n'), Buffer.from(bad, 'latin1'), Buffer.from('\n{"key":"b","value":"2"}\n')]);
      const got = await packed(input, []);
      expect(got.entries, bad).toEqual([[1, hex(Buffer.from('a')), hex(Buffer.from('1')), 0]]);
      expect(imported(got), bad).toEqual(imported(await general(input)));
      expect(got.error, bad).toMatch(/^input line 2: /);
    }
  });

  const piece = fc.oneof(
    fc.constantFrom('a', 'é', '😀', ' ', '\\"', '\\\\', '\\n', '\\u00e9', '\\ud800', '\\t', '"', '\t', '\xff'),
    fc.string({ maxLength: 4 }),
  );
  const text = fc.array(piece, { maxLength: 6 }).map((p) => p.join(''));
  const value = fc.oneof(text.map((t) => `"${t}"`), fc.constantFrom('null', '1', '"2099-01-01T00:00:00Z"', '"2001-01-01T00:00:00Z"', '"utf8"', '"base64"', '"/wD+"', '{}'));
  const name = fc.constantFrom('key', 'value', 'expiresAt', 'encoding', 'keyEncoding', 'other', 'k\\u0065y');
  const space = fc.constantFrom('', ' ', '\t', '\r');
  const line = fc.oneof(
    { weight: 6, arbitrary: fc.array(fc.tuple(name, value, space), { maxLength: 5 }).map((fields) => `{${fields.map(([n, v, s]) => `${s}"${n}"${s}:${s}${v}${s}`).join(',')}}`) },
    { weight: 3, arbitrary: fc.tuple(text, text).map(([k, v]) => `{"key":"${k}","value":"${v}","expiresAt":null}`) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '[]', 'null', '{', '{"key":"k","value":"v"}x', '\r') },
  );

  test('any lines, cut anywhere: what the general reader gives', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 8 }), fc.array(fc.nat(400), { maxLength: 6 }), fc.boolean(), async (lines, cuts, newlineAtEnd) => {
        const input = Buffer.from(lines.join('\n') + (newlineAtEnd ? '\n' : ''), 'utf8');
        expect(imported(await packed(input, cuts))).toEqual(imported(await general(input)));
      }),
      { numRuns: 400 },
    );
  });
});
