// What `tzkv import` does once its command line is parsed: reads the input
// (src/cli/import-formats.ts) into one batch and commits it, all or nothing.
// src/commands/import.ts prints the counts.

import { TzkvError } from '../errors.js';
import { bucketPrefix } from './bucket.js';
import { lineError, readEntries, type ImportFormat } from './import-formats.js';
import { openSource } from './input.js';
import { type StoreFlags, withStore } from './open-store.js';
import { givenPath } from './paths.js';
import { startProgress } from './progress.js';

export interface ImportRequest extends StoreFlags {
  /** FILE: "-" reads stdin; left out, a usage error (a loop's input is not an import's). */
  file?: string;
  format: ImportFormat;
  bucket?: string;
}

export interface ImportCounts {
  imported: number;
  /** Entries skipped because their expiresAt had passed. */
  expired: number;
}

/** Imports every entry of the input in one batch; a malformed line stops it with nothing stored (exit 2, naming the line). */
export async function importEntries(request: ImportRequest): Promise<ImportCounts> {
  if (request.file === undefined) throw new TzkvError('INVALID_ARGUMENT', 'missing FILE: give a file, or "-" to read stdin');
  const prefix = Buffer.from(bucketPrefix(request.bucket));
  const source = await openSource(givenPath(request.file, 'FILE', 'a file name cannot be empty ("-" is stdin)'));
  return withStore(request, 'create', 'tzkv import', async (store) => {
    const batch = store.batch();
    const progress = await startProgress('importing', source.size);
    let imported = 0;
    let expired = 0;
    try {
      const now = Date.now();
      for await (const entries of readEntries(request.format, source, progress.update)) {
        for (const entry of entries) {
          if (entry.expiresAt !== null && entry.expiresAt <= now) {
            expired++;
            continue;
          }
          try {
            batch.put(prefix.length === 0 ? entry.key : Buffer.concat([prefix, entry.key]), entry.value, { expiresAt: entry.expiresAt });
          } catch (err) {
            if (err instanceof TzkvError && err.code === 'INVALID_ARGUMENT') throw lineError(source, entry.line, err.message);
            throw err;
          }
          imported++;
        }
      }
      await batch.write();
    } catch (err) {
      await batch.discard().catch(() => undefined);
      throw err;
    } finally {
      progress.stop();
    }
    return { imported, expired };
  });
}
