// Keys in URLs: the path after /v1/kv/ and the values of query parameters,
// percent-decoded to raw bytes (any byte, `/` included: a key is everything
// after /v1/kv/), and a key percent-encoded for the `next` of a listing.
// Bytes the client sent unencoded are taken as they are (Node reads a
// request line as latin1: one character a byte).
import { badRequest } from './http-error.js';

/** The value of a hex digit's byte, or -1. */
function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * The bytes `text` percent-encodes; with `plusIsSpace` (a query string) `+`
 * is a space. A `%` not followed by two hex digits is a 400 naming `what`.
 */
export function percentDecode(text: string, what: string, plusIsSpace = false): Buffer {
  const raw = Buffer.from(text, 'latin1');
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i];
    if (b === 0x25) {
      const value = i + 2 < raw.length ? (hexValue(raw[i + 1]) << 4) | hexValue(raw[i + 2]) : -1;
      if (value < 0) throw badRequest(`malformed percent-encoding in the ${what} at byte ${i}: "%" must be followed by two hex digits`);
      out[n++] = value;
      i += 2;
    } else {
      out[n++] = plusIsSpace && b === 0x2b ? 0x20 : b;
    }
  }
  return Buffer.from(out.subarray(0, n));
}

/** Bytes left as they are in a percent-encoded key: RFC 3986's unreserved characters. */
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** `bytes` percent-encoded: unreserved ASCII as it is, every other byte as %XX. */
export function percentEncode(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && UNRESERVED.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * A query string's parameters, each as bytes. Only the `allowed` names are
 * taken, each once: any other, or one given twice, is a 400 (a typo is never
 * silently ignored).
 */
export function queryParameters(query: string, allowed: readonly string[]): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  if (query === '') return found;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = percentDecode(eq < 0 ? part : part.slice(0, eq), 'query', true).toString('utf8');
    if (!allowed.includes(name)) {
      const shown = JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
      throw badRequest(`unknown query parameter ${shown}: ${allowed.length === 0 ? 'this route takes none' : `expected ${allowed.join(', ')}`}`);
    }
    if (found.has(name)) throw badRequest(`query parameter "${name}" is given twice`);
    found.set(name, percentDecode(eq < 0 ? '' : part.slice(eq + 1), `"${name}" parameter`, true));
  }
  return found;
}
