// import's TSV reader parses bytes straight into spans of its input
// (readPacked): every line, however the input is cut into chunks, must give
// what the rule says (docs/cli.md "import"): KEY<TAB>VALUE, the value the rest
// of the line with any byte in it, a \r before \n dropped, empty lines
// skipped, a line without a tab or with an empty key refused by its number.
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { readEntries, readPacked } from '../../src/cli/import-formats.js';
import type { Source } from '../../src/cli/input.js';

type Outcome = { entries: Array<[number, string, string]>; error?: string };

function source(input: Buffer, cuts: number[]): Source {
  const bounds = [...new Set([0, ...cuts.filter((c) => c > 0 && c < input.length), input.length])].sort((a, b) => a - b);
  return { name: 'input', stream: Readable.from(bounds.slice(1).map((end, i) => input.subarray(bounds[i], end))), size: input.length };
}

/** What readPacked gives: every put (line, key, value) up to the first error, and the error. */
async function packed(input: Buffer, cuts: number[], prefix = Buffer.alloc(0)): Promise<Outcome> {
  const entries: Outcome['entries'] = [];
  try {
    for await (const p of readPacked('tsv', source(input, cuts), prefix, 0)) {
      expect(p.prefix).toBe(prefix);
      expect(p.expired).toBe(0);
      for (let i = 0; i < p.count; i++) {
        expect(p.expiresAt[i]).toBe(0);
        entries.push([p.lines[i], p.bytes.toString('latin1', p.keyStart[i], p.keyEnd[i]), p.bytes.toString('latin1', p.valueStart[i], p.valueEnd[i])]);
      }
    }
  } catch (err) {
    return { entries, error: (err as Error).message };
  }
  return { entries };
}

/** The rule, line by line. */
function expected(text: string): Outcome {
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  const entries: Outcome['entries'] = [];
  for (const [i, raw] of parts.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const tab = line.indexOf('\t');
    if (tab === -1) return { entries, error: `input line ${i + 1}: expected KEY<TAB>VALUE` };
    if (tab === 0) return { entries, error: `input line ${i + 1}: the key is empty` };
    entries.push([i + 1, line.slice(0, tab), line.slice(tab + 1)]);
  }
  return { entries };
}

describe('readPacked, TSV', () => {
  test('CRLF, an empty value, tabs and any byte in a value, empty lines, a last line without \\n, cut anywhere', async () => {
    const text = 'k1\tv1\r\n\nk 2\tv\twith\ttabs\nk3\t\r\n\r\nbin\t\x00\xff\r\x01\rmid\nlast\tno newline';
    const input = Buffer.from(text, 'latin1');
    for (let cut = 0; cut <= input.length; cut++) expect(await packed(input, [cut]), `cut at ${cut}`).toEqual(expected(text));
    expect(await packed(input, [...input.keys()])).toEqual(expected(text));
    expect(expected(text).entries).toEqual([
      [1, 'k1', 'v1'],
      [3, 'k 2', 'v\twith\ttabs'],
      [4, 'k3', ''],
      [6, 'bin', '\x00\xff\r\x01\rmid'],
      [7, 'last', 'no newline'],
    ]);
  });

  test('a line without a tab, or with an empty key, is refused by its number after the lines before it', async () => {
    expect(await packed(Buffer.from('a\t1\nb\t2\nno tab\nc\t3\n'), [])).toEqual({ entries: [[1, 'a', '1'], [2, 'b', '2']], error: 'input line 3: expected KEY<TAB>VALUE' });
    expect(await packed(Buffer.from('a\t1\r\n\tv\n'), [5])).toEqual({ entries: [[1, 'a', '1']], error: 'input line 2: the key is empty' });
    expect(await packed(Buffer.from('a\t1\nonly\r'), [])).toEqual({ entries: [[1, 'a', '1']], error: 'input line 2: expected KEY<TAB>VALUE' });
  });

  test('a line longer than the chunks it arrives in is read whole', async () => {
    const value = 'x'.repeat(200_000);
    const input = Buffer.from(`a\t1\nbig\t${value}\nz\t2\n`);
    const cuts = Array.from({ length: 40 }, (_, i) => 3 + i * 5001);
    expect(await packed(input, cuts)).toEqual({ entries: [[1, 'a', '1'], [2, 'big', value], [3, 'z', '2']] });
  });

  test('any bytes cut anywhere: the same puts as the rule', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('a', 'b', '\t', '\n', '\r', '\xff', '\x00'), { maxLength: 200 }),
        fc.array(fc.nat(220), { maxLength: 10 }),
        async (chars, cuts) => {
          const text = chars.join('');
          expect(await packed(Buffer.from(text, 'latin1'), cuts)).toEqual(expected(text));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('readEntries gives the same entries, one object each', async () => {
    const text = 'k1\tv1\r\n\nk2\t\xff\n';
    const items = [];
    for await (const chunk of readEntries('tsv', source(Buffer.from(text, 'latin1'), [4]))) items.push(...chunk);
    expect(items.map(({ line, key, value, expiresAt }) => [line, key.toString('latin1'), value.toString('latin1'), expiresAt])).toEqual([
      [1, 'k1', 'v1', null],
      [3, 'k2', '\xff', null],
    ]);
  });
});
