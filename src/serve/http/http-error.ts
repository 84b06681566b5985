// What an HTTP request that fails is answered: a status code and a JSON body
// {"error": CODE, "message": ...} (docs/serve.md "HTTP status codes"). A
// TzkvError from the store keeps its code; the HTTP API's own refusals have
// codes of their own (UNAUTHORIZED, NO_ROUTE, METHOD_NOT_ALLOWED, TOO_LARGE).
import { isTzkvError, type ErrorCode } from '../../errors.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Headers the answer carries (Allow, WWW-Authenticate). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The status of each TzkvError code an HTTP request can meet. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  PRECONDITION: 412,
  // Another process holds the store's writer lock past its timeout, or the store is a read-only follower.
  LOCKED: 409,
  READ_ONLY: 409,
  // The store cannot answer now: a full disk or other I/O error, no etcd member, the server shutting down.
  IO: 503,
  UNAVAILABLE: 503,
  TIMEOUT: 503,
  CLOSED: 503,
  // CORRUPT (damaged data the read met), VERSION, INTERNAL and any other code: 500.
};

export const badRequest = (message: string) => new HttpError(400, 'INVALID_ARGUMENT', message);

/** The status, code and message an error is answered with; a thrown non-TzkvError is a bug: 500 INTERNAL, its message kept. */
export function httpErrorOf(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (isTzkvError(err)) return new HttpError(STATUS[err.code] ?? 500, err.code, err.message);
  return new HttpError(500, 'INTERNAL', `internal error: ${err instanceof Error ? err.message : String(err)}`);
}
