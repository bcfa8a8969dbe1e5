// The requests godepot's own commands send to a running godepot's /admin routes (publish, bundle import
// --server, storage … --server, storage gc --server): one way to read --server, one way to say that the
// server could not be reached at all, as opposed to refusing what it was asked.
import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { ConfigError } from '../errors.js';
import type { Transport } from './transport.js';
import { unreachableError } from './unreachable.js';

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
    throw unreachableError(url, err);
  }
}
