import fc from 'fast-check';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { splitLines } from '../../src/cli/input.js';

/** Runs splitLines over `input` cut into chunks at `cuts`; returns every line with its number. */
async function split(input: Buffer, cuts: number[]): Promise<Array<[number, string]>> {
  const bounds = [...new Set([0, ...cuts.filter((c) => c > 0 && c < input.length), input.length])].sort((a, b) => a - b);
  const chunks = bounds.slice(1).map((end, i) => input.subarray(bounds[i], end));
  const seen: Array<[number, string]> = [];
  let consumed = 0;
  for await (const { first, lines } of splitLines(Readable.from(chunks), 'input', (n) => (consumed = n))) {
    expect(lines.length).toBeGreaterThan(0);
    lines.forEach((line, i) => seen.push([first + i, line.toString('latin1')]));
  }
  expect(consumed).toBe(input.length);
  return seen;
}

/** What the lines of `text` are: split on \n, a \r before it dropped, no line after a final \n. */
function expected(text: string): Array<[number, string]> {
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((line, i) => [i + 1, line.endsWith('\r') ? line.slice(0, -1) : line]);
}

describe('splitLines', () => {
  test('lines across chunk boundaries, CRLF, empty lines and a last line without \\n', async () => {
    const text = 'a\tb\r\n\nlong line here\nx\r\n\r\nlast';
    const input = Buffer.from(text, 'latin1');
    for (let cut = 0; cut <= input.length; cut++) {
      expect(await split(input, [cut]), `cut at ${cut}`).toEqual(expected(text));
    }
    expect(await split(input, [...input.keys()])).toEqual(expected(text));
  });

  test('any text cut anywhere gives the same numbered lines', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('a', 'b', '\t', '\n', '\r', 'é'), { maxLength: 200 }),
        fc.array(fc.nat(220), { maxLength: 10 }),
        async (chars, cuts) => {
          const text = chars.join('');
          const input = Buffer.from(text, 'latin1');
          expect(await split(input, cuts)).toEqual(expected(text));
        },
      ),
      { numRuns: 300 },
    );
  });
});
