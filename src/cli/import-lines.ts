// The line formats of `tzkv import` parsed as bytes, a region of whole lines
// at a time (input.ts regionsOf), straight into PackedInput: each put is
// spans of the region. A malformed line throws INVALID_ARGUMENT naming it.

import { TzkvError } from '../errors.js';
import { lineError, type Source } from './input.js';
import { JsonLineFields, scanJsonLine } from './json-line-scan.js';
import type { PackedInput } from './packed-input.js';
import { fromRecord, type DecodedEntry } from '../text/records.js';

/**
 * Parses the TSV lines of `region` into `packed`: KEY<TAB>VALUE, the value
 * being the rest of the line (a `\r` before its `\n` dropped), an empty line
 * skipped. `line` is the number of the region's first line; returns the
 * number of the line after its last. TSV has no expiry: `now` is unused.
 */
export function parseTsv(region: Buffer, line: number, packed: PackedInput, _now: number, source: Source): number {
  const end = region.length;
  let start = 0;
  while (start < end) {
    let newline = region.indexOf(10, start);
    if (newline === -1) newline = end;
    const lineEnd = newline > start && region[newline - 1] === 13 ? newline - 1 : newline;
    if (lineEnd > start) {
      let tab = start;
      while (tab < lineEnd && region[tab] !== 9) tab++;
      if (tab === lineEnd) throw lineError(source, line, 'expected KEY<TAB>VALUE');
      if (tab === start) throw lineError(source, line, 'the key is empty');
      packed.push(line, start, tab, tab + 1, lineEnd, 0);
    }
    line++;
    start = newline + 1;
  }
  return line;
}

const fields = new JsonLineFields();

/**
 * Parses the JSON Lines of `region` into `packed`, as parseTsv does TSV. A
 * line in the common shape is read in place (scanJsonLine); any other is
 * decoded by JSON.parse (decodeJsonLine), and its key and value bytes written
 * over the line's own, which always has room for them: a decoded string is
 * never longer than its JSON text. An entry whose expiry is at or before
 * `now` is counted in `packed.expired`, not put.
 */
export function parseJsonLines(region: Buffer, line: number, packed: PackedInput, now: number, source: Source): number {
  const end = region.length;
  let start = 0;
  while (start < end) {
    let newline = region.indexOf(10, start);
    if (newline === -1) newline = end;
    if (scanJsonLine(region, start, newline, fields)) {
      const { expiresAt } = fields;
      if (expiresAt !== null && expiresAt <= now) packed.expired++;
      else packed.push(line, fields.keyStart, fields.keyEnd, fields.valueStart, fields.valueEnd, expiresAt ?? 0);
    } else {
      const lineEnd = newline > start && region[newline - 1] === 13 ? newline - 1 : newline;
      const entry = decodeJsonLine(region.subarray(start, lineEnd), line, source);
      if (entry && entry.expiresAt !== null && entry.expiresAt <= now) {
        packed.expired++;
      } else if (entry) {
        if (entry.key.length + entry.value.length > lineEnd - start) throw new TzkvError('INTERNAL', `${source.name} line ${line}: a decoded entry longer than its line`);
        const keyEnd = start + entry.key.copy(region, start);
        const valueEnd = keyEnd + entry.value.copy(region, keyEnd);
        packed.push(line, start, keyEnd, keyEnd, valueEnd, entry.expiresAt ?? 0);
      }
    }
    line++;
    start = newline + 1;
  }
  return line;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes one JSON Lines line (without its `\n`, nor a `\r` before it), the
 * general way: UTF-8, JSON.parse, fromRecord. Returns null for a blank line;
 * throws lineError saying what is wrong with a malformed one.
 */
export function decodeJsonLine(bytes: Buffer, line: number, source: Source): DecodedEntry | null {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw lineError(source, line, 'not valid UTF-8');
  }
  if (text.trim() === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw lineError(source, line, `not valid JSON (${(err as Error).message})`);
  }
  try {
    return fromRecord(parsed);
  } catch (err) {
    if (err instanceof TzkvError && err.code === 'INVALID_ARGUMENT') throw lineError(source, line, err.message);
    throw err;
  }
}
