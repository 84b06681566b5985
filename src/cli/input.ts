// Reading what the user hands tzkv: a whole value (from a file or stdin), or
// an input stream split into lines. Bytes stay bytes: nothing is decoded here.

import { fstatSync } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { TzkvError, ioError } from '../errors.js';

/** All of stdin, byte-exact. */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  } catch (err) {
    throw ioError(err, 'cannot read', 'standard input');
  }
  return Buffer.concat(chunks);
}

/** All of a file, byte-exact; `-` is stdin. */
export async function readWhole(path: string): Promise<Buffer> {
  if (path === '-') return readStdin();
  try {
    return await readFile(path);
  } catch (err) {
    throw ioError(err, 'cannot read', path);
  }
}

/** A file is read this much at a time: fewer, larger chunks for a line parser to go through in one loop. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** An input opened for streaming, with its size when known (a file, or stdin redirected from one). */
export interface Source {
  name: string;
  stream: Readable;
  size: number | undefined;
  /** A file's handle, which regionsOf reads directly (its stream is then never made); absent for stdin. */
  file?: FileHandle;
}

/** A file as a Source: its stream is made only when asked for (regionsOf reads the handle itself). */
class FileSource implements Source {
  private made: Readable | undefined;

  constructor(
    readonly name: string,
    readonly file: FileHandle,
    readonly size: number,
  ) {}

  get stream(): Readable {
    return (this.made ??= this.file.createReadStream({ highWaterMark: READ_CHUNK_BYTES }));
  }
}

/** The error for line `line` of `source`: INVALID_ARGUMENT naming both. */
export function lineError(source: Source, line: number, message: string): TzkvError {
  return new TzkvError('INVALID_ARGUMENT', `${source.name} line ${line}: ${message}`, { path: source.name, info: { line } });
}

/** Opens `path` (`-`: stdin) before anything else happens, so a bad path fails first. */
export async function openSource(path: string): Promise<Source> {
  if (path === '-') {
    let size: number | undefined;
    try {
      const st = fstatSync(0);
      size = st.isFile() ? st.size : undefined;
    } catch {
      size = undefined;
    }
    return { name: 'standard input', stream: process.stdin, size };
  }
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
    const st = await handle.stat();
    if (st.isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
    return new FileSource(path, handle, st.size);
  } catch (err) {
    throw ioError(err, 'cannot read', path);
  }
}

/**
 * The lines of one chunk of input, without their `\n` (nor a `\r` before it):
 * `lines[i]` is line number `first + i`, counted from 1.
 */
export interface Lines {
  first: number;
  lines: Buffer[];
}

/**
 * Splits a stream into lines, a chunk's worth at a time (one await per chunk,
 * not per line: an import reads a million lines). A line inside one chunk is a
 * view of it, not a copy, so a consumer that keeps one must copy it. `onBytes`
 * hears how many bytes were consumed so far.
 */
export async function* splitLines(stream: Readable, name: string, onBytes?: (bytes: number) => void): AsyncGenerator<Lines> {
  let number = 0;
  for await (const region of lineRegions(stream, name, onBytes)) {
    const lines: Buffer[] = [];
    let start = 0;
    while (start < region.length) {
      const newline = region.indexOf(10, start);
      const end = newline === -1 ? region.length : newline;
      lines.push(trimCr(region.subarray(start, end)));
      start = end + 1;
    }
    yield { first: number + 1, lines };
    number += lines.length;
  }
}

/**
 * The stream in regions of whole lines, one await per chunk: every region
 * ends with `\n`, but for the input's last line when it has none, and is
 * never empty. A region is a view of one chunk, or the pieces of a line that
 * spanned chunks joined. The bytes are the consumer's, to read or overwrite
 * until it asks for the next region. `onBytes` hears how many bytes were
 * consumed so far.
 */
async function* lineRegions(stream: Readable, name: string, onBytes?: (bytes: number) => void): AsyncGenerator<Buffer> {
  let pending: Buffer[] = []; // a line begun in earlier chunks
  let consumed = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      consumed += chunk.length;
      let start = 0;
      if (pending.length > 0) {
        const newline = chunk.indexOf(10);
        if (newline === -1) {
          pending.push(chunk);
        } else {
          pending.push(chunk.subarray(0, newline + 1));
          yield Buffer.concat(pending);
          pending = [];
          start = newline + 1;
        }
      }
      if (pending.length === 0 && start < chunk.length) {
        const last = chunk.lastIndexOf(10);
        if (last >= start) {
          yield chunk.subarray(start, last + 1);
          start = last + 1;
        }
        if (start < chunk.length) pending.push(chunk.subarray(start));
      }
      onBytes?.(consumed);
    }
  } catch (err) {
    throw ioError(err, 'cannot read', name);
  }
  if (pending.length > 0) yield Buffer.concat(pending);
}

/**
 * lineRegions of `source`: a file is read straight into one buffer, reused
 * from region to region (no stream, no buffer per chunk), so a region is
 * valid, and the consumer's to overwrite, until it asks for the next. The
 * file is closed when the regions end, however they end.
 */
export async function* regionsOf(source: Source, onBytes?: (bytes: number) => void): AsyncGenerator<Buffer> {
  const { file } = source;
  if (file === undefined) {
    yield* lineRegions(source.stream, source.name, onBytes);
    return;
  }
  let buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  let held = 0; // bytes of a line begun at buf[0]
  let consumed = 0;
  try {
    for (;;) {
      if (held === buf.length) buf = Buffer.concat([buf, Buffer.allocUnsafe(buf.length)]); // a line longer than the buffer
      let n: number;
      try {
        ({ bytesRead: n } = await file.read(buf, held, buf.length - held, null));
      } catch (err) {
        throw ioError(err, 'cannot read', source.name);
      }
      if (n === 0) break;
      consumed += n;
      const filled = held + n;
      const last = buf.lastIndexOf(10, filled - 1); // not in [0, held): that is a line without its end
      if (last >= 0) {
        yield buf.subarray(0, last + 1);
        buf.copyWithin(0, last + 1, filled);
        held = filled - last - 1;
      } else {
        held = filled;
      }
      onBytes?.(consumed);
    }
    if (held > 0) yield buf.subarray(0, held);
  } finally {
    await file.close().catch(() => undefined);
  }
}

function trimCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 13 ? line.subarray(0, -1) : line;
}
