import fc from 'fast-check';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPacked } from '../../src/cli/import-formats.js';
import { openSource, regionsOf, splitLines, type Source } from '../../src/cli/input.js';
import { tempDir } from '../helpers/temp-store.js';

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

describe('regionsOf a file', () => {
  /** The regions of a file with these bytes: each checked, their bytes joined. */
  async function regions(bytes: Buffer): Promise<{ joined: Buffer; count: number }> {
    const path = join(tempDir(), 'input');
    writeFileSync(path, bytes);
    const source = await openSource(path);
    expect(source.file).toBeDefined();
    const parts: Buffer[] = [];
    let consumed = 0;
    for await (const region of regionsOf(source, (n) => (consumed = n))) {
      expect(region.length).toBeGreaterThan(0);
      parts.push(Buffer.from(region)); // a region is valid until the next: copied
    }
    parts.slice(0, -1).forEach((p) => expect(p[p.length - 1]).toBe(10));
    expect(consumed).toBe(bytes.length);
    return { joined: Buffer.concat(parts), count: parts.length };
  }

  test('is read straight from the file into regions of whole lines, lines across reads, one longer than a read, no last \\n', async () => {
    const short = Buffer.from(Array.from({ length: 40000 }, (_, i) => `line ${i}\t${'x'.repeat(i % 97)}\r\n`).join(''));
    const long = Buffer.alloc(3 * 1024 * 1024 + 5, 0x61);
    const input = Buffer.concat([short, long, Buffer.from('\nlast line')]);
    const { joined, count } = await regions(input);
    expect(joined.equals(input)).toBe(true);
    expect(count).toBeGreaterThan(3);
    for (const bytes of [Buffer.alloc(0), Buffer.from('no newline'), Buffer.from('\n'), Buffer.from('a\nb\n')]) expect((await regions(bytes)).joined.equals(bytes)).toBe(true);
  });

  test('gives readPacked the same puts as the file read as a stream', async () => {
    const text = Array.from({ length: 50000 }, (_, i) => `k${i}\t${'v'.repeat(i % 50)}`).join('\n');
    const path = join(tempDir(), 'in.tsv');
    writeFileSync(path, text);
    const puts = async (source: Source) => {
      const out: string[] = [];
      for await (const p of readPacked('tsv', source, Buffer.alloc(0), 0)) for (let i = 0; i < p.count; i++) out.push(`${p.lines[i]} ${p.bytes.toString('latin1', p.keyStart[i], p.keyEnd[i])} ${p.valueEnd[i] - p.valueStart[i]}`);
      return out;
    };
    const fromFile = await puts(await openSource(path));
    const streamed = await openSource(path);
    expect(fromFile).toEqual(await puts({ name: streamed.name, stream: streamed.stream, size: streamed.size }));
    expect(fromFile.length).toBe(50000);
  });
});
