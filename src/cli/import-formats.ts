// The three input formats of `tzkv import`, each read as a stream of entries
// tagged with their line number:
//   jsonl  one {"key", "value", "encoding"?, "keyEncoding"?, "expiresAt"?} per line
//   tsv    KEY<TAB>VALUE per line (the value is the rest of the line, bytes as they are)
//   json   one object of key → string value
// A malformed line throws INVALID_ARGUMENT naming the input and the line.
// An import reads them as PackedInput (readPacked): TSV and JSON Lines are
// parsed as bytes, region by region, straight into spans of the input
// (import-lines.ts); readEntries gives the same entries one object each.

import { decodeJsonLine, parseJsonLines, parseTsv } from './import-lines.js';
import { lineError, regionsOf, splitLines, type Source } from './input.js';
import { readJsonObject } from './json-object-reader.js';
import { PackedInput } from './packed-input.js';
import type { DecodedEntry } from '../text/records.js';

export const IMPORT_FORMATS = ['jsonl', 'tsv', 'json'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ImportItem extends DecodedEntry {
  line: number;
}

/**
 * The entries of `source`, a chunk of input at a time (one await per chunk, not
 * per entry). Keys and values may be views of the input: use them before the
 * next step, or copy them.
 */
export function readEntries(format: ImportFormat, source: Source, onBytes?: (bytes: number) => void): AsyncGenerator<ImportItem[]> {
  switch (format) {
    case 'jsonl':
      return readJsonLines(source, onBytes);
    case 'tsv':
      return readTsv(source, onBytes);
    case 'json':
      return readJson(source, onBytes);
  }
}

export { lineError };

async function* readJsonLines(source: Source, onBytes?: (bytes: number) => void): AsyncGenerator<ImportItem[]> {
  for await (const { first, lines } of splitLines(source.stream, source.name, onBytes)) {
    const items: ImportItem[] = [];
    for (let i = 0; i < lines.length; i++) {
      const entry = decodeJsonLine(lines[i], first + i, source);
      if (entry) items.push({ line: first + i, ...entry });
    }
    yield items;
  }
}

async function* readTsv(source: Source, onBytes?: (bytes: number) => void): AsyncGenerator<ImportItem[]> {
  for await (const packed of readPacked('tsv', source, Buffer.alloc(0), 0, onBytes)) {
    const items: ImportItem[] = [];
    for (let i = 0; i < packed.count; i++) {
      items.push({ line: packed.lines[i], key: packed.bytes.subarray(packed.keyStart[i], packed.keyEnd[i]), value: packed.bytes.subarray(packed.valueStart[i], packed.valueEnd[i]), expiresAt: null });
    }
    yield items;
  }
}

/**
 * The entries of `source` as puts, a region of input at a time (one
 * PackedInput, reused: use it before the next step): each key has `prefix`
 * before it, and an entry whose expiry is at or before `now` is left out
 * (counted in `expired`). A malformed line throws once the entries before it
 * have been handed out, so the first bad line is the one reported.
 */
export async function* readPacked(format: ImportFormat, source: Source, prefix: Buffer, now: number, onBytes?: (bytes: number) => void): AsyncGenerator<PackedInput> {
  const packed = new PackedInput(prefix);
  if (format === 'json') {
    for await (const items of readEntries(format, source, onBytes)) yield packItems(items, packed, now);
    return;
  }
  const parse = format === 'tsv' ? parseTsv : parseJsonLines;
  let line = 1;
  for await (const region of regionsOf(source, onBytes)) {
    packed.reset(region);
    let failure: unknown;
    try {
      line = parse(region, line, packed, now, source);
    } catch (err) {
      failure = err;
    }
    if (packed.count > 0 || packed.expired > 0) yield packed;
    if (failure !== undefined) throw failure;
  }
}

/** `items` as puts of one new buffer holding their keys and values; an expired one counted, not put. */
function packItems(items: ImportItem[], packed: PackedInput, now: number): PackedInput {
  const parts: Buffer[] = [];
  let at = 0;
  packed.reset(Buffer.alloc(0));
  for (const { line, key, value, expiresAt } of items) {
    if (expiresAt !== null && expiresAt <= now) {
      packed.expired++;
      continue;
    }
    parts.push(key, value);
    packed.push(line, at, at + key.length, at + key.length, at + key.length + value.length, expiresAt ?? 0);
    at += key.length + value.length;
  }
  packed.bytes = Buffer.concat(parts, at);
  return packed;
}

async function* readJson(source: Source, onBytes?: (bytes: number) => void): AsyncGenerator<ImportItem[]> {
  for await (const members of readJsonObject(source.stream, source.name, onBytes)) {
    yield members.map(({ line, key, value }) => {
      if (key === '') throw lineError(source, line, 'a key is empty');
      return { line, key: Buffer.from(key, 'utf8'), value: Buffer.from(value, 'utf8'), expiresAt: null };
    });
  }
}
