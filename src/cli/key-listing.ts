// `tzkv keys`: live keys in byte order, under a prefix, matching a glob
// (--match), with their size and expiry (--long); one per line, NUL-ended
// (-0), or a JSON array, shown without the bucket. A terminal is shown each
// key escaped (terminalKey); a pipe gets the exact bytes. Past damage: every
// readable key, a warning per damaged stretch, exit 4.

import type { KeyInfo } from '../api.js';
import { TzkvError } from '../errors.js';
import { bucketPrefix, keyInBucket } from './bucket.js';
import { DamageWarnings } from './damage.js';
import { compileGlob, type Glob, looksLikeGlob } from './glob.js';
import { printJson, printMessage, writeOut } from './output.js';
import { type StoreFlags, withKeyStore } from './open-store.js';
import { isoTime } from '../text/records.js';
import { openSink } from './sink.js';
import { terminalKey } from './terminal-text.js';

export interface KeysRequest extends StoreFlags {
  prefix?: string;
  bucket?: string;
  limit?: number;
  /** -0: each key ends with a NUL byte instead of a newline (for xargs -0). */
  null?: boolean;
  /** --match: a glob (src/cli/glob.ts) the whole key, without the bucket, must match. */
  match?: string;
  /** --long: each key with its value's size in bytes and its expiry. */
  long?: boolean;
  json: boolean;
}

/** One listed key: its bytes as shown (without the bucket), and with --long its size and expiry. */
interface Listed {
  key: Buffer;
  size?: number;
  expiresAt: number | null;
}

const NEWLINE = Buffer.from('\n');
const NUL = Buffer.from([0]);

export async function listKeys(request: KeysRequest): Promise<void> {
  if (request.null && request.json) throw new TzkvError('INVALID_ARGUMENT', 'give --null (-0) or --json, not both');
  const glob = request.match === undefined ? undefined : compileGlob(request.match);
  const scan = scanPrefix(request.prefix ?? '', glob);
  const limit = request.limit ?? Infinity;
  const terminal = process.stdout.isTTY === true;
  const output = keyOutput(request, terminal);
  const warnings = new DamageWarnings();
  let listed = 0;
  await withKeyStore(request, 'read', 'tzkv keys', async (store) => {
    if (scan !== undefined) {
      // Without a glob the store stops at the limit; with one, only matching keys count.
      const options = { prefix: bucketPrefix(request.bucket) + scan, ...(glob === undefined && limit !== Infinity ? { limit } : {}), onDamage: warnings.onDamage };
      const source: AsyncIterable<KeyInfo & { value?: Buffer }> = request.long ? store.entries(options) : store.keys(options);
      for await (const item of source) {
        const key = keyInBucket(request.bucket, item.key);
        if (glob !== undefined && !glob.matches(key.toString('utf8'))) continue;
        await output.add({ key, expiresAt: item.expiresAt, ...(item.value === undefined ? {} : { size: item.value.length }) });
        if (++listed >= limit) break;
      }
    }
    await output.finish();
  });
  if (listed === 0 && glob === undefined) hintAtPattern(request.prefix, 'keys takes a prefix, not a pattern; to list the keys matching it, use --match PATTERN');
  warnings.finish('the listing');
}

/**
 * The prefix to scan for keys under PREFIX that match the glob: the longer
 * of PREFIX and the glob's literal prefix when one starts with the other;
 * undefined when they disagree (no key can have both).
 */
function scanPrefix(prefix: string, glob: Glob | undefined): string | undefined {
  const literal = glob?.literalPrefix ?? '';
  if (literal.startsWith(prefix)) return literal;
  return prefix.startsWith(literal) ? prefix : undefined;
}

/**
 * When a prefix that nothing starts with looks like a glob (`users:*`), says
 * so on stderr: `advice` tells what to do instead, PATTERN standing for the
 * prefix quoted for the shell.
 */
export function hintAtPattern(prefix: string | undefined, advice: string): void {
  if (prefix === undefined || !looksLikeGlob(prefix)) return;
  printMessage(`no key starts with ${JSON.stringify(prefix)}: ${advice.replace('PATTERN', shellQuoted(prefix))}`);
}

/** `text` in single quotes for a POSIX shell. */
const shellQuoted = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export interface KeyOutput {
  add(listed: Listed): Promise<void>;
  finish(): Promise<void>;
}

/**
 * Where listed keys go: a JSON array (of keys, or with --long of {key, size,
 * expiresAt}); with --long on a terminal (without -0) a table; otherwise a
 * line per key, `SIZE<TAB>EXPIRES<TAB>KEY` with --long (the key last, so a
 * tab in it is no problem; EXPIRES an ISO time or `-`), ended by a newline or NUL.
 */
export function keyOutput(request: Pick<KeysRequest, 'json' | 'long' | 'null'>, terminal: boolean): KeyOutput {
  if (request.json) {
    const all: unknown[] = [];
    return {
      add: async ({ key, size, expiresAt }) => {
        all.push(request.long ? { key: key.toString('utf8'), size, expiresAt: isoTime(expiresAt) } : key.toString('utf8'));
      },
      finish: () => printJson(all),
    };
  }
  if (request.long && terminal && !request.null) {
    const rows: string[][] = [];
    return {
      add: async ({ key, size, expiresAt }) => {
        rows.push([String(size), isoTime(expiresAt) ?? '-', terminalKey(key)]);
      },
      finish: () => (rows.length === 0 ? Promise.resolve() : writeOut(table(['SIZE', 'EXPIRES', 'KEY'], rows))),
    };
  }
  const end = request.null ? NUL : NEWLINE;
  let sink: Awaited<ReturnType<typeof openSink>> | undefined;
  return {
    add: async ({ key, size, expiresAt }) => {
      sink ??= await openSink(undefined);
      const shown = terminal ? Buffer.from(terminalKey(key), 'utf8') : key;
      const fields = request.long ? Buffer.from(`${size}\t${isoTime(expiresAt) ?? '-'}\t`) : Buffer.alloc(0);
      await sink.write(Buffer.concat([fields, shown, end]));
    },
    finish: async () => sink?.finish(),
  };
}

/** Columns separated by two spaces, the first (a number) right-aligned, the last as it is. */
function table(head: string[], rows: string[][]): string {
  const widths = head.map((name, column) => Math.max(name.length, ...rows.map((row) => row[column].length)));
  const line = (row: string[]) =>
    row.map((cell, column) => (column === 0 ? cell.padStart(widths[0]) : column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ');
  return [head, ...rows].map((row) => `${line(row)}\n`).join('');
}
