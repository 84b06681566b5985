// `tzkv export`: every live key (under a prefix, in a bucket) in one of
// import's formats, to stdout or to a file that appears only when complete.
// The format is exact or refused: an entry it cannot carry (an expiry in tsv
// or json, a newline in a TSV value, bytes that are not UTF-8 in json) stops
// the export with exit 2 before anything is written, so that
// `export --format X | import --format X` reproduces the store or fails.

import type { Entry } from '../api.js';
import { TzkvError } from '../errors.js';
import { bucketPrefix, keyInBucket } from './bucket.js';
import { DamageWarnings } from './damage.js';
import { type EntryWriter, type ExportFormat, entryWriter } from './export-formats.js';
import { type KeyStore, type StoreFlags, withKeyStore } from './open-store.js';
import { givenPath } from './paths.js';
import { openSink } from './sink.js';
import { quotedKey } from './terminal-text.js';

export interface ExportRequest extends StoreFlags {
  prefix?: string;
  bucket?: string;
  /** --out: a file, or "-" (or nothing) for stdout. */
  out?: string;
  /** --format, when given. */
  format?: ExportFormat;
  json: boolean;
}

export interface ExportResult {
  exported: number;
  /** The file written, or undefined for stdout. */
  file?: string;
}

export async function exportEntries(request: ExportRequest): Promise<ExportResult> {
  // "-" is stdout, as it is stdin for put --file and import.
  const out = request.out === '-' ? undefined : givenPath(request.out, '--out', 'a file name cannot be empty ("-" is stdout)');
  if (out === undefined && request.json && request.format !== undefined) {
    throw new TzkvError('INVALID_ARGUMENT', 'give --format or --json, not both: to stdout, --json is one JSON array of records (with --out FILE, --json describes the file written)');
  }
  const format = out === undefined && request.json ? 'array' : (request.format ?? 'jsonl');
  const terminal = out === undefined && process.stdout.isTTY === true;
  const prefix = bucketPrefix(request.bucket) + (request.prefix ?? '');
  const listing = prefix === '' ? {} : { prefix };
  const shownEntry = (entry: Entry): Entry => ({ ...entry, key: keyInBucket(request.bucket, entry.key) });
  const warnings = new DamageWarnings();
  const exported = await withKeyStore(request, 'read', 'tzkv export', async (store) => {
    const writer = entryWriter(format, terminal);
    // To stdout a refusal must come before the first byte: a first pass checks every entry. A file is only renamed into place when whole.
    const checkFirst = out === undefined && format !== 'array' && format !== 'jsonl';
    if (checkFirst) {
      const refuse = refusal(writer, format, 'nothing was written');
      for await (const entry of store.entries({ ...listing, onDamage: () => undefined })) refuse(shownEntry(entry));
    }
    const refuse = refusal(writer, format, checkFirst ? 'the export stopped there: the key changed while it ran' : 'nothing was written');
    return writeEntries(store, listing, writer, refuse, shownEntry, warnings, out);
  });
  warnings.finish('the export');
  return out === undefined ? { exported } : { exported, file: out };
}

/** A check that throws INVALID_ARGUMENT when `writer` cannot carry an entry, naming the key, what became of the output, and the format that can. */
function refusal(writer: EntryWriter, format: ExportFormat | 'array', outcome: string): (entry: Entry) => void {
  return (entry) => {
    const problem = writer.problem(entry);
    if (problem === undefined) return;
    throw new TzkvError(
      'INVALID_ARGUMENT',
      `cannot export ${quotedKey(entry.key)} as ${format} exactly: ${problem}; ${outcome} (--format jsonl, the default, carries every key, value byte and expiry)`,
    );
  };
}

async function writeEntries(
  store: KeyStore,
  listing: { prefix?: string },
  writer: EntryWriter,
  refuse: (entry: Entry) => void,
  shownEntry: (entry: Entry) => Entry,
  warnings: DamageWarnings,
  out: string | undefined,
): Promise<number> {
  const sink = await openSink(out);
  let count = 0;
  try {
    await sink.write(writer.begin());
    for await (const stored of store.entries({ ...listing, onDamage: warnings.onDamage })) {
      const entry = shownEntry(stored);
      refuse(entry);
      await sink.write(writer.entry(entry));
      count++;
    }
    await sink.write(writer.end());
    // --out promises a file that appears only when complete: an export past damage is not.
    if (out !== undefined && warnings.count > 0) {
      throw new TzkvError('CORRUPT', `${out} not written: ${warnings.summary('the export')} (\`tzkv export > FILE\` writes what is readable)`);
    }
    await sink.finish();
  } catch (err) {
    await sink.abandon();
    throw err;
  }
  return count;
}
