// A TLS certificate and its private key, checked before anything listens:
// each must parse as PEM and the key must be the certificate's. Without this
// check Node's TLS server fails deep inside listen() with an OpenSSL code
// ("PEM routines::no start line") that names neither file.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { TzkvError } from '../errors.js';

/** How a message names each part: `--tls-cert cert.pem` on the command line, `tls.cert` for serve(). */
export interface TlsNames {
  cert: string;
  key: string;
}

/** Throws INVALID_ARGUMENT naming the part that is not PEM, or the key that does not match the certificate. */
export function checkTlsPair(cert: Buffer | string, key: Buffer | string, names: TlsNames): void {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (err) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid ${names.cert}: not a PEM certificate (${reason(err)})`, { cause: err });
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid ${names.key}: not a PEM private key (${reason(err)})`, { cause: err });
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid ${names.key}: it is not the key of ${names.cert}`);
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
