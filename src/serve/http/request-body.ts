// Reading a request's body, bounded: a body over the limit is refused with
// 413 as soon as its Content-Length says so, or as soon as the bytes that
// came pass it, and reading stops there (the answer then closes the
// connection: the rest of the body is never read).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-error.js';

/** Requests that sent `Expect: 100-continue` and have not been told to go on (the listener's checkContinue). */
const awaitingContinue = new WeakSet<IncomingMessage>();

/** Marks a request whose client waits for 100 Continue: readBody sends it once the body is wanted and not refused by its length. */
export function awaitContinue(req: IncomingMessage): void {
  awaitingContinue.add(req);
}

function tooLarge(limit: number, what: string): HttpError {
  return new HttpError(413, 'TOO_LARGE', `${what} is over the ${limit}-byte limit of a request body (the value limit)`);
}

/** The whole body, at most `limit` bytes; 413 TOO_LARGE past it, 400 when the client stops sending part way. */
export function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit, `the body's Content-Length ${declared}`));
  if (awaitingContinue.delete(req)) res.writeContinue();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = () => {
      req.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onClose);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        done();
        req.pause();
        reject(tooLarge(limit, `the body (${total} bytes so far)`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total));
    };
    const onClose = () => {
      done();
      reject(new HttpError(400, 'INVALID_ARGUMENT', `the request body ended after ${total} bytes, before its end`));
    };
    req.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onClose);
  });
}
