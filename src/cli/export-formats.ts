// What `tzkv export --format` writes: the three formats `tzkv import --format`
// reads (src/cli/import-formats.ts), each entry exactly as import will read it
// back, or a refusal saying why it cannot be. JSON Lines carries every entry;
// a KEY<TAB>VALUE line and a member of a JSON object of strings carry no
// expiry, and each has bytes it cannot hold. `get` with several keys prints
// the TSV form too.

import { isUtf8 } from 'node:buffer';
import type { Entry } from '../api.js';
import { IMPORT_FORMATS } from './import-formats.js';
import { toRecord } from '../text/records.js';
import { terminalJson, terminalKey, terminalText } from './terminal-text.js';

export const EXPORT_FORMATS = IMPORT_FORMATS;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const TAB = 9;
const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

/**
 * Why KEY<TAB>VALUE cannot carry this key and value exactly, or undefined
 * when it can: import takes the key up to the first tab and the value to the
 * end of the line, less a carriage return before the newline.
 */
export function tsvProblem(key: Buffer, value: Buffer): string | undefined {
  if (key.includes(TAB)) return 'the key holds a tab';
  if (key.includes(NEWLINE)) return 'the key holds a newline';
  if (value.includes(NEWLINE)) return 'the value holds a newline';
  if (value.length > 0 && value[value.length - 1] === CARRIAGE_RETURN) return 'the value ends with a carriage return, which a line drops';
  return undefined;
}

/** `key<TAB>value<NEWLINE>`, exact bytes for a program; on a terminal the key as `keys` shows it and the value escaped. REQUIRES: tsvProblem found none. */
export function tsvLine(key: Buffer, value: Buffer, terminal: boolean): Buffer {
  if (!terminal) return Buffer.concat([key, Buffer.from([TAB]), value, Buffer.from([NEWLINE])]);
  return Buffer.from(`${terminalKey(key)}\t${terminalText(value, '\t')}\n`, 'utf8');
}

/** Why an entry cannot be written in `format` exactly, or undefined. */
function entryProblem(format: ExportFormat, entry: Entry): string | undefined {
  if (format === 'jsonl') return undefined;
  if (entry.expiresAt !== null) return `it expires at ${new Date(entry.expiresAt).toISOString()}, and ${format} carries no expiry`;
  if (format === 'tsv') return tsvProblem(entry.key, entry.value);
  if (!isUtf8(entry.key)) return 'the key is not UTF-8 text, which a JSON object of strings cannot carry';
  if (!isUtf8(entry.value)) return 'the value is not UTF-8 text, which a JSON object of strings cannot carry';
  return undefined;
}

/**
 * Writes the entries of one export in a format: `begin`, then `entry` for
 * each (in order), then `end`. An entry the format cannot carry exactly
 * is refused (`problem`) before anything of it is written.
 */
export interface EntryWriter {
  begin(): string;
  problem(entry: Entry): string | undefined;
  entry(entry: Entry): string | Buffer;
  end(): string;
}

/**
 * The writer of `format` (or `array`: export --json's one JSON array of
 * records). On a terminal every form is escaped, and the single-document
 * forms (array, json) put one entry on a line; for a program they are one line.
 */
export function entryWriter(format: ExportFormat | 'array', terminal: boolean): EntryWriter {
  let count = 0;
  const json = (text: string) => (terminal ? terminalJson(text) : text);
  const document = (open: string, close: string, member: (entry: Entry) => string): EntryWriter => ({
    begin: () => open,
    problem: (entry) => (format === 'array' ? undefined : entryProblem(format, entry)),
    entry: (entry) => `${count++ === 0 ? '' : ','}${terminal ? '\n  ' : ''}${json(member(entry))}`,
    end: () => (count === 0 || !terminal ? `${close}\n` : `\n${close}\n`),
  });
  switch (format) {
    case 'array':
      return document('[', ']', (entry) => JSON.stringify(toRecord(entry.key, entry.value, entry.expiresAt)));
    case 'json':
      return document('{', '}', (entry) => `${JSON.stringify(entry.key.toString('utf8'))}:${terminal ? ' ' : ''}${JSON.stringify(entry.value.toString('utf8'))}`);
    case 'jsonl':
      return { begin: () => '', problem: () => undefined, entry: (entry) => `${json(JSON.stringify(toRecord(entry.key, entry.value, entry.expiresAt)))}\n`, end: () => '' };
    case 'tsv':
      return { begin: () => '', problem: (entry) => entryProblem('tsv', entry), entry: (entry) => tsvLine(entry.key, entry.value, terminal), end: () => '' };
  }
}
