// The HTTP API's password: `Authorization: Bearer <password>` (the
// password --requirepass / TZKV_PASSWORD sets, as Redis's AUTH takes it).
// The comparison takes the same time whatever the token: the SHA-256
// digests of both are compared with crypto.timingSafeEqual, so neither the
// token's bytes nor its length leak through timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

const digest = (bytes: Buffer) => createHash('sha256').update(bytes).digest();

/** Checks requests against `password`; null: every request passes. */
export function bearerCheck(password: string | null): (req: IncomingMessage) => void {
  if (password === null) return () => undefined;
  const expected = digest(Buffer.from(password, 'utf8'));
  return (req) => {
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer +(.*)$/i.exec(header);
    if (match === null) {
      throw new HttpError(401, 'UNAUTHORIZED', 'a password is required: send Authorization: Bearer <password>', {
        'WWW-Authenticate': 'Bearer realm="tzkv"',
      });
    }
    // Node reads a header as latin1, one character a byte: the token's bytes as sent (a UTF-8 password's included).
    if (!timingSafeEqual(digest(Buffer.from(match[1], 'latin1')), expected)) {
      throw new HttpError(401, 'UNAUTHORIZED', 'wrong password (Authorization: Bearer <password>)', {
        'WWW-Authenticate': 'Bearer realm="tzkv", error="invalid_token"',
      });
    }
  };
}
