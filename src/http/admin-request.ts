// The requests godepot's own commands send to a running godepot's /admin routes (publish, bundle import
// --server, storage … --server, storage gc --server): one way to read --server, one way to say that the
// server could not be reached at all, as opposed to refusing what it was asked.
import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { ConfigError, UpstreamError } from '../errors.js';
import type { Transport } from './transport.js';

/** The URL of `route` (an absolute path such as /admin/gc) on the godepot at `server`, as --server gives it. */
export function adminUrl(server: string, route: string): URL {
  let url: URL;
  try {
    url = new URL(route.slice(1), server.endsWith('/') ? server : `${server}/`);
  } catch (err) {
    throw new ConfigError(`--server: invalid URL ${JSON.stringify(server)}`, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--server: must be an http or https URL, not ${server}`);
  return url;
}

/** One admin request: the token goes in the Authorization header only, never in a message. */
export interface AdminRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  token: string;
  headers?: Record<string, string>;
  body?: string | Readable;
  /** Wait for the answer however long it takes: the server checks an upload or walks its storage first. */
  patient?: boolean;
  transport?: Transport | undefined;
  signal?: AbortSignal | undefined;
}

/** A whole answer of the server, whatever its status. */
export interface AdminAnswer {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  text: string;
}

/**
 * Sends `asked` to `url` and reads the whole answer, whatever its status. A server that gives no answer
 * (refused or reset connection, unknown host, certificate not trusted) is an UpstreamError saying so
 * and what to check; the caller's abort is thrown as its reason.
 */
export async function adminRequest(url: URL, asked: AdminRequest): Promise<AdminAnswer> {
  try {
    const response = await request(url, {
      method: asked.method,
      headers: { authorization: `Bearer ${asked.token}`, ...asked.headers },
      body: asked.body ?? null,
      signal: asked.signal ?? null,
      dispatcher: asked.transport?.route(url).dispatcher,
      ...(asked.patient === true ? { headersTimeout: 0, bodyTimeout: 0 } : {}),
    });
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
  } catch (err) {
    if (asked.signal?.aborted === true) throw asked.signal.reason;
    throw new UpstreamError(`${url.origin} cannot be reached: ${unreachableReason(err, url)}`, undefined, { cause: err });
  }
}

// Node's and undici's codes for the failures a user can do something about, in words that say what.
const reasons: Record<string, (url: URL) => string> = {
  ECONNREFUSED: (url) => `connection refused: is godepot serve running, listening on ${url.host}?`,
  ENOTFOUND: (url) => `no host ${url.hostname} (check the --server address)`,
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

function unreachableReason(err: unknown, url: URL): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const known = code === undefined ? undefined : reasons[code];
  return known === undefined ? (err as Error).message : known(url);
}
