// What `tzkv import` does once its command line is parsed: reads the input
// (src/cli/import-formats.ts), a region at a time, into one batch and commits
// it, all or nothing.
// src/commands/import.ts prints the counts.

import { putPacked } from '../checked-batch.js';
import { TzkvError } from '../errors.js';
import { bucketPrefix } from './bucket.js';
import { lineError, readPacked, type ImportFormat } from './import-formats.js';
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
      for await (const packed of readPacked(request.format, source, prefix, Date.now(), progress.update)) {
        try {
          putPacked(batch, packed);
        } catch (err) {
          // A put the batch refuses (a key over the limit) names its line.
          if (err instanceof TzkvError && err.code === 'INVALID_ARGUMENT' && typeof err.info?.entry === 'number') throw lineError(source, packed.lines[err.info.entry], err.message);
          throw err;
        }
        imported += packed.count;
        expired += packed.expired;
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
