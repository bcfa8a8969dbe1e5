// One `?go-get=1` request as go 1.19 makes it (cmd/go/internal/web, Get with a URL without scheme):
// https first; for a host matching the insecure patterns, with its certificate unchecked and at most
// 5 s, then plain http when that failed. Any answer counts, whatever its status (vanity servers put
// their meta tags in 404 pages too). Redirects are followed to any host, at most 10 requests, but from
// a secure lookup never down to plain http. Requests go through the Transport: its outbound proxy
// rules apply, and a host its breaker holds down (a GOPROXY host found down, say) fails at once. A
// failed page does not open the breaker, though: the hosts here are named by the module paths clients
// ask for, and an open breaker probes its host for as long as the process runs, which a mistyped or
// vanished host never ends.
import { STATUS_CODES } from 'node:http';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { TimeoutError, UpstreamError } from '../errors.js';
import { redactUrl } from '../http/redact.js';
import type { CertificateCheck, Transport } from '../http/transport.js';

/** One answer to a `?go-get=1` request. */
export interface GoGetAnswer {
  /** The URL asked, before any redirect, as go's messages show it. */
  readonly url: string;
  readonly status: number;
  /** The status's standard reason phrase (`Not Found`), or "" (undici does not tell the server's own). */
  readonly statusText: string;
  readonly contentType: string | undefined;
  /** The body, or its first MAX_PAGE bytes. */
  readonly body: Buffer;
}

/** How a page is fetched. */
export interface GoGetOptions {
  transport: Transport;
  /** The module path matches the insecure patterns (GOINSECURE). */
  insecure: boolean;
  /** Limit on each attempt, from the request to the end of the body. */
  timeoutMs: number;
  logger?: Logger;
}

/**
 * Bytes of a page read at most. go reads a page only up to the end of its head, and no real meta tag
 * sits this deep: the rest of a larger page is left unread and the page read as if it ended there.
 */
const MAX_PAGE = 4 << 20;

// go's impatient client for insecure hosts' https (cmd/go/internal/web): they may have no https at all.
const INSECURE_HTTPS_TIMEOUT_MS = 5000;
// go's http.Client gives up at the 10th request of a chain of redirects.
const MAX_REQUESTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** go's url.Error form: `Get "https://example.com/x?go-get=1": reason`. */
function getError(url: URL, reason: string, options?: { cause?: unknown }): UpstreamError {
  return new UpstreamError(`Get "${redactUrl(url)}": ${reason}`, undefined, options);
}

/**
 * GETs `https://<importPath>?go-get=1` (and for an insecure host, `http://` after a failed https
 * attempt). Rejects with UpstreamError or TimeoutError (`Get "URL": reason`) only when no answer came
 * under any scheme tried; go reports the last attempt's failure.
 */
export async function getGoGetPage(importPath: string, options: GoGetOptions): Promise<GoGetAnswer> {
  const slash = importPath.indexOf('/');
  const hostAndPath = slash < 0 ? `${importPath}/` : importPath;
  const secure = new URL(`https://${hostAndPath}?go-get=1`);
  if (!options.insecure) return attempt(secure, { ...options, certificates: 'verify', downgrade: false });
  try {
    return await attempt(secure, { ...options, certificates: 'skip', downgrade: true, timeoutMs: Math.min(options.timeoutMs, INSECURE_HTTPS_TIMEOUT_MS) });
  } catch (err) {
    options.logger?.debug({ url: secure.href, err: (err as Error).message }, 'go-get page over https failed; trying http');
  }
  return attempt(new URL(`http://${hostAndPath}?go-get=1`), { ...options, certificates: 'verify', downgrade: true });
}

interface Attempt extends GoGetOptions {
  /** Whether the https servers' certificates are checked, on every hop. */
  certificates: CertificateCheck;
  /** Whether a redirect may go from https to http. */
  downgrade: boolean;
}

/** One scheme's request and its redirects, within one deadline. */
async function attempt(url: URL, options: Attempt): Promise<GoGetAnswer> {
  const started = performance.now();
  const deadline = new AbortController();
  let target = url;
  const timer = setTimeout(() => deadline.abort(new TimeoutError(`Get "${redactUrl(target)}": no answer within ${options.timeoutMs / 1000} s`)), options.timeoutMs);
  timer.unref();
  try {
    for (let requests = 1; ; requests++) {
      const res = await request(target, options, deadline.signal);
      const location = res.headers.location;
      // A redirect without a Location is an answer, as for go's http.Client.
      if (REDIRECTS.has(res.statusCode) && typeof location === 'string' && location !== '') {
        res.body.dump().catch(() => {});
        const next = new URL(location, target);
        if (next.protocol !== 'https:' && next.protocol !== 'http:') throw getError(next, `unsupported protocol scheme "${next.protocol.slice(0, -1)}"`);
        if (requests >= MAX_REQUESTS) throw getError(next, `stopped after ${MAX_REQUESTS} redirects`);
        if (!options.downgrade && url.protocol === 'https:' && next.protocol !== 'https:') {
          throw getError(next, `redirected from secure URL ${redactUrl(target)} to insecure URL ${redactUrl(next)}`);
        }
        target = next;
        continue;
      }
      const body = await readPage(res, target, deadline.signal);
      const contentType = res.headers['content-type'];
      options.logger?.debug({ url: url.href, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'go-get page');
      return { url: redactUrl(url), status: res.statusCode, statusText: STATUS_CODES[res.statusCode] ?? '', contentType: typeof contentType === 'string' ? contentType : undefined, body };
    }
  } finally {
    clearTimeout(timer);
  }
}

/** One request through the transport; an answer tells the host's breaker the host is there. */
async function request(target: URL, options: Attempt, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
  const route = options.transport.route(target, options.certificates);
  let res: Dispatcher.ResponseData;
  try {
    route.breaker.check();
    res = await route.dispatcher.request({
      origin: target.origin,
      path: target.pathname + target.search,
      method: 'GET',
      headers: { 'user-agent': 'godepot' },
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw getError(target, err instanceof UpstreamError ? err.message : reasonOf(err, route.proxy), { cause: err });
  }
  if (res.statusCode < 500) route.breaker.answered();
  return res;
}

function reasonOf(err: unknown, proxy: string | null): string {
  const reason = err instanceof Error ? err.message : String(err);
  return proxy === null ? reason : `${reason} (via proxy ${proxy})`;
}

/** The body, or its first MAX_PAGE bytes; the deadline's TimeoutError when it passes meanwhile. */
async function readPage(res: Dispatcher.ResponseData, target: URL, signal: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_PAGE) {
        res.body.destroy();
        break;
      }
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw getError(target, `reading body: ${reasonOf(err, null)}`, { cause: err });
  }
  return Buffer.concat(chunks, size).subarray(0, MAX_PAGE);
}
