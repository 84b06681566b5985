// Reading what the user hands tzkv: a whole value (from a file or stdin), or
// an input stream split into lines. Bytes stay bytes: nothing is decoded here.

import { fstatSync } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ioError } from '../errors.js';

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

/** An input opened for streaming, with its size when known (a file, or stdin redirected from one). */
export interface Source {
  name: string;
  stream: Readable;
  size: number | undefined;
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
    return { name: path, stream: handle.createReadStream(), size: st.size };
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
  let pending: Buffer[] = [];
  let number = 0;
  let consumed = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      consumed += chunk.length;
      const first = number + 1;
      const lines: Buffer[] = [];
      let start = 0;
      let end: number;
      while ((end = chunk.indexOf(10, start)) !== -1) {
        if (pending.length === 0) {
          lines.push(trimCr(chunk.subarray(start, end)));
        } else {
          pending.push(chunk.subarray(start, end));
          lines.push(trimCr(Buffer.concat(pending)));
          pending = [];
        }
        start = end + 1;
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
      number += lines.length;
      onBytes?.(consumed);
      if (lines.length > 0) yield { first, lines };
    }
  } catch (err) {
    throw ioError(err, 'cannot read', name);
  }
  if (pending.length > 0) yield { first: number + 1, lines: [trimCr(Buffer.concat(pending))] };
}

function trimCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 13 ? line.subarray(0, -1) : line;
}
