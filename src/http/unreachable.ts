// The ways a godepot server (or any HTTP server godepot's commands talk to) can fail to answer at all,
// told apart from an answer that refuses: the first calls for checking the address, the server or trust.
import { UpstreamError } from '../errors.js';

// Node's and undici's codes for the failures a user can do something about, in words that say what.
const reasons: Record<string, (url: URL) => string> = {
  ECONNREFUSED: (url) => `connection refused: is godepot serve running, listening on ${url.host}?`,
  ENOTFOUND: (url) => `no host ${url.hostname} (check the address)`,
  EAI_AGAIN: (url) => `the name ${url.hostname} could not be looked up now`,
  ECONNRESET: () => 'the connection was reset',
  // What an https server does with a plain http request.
  UND_ERR_SOCKET: (url) => `the connection was closed before an answer${url.protocol === 'http:' ? ' (if the server has TLS, use https://)' : ''}`,
  UND_ERR_CONNECT_TIMEOUT: () => 'no connection within the time limit',
  ERR_SSL_WRONG_VERSION_NUMBER: () => 'it does not speak TLS: use http://',
  DEPTH_ZERO_SELF_SIGNED_CERT: () => 'its certificate is not trusted: name its CA with SSL_CERT_FILE=ca.pem',
  SELF_SIGNED_CERT_IN_CHAIN: () => 'its certificate is not trusted: name its CA with SSL_CERT_FILE=ca.pem',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: () => 'its certificate is not trusted: name its CA with SSL_CERT_FILE=ca.pem',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: () => 'its certificate is not trusted: name its CA with SSL_CERT_FILE=ca.pem',
  ERR_TLS_CERT_ALTNAME_INVALID: (url) => `its certificate is not for ${url.hostname}`,
  CERT_HAS_EXPIRED: () => 'its certificate has expired',
};

/**
 * Why `url`'s server gave no answer at all, in words that say what to check, when `err` (or an error
 * that it wraps) is one of those failures; undefined for any other error.
 */
export function unreachableReason(err: unknown, url: URL): string | undefined {
  for (let e = err; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    const known = code === undefined ? undefined : reasons[code];
    if (known !== undefined) return known(url);
  }
  return undefined;
}

/** An UpstreamError saying that `url`'s server cannot be reached, and why: unreachableReason, else `err`'s own message. */
export function unreachableError(url: URL, err: unknown): UpstreamError {
  return new UpstreamError(`${url.origin} cannot be reached: ${unreachableReason(err, url) ?? (err as Error).message}`, undefined, { cause: err });
}
