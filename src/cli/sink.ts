// Where a long output goes: stdout, or a file that appears only when complete
// (written beside it under a temporary name, synced, then renamed). Writes are
// gathered into large chunks.

import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TzkvError, ioError } from '../errors.js';
import { writeOut } from './output.js';

const CHUNK_BYTES = 64 * 1024;

export interface Sink {
  write(data: string | Buffer): Promise<void>;
  /** Flushes; for a file, syncs and renames it into place. */
  finish(): Promise<void>;
  /** Drops a partial file. */
  abandon(): Promise<void>;
}

/** A sink for `path`, or stdout when undefined. The file is created at once, so a bad path fails first. */
export async function openSink(path: string | undefined): Promise<Sink> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const gather = async (data: string | Buffer, flush: (data: Buffer) => Promise<void>) => {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (pendingBytes >= CHUNK_BYTES) await drain(flush);
  };
  const drain = async (flush: (data: Buffer) => Promise<void>) => {
    if (pending.length === 0) return;
    const data = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    await flush(data);
  };

  if (path === undefined) {
    return { write: (data) => gather(data, writeOut), finish: () => drain(writeOut), abandon: async () => undefined };
  }
  await checkFileTarget(path);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const handle = await open(temp, 'wx', 0o644).catch((err: unknown) => {
    throw ioError(err, 'cannot write', path);
  });
  const toFile = async (data: Buffer) => {
    await handle.write(data).catch((err: unknown) => {
      throw ioError(err, 'cannot write', path);
    });
  };
  return {
    write: (data) => gather(data, toFile),
    async finish() {
      await drain(toFile);
      try {
        await handle.sync();
        await handle.close();
        await rename(temp, path);
      } catch (err) {
        throw ioError(err, 'cannot write', path);
      }
    },
    async abandon() {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
    },
  };
}

/**
 * Refuses a `path` that is, or names, a directory before anything is written:
 * the temporary file would land beside the directory, and the rename fail.
 */
async function checkFileTarget(path: string): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw new TzkvError('IO', `cannot write ${path}: it is a directory`, { path });
  if (path.endsWith('/')) throw new TzkvError('IO', `cannot write ${path}: it names a directory`, { path });
}
