// The three input formats of `tzkv import`, each read as a stream of entries
// tagged with their line number:
//   jsonl  one {"key", "value", "encoding"?, "keyEncoding"?, "expiresAt"?} per line
//   tsv    KEY<TAB>VALUE per line (the value is the rest of the line, bytes as they are)
//   json   one object of key → string value
// A malformed line throws INVALID_ARGUMENT naming the input and the line.

import { TzkvError } from '../errors.js';
import { splitLines, type Source } from './input.js';
import { readJsonObject } from './json-object-reader.js';
import { fromRecord, type DecodedEntry } from './records.js';

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

/** The error for line `line` of `source`. */
export function lineError(source: Source, line: number, message: string): TzkvError {
  return new TzkvError('INVALID_ARGUMENT', `${source.name} line ${line}: ${message}`, { path: source.name, info: { line } });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

async function* readJsonLines(source: Source, onBytes?: (bytes: number) => void): AsyncGenerator<ImportItem[]> {
  for await (const { first, lines } of splitLines(source.stream, source.name, onBytes)) {
    const items: ImportItem[] = [];
    for (let i = 0; i < lines.length; i++) {
      const number = first + i;
      let text: string;
      try {
        text = utf8.decode(lines[i]);
      } catch {
        throw lineError(source, number, 'not valid UTF-8');
      }
      if (text.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw lineError(source, number, `not valid JSON (${(err as Error).message})`);
      }
      try {
        items.push({ line: number, ...fromRecord(parsed) });
      } catch (err) {
        if (err instanceof TzkvError && err.code === 'INVALID_ARGUMENT') throw lineError(source, number, err.message);
        throw err;
      }
    }
    yield items;
  }
}

async function* readTsv(source: Source, onBytes?: (bytes: number) => void): AsyncGenerator<ImportItem[]> {
  for await (const { first, lines } of splitLines(source.stream, source.name, onBytes)) {
    const items: ImportItem[] = [];
    for (let i = 0; i < lines.length; i++) {
      const bytes = lines[i];
      if (bytes.length === 0) continue;
      const tab = bytes.indexOf(9);
      if (tab === -1) throw lineError(source, first + i, 'expected KEY<TAB>VALUE');
      if (tab === 0) throw lineError(source, first + i, 'the key is empty');
      items.push({ line: first + i, key: bytes.subarray(0, tab), value: bytes.subarray(tab + 1), expiresAt: null });
    }
    yield items;
  }
}

async function* readJson(source: Source, onBytes?: (bytes: number) => void): AsyncGenerator<ImportItem[]> {
  for await (const members of readJsonObject(source.stream, source.name, onBytes)) {
    yield members.map(({ line, key, value }) => {
      if (key === '') throw lineError(source, line, 'a key is empty');
      return { line, key: Buffer.from(key, 'utf8'), value: Buffer.from(value, 'utf8'), expiresAt: null };
    });
  }
}
