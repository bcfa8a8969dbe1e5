// One upstream GOPROXY (or checksum database) over HTTP: what cmd/go's proxyRepo and web.Get do, plus
// what a server needs that a one-shot command does not: a keep-alive pool, timeouts, bounded retries,
// size limits enforced while the bytes flow, and a refusal to follow redirects off the upstream's host.
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Pool, type Dispatcher } from 'undici';
import { GodepotError, GoneError, InvalidContentError, NotFoundError, TimeoutError, UpstreamError } from '../errors.js';
import { MAX_GO_MOD, MAX_ZIP_FILE } from '../module/zipcheck.js';
import type { Metrics } from '../telemetry/metrics.js';
import { errorDetail } from './error-detail.js';
import { redactUrl } from './redact.js';

/** What an upstream request fetches, for metrics labels and size limits. */
export type UpstreamKind = 'list' | 'latest' | 'info' | 'mod' | 'zip' | 'sumdb';

/** Largest metadata body (`list`, `@latest`, `.info`, sumdb answers) accepted from an upstream. */
export const MAX_METADATA = 4 << 20;

/** Largest body accepted per kind: go's own limits for `.mod` and `.zip`, MAX_METADATA for the rest. */
export const DEFAULT_LIMITS: Readonly<Record<UpstreamKind, number>> = {
  list: MAX_METADATA,
  latest: MAX_METADATA,
  info: MAX_METADATA,
  mod: MAX_GO_MOD,
  zip: MAX_ZIP_FILE,
  sumdb: MAX_METADATA,
};

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Go's net/http client gives up after 10 redirects.
const MAX_REDIRECTS = 10;
// Error bodies are read this far for their detail and then dropped.
const MAX_ERROR_BODY = 16 << 10;

/** Options shared by every HTTP upstream client. */
export interface UpstreamClientOptions {
  /** Base URL (`https://proxy.golang.org`, `http://host:8080/prefix/`); userinfo becomes basic auth. */
  url: string;
  /** Limit, each, on connecting, on waiting for the response headers, and on a pause inside a body. Default 30 s. */
  timeoutMs?: number;
  /** Extra attempts after a network error or a 5xx answer (never after a 4xx or a timeout). Default 2. */
  retries?: number;
  /** First backoff delay; each retry doubles it, with jitter. Default 100 ms. */
  retryDelayMs?: number;
  /** Body size limits by kind, replacing DEFAULT_LIMITS entries (tests use small ones). */
  limits?: Partial<Record<UpstreamKind, number>>;
  logger?: Logger;
  metrics?: Metrics;
}

// The error an aborted call rejects with: the signal's reason, as fetch does.
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function outcomeOf(err: unknown): 'not_found' | 'timeout' | 'error' {
  if (err instanceof NotFoundError || err instanceof GoneError) return 'not_found';
  if (err instanceof TimeoutError) return 'timeout';
  return 'error';
}

/** An upstream failure worth another attempt: a network error or a 5xx answer. */
class RetryableError extends Error {
  constructor(readonly error: UpstreamError) {
    super(error.message);
  }
}

/**
 * An HTTP client for one upstream base URL: one keep-alive pool for its origin (scheme, host and
 * port), so that nothing, not even a redirect, is ever fetched from another host. Answers 200 only;
 * 404 → NotFoundError and 410 → GoneError carrying the upstream's text; a redirect to another origin →
 * UpstreamError (not retried: it says nothing about the module and we will not follow it); other
 * statuses → UpstreamError(status); no answer in time → TimeoutError; too large → InvalidContentError.
 */
export class UpstreamClient {
  /** The base URL as logs and error messages show it (password redacted). */
  readonly name: string;
  private readonly base: URL;
  private readonly pool: Pool;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly limits: Record<UpstreamKind, number>;
  private readonly logger: Logger | undefined;
  private readonly metrics: Metrics | undefined;

  constructor(options: UpstreamClientOptions) {
    const base = new URL(options.url);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new TypeError(`upstream URL must be http or https: ${redactUrl(base)}`);
    }
    this.name = redactUrl(base).replace(/\/$/, '');
    if (base.username !== '' || base.password !== '') {
      const user = `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`;
      this.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    }
    base.username = '';
    base.password = '';
    base.search = '';
    base.hash = '';
    this.base = base;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retries = options.retries ?? 2;
    this.retryDelayMs = options.retryDelayMs ?? 100;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.pool = new Pool(base.origin, {
      connections: 32,
      connectTimeout: this.timeoutMs,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      keepAliveTimeout: 10_000,
    });
  }

  /** GETs `relPath` (already escaped, no leading slash) below the base URL into memory. */
  async getBytes(relPath: string, kind: UpstreamKind, signal?: AbortSignal): Promise<Buffer> {
    return this.withRetries(relPath, kind, signal, async (res, url, started) => {
      const body = await this.readLimited(res.body, this.limits[kind], url, signal);
      this.observe(kind, 'ok', started);
      return body;
    });
  }

  /**
   * GETs `relPath` as a stream: retries happen only until the response headers arrive. The stream fails
   * with InvalidContentError past the size limit, TimeoutError when the body stalls, UpstreamError
   * when the connection breaks; destroying it cancels the request.
   */
  async getStream(relPath: string, kind: UpstreamKind, signal?: AbortSignal): Promise<Readable> {
    return this.withRetries(relPath, kind, signal, async (res, url, started) => this.limitStream(res, url, kind, started, signal));
  }

  /** Closes the pool: in-flight requests fail, idle sockets close. */
  async close(): Promise<void> {
    await this.pool.destroy();
  }

  private observe(kind: UpstreamKind, outcome: string, started: number): void {
    this.metrics?.upstreamSeconds.observe({ origin: this.name, kind, outcome }, (performance.now() - started) / 1000);
  }

  private async withRetries<T>(
    relPath: string,
    kind: UpstreamKind,
    signal: AbortSignal | undefined,
    onOk: (res: Dispatcher.ResponseData, url: string, started: number) => Promise<T>,
  ): Promise<T> {
    const path = this.base.pathname.replace(/\/$/, '') + '/' + relPath;
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      try {
        const { res, url } = await this.request(path, kind, signal);
        try {
          return await onOk(res, url, started);
        } catch (err) {
          res.body.destroy();
          throw this.translate(err, url, signal);
        }
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        if (!(err instanceof RetryableError)) {
          this.observe(kind, outcomeOf(err), started);
          throw err;
        }
        this.observe(kind, 'error', started);
        if (attempt >= this.retries) throw err.error;
        // Jitter on an exponential base: spreads the retries of many clients of a sick upstream.
        const delay = this.retryDelayMs * 2 ** attempt * (0.5 + Math.random() / 2);
        this.logger?.warn({ origin: this.name, path: relPath, attempt: attempt + 1, delayMs: Math.round(delay), err: err.message }, 'upstream retry');
        await sleep(delay, undefined, { signal }).catch(() => {
          throw abortReason(signal!);
        });
      }
    }
  }

  /** One attempt: the request, same-origin redirects, and the status check. Resolves on a 200 whose body is unread. */
  private async request(path: string, kind: UpstreamKind, signal: AbortSignal | undefined): Promise<{ res: Dispatcher.ResponseData; url: string }> {
    let target = new URL(this.base.origin + path);
    for (let hops = 0; ; hops++) {
      const url = redactUrl(target);
      let res: Dispatcher.ResponseData;
      try {
        res = await this.pool.request({
          method: 'GET',
          path: target.pathname + target.search,
          headers: { 'user-agent': 'godepot', ...(this.authorization ? { authorization: this.authorization } : {}) },
          signal,
        });
      } catch (err) {
        throw this.translate(err, url, signal);
      }
      if (REDIRECTS.has(res.statusCode)) {
        res.body.dump({ limit: MAX_ERROR_BODY }).catch(() => {});
        const location = res.headers.location;
        if (typeof location !== 'string' || location === '') {
          throw new UpstreamError(`reading ${url}: ${res.statusCode} redirect without a Location`, res.statusCode);
        }
        const next = new URL(location, target);
        if (next.origin !== this.base.origin) {
          throw new UpstreamError(`reading ${url}: redirect to another host refused: ${redactUrl(next)}`, res.statusCode);
        }
        if (hops >= MAX_REDIRECTS) throw new UpstreamError(`reading ${url}: stopped after ${MAX_REDIRECTS} redirects`, res.statusCode);
        target = next;
        continue;
      }
      if (res.statusCode !== 200) throw await this.statusError(res, url, signal);
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > this.limits[kind]) {
        res.body.destroy();
        throw new InvalidContentError(`reading ${url}: body of ${declared} bytes exceeds the ${kind} limit of ${this.limits[kind]} bytes`);
      }
      return { res, url };
    }
  }

  private async statusError(res: Dispatcher.ResponseData, url: string, signal: AbortSignal | undefined): Promise<Error> {
    let detail = '';
    try {
      const contentType = res.headers['content-type'];
      detail = errorDetail(typeof contentType === 'string' ? contentType : undefined, await this.readLimited(res.body, MAX_ERROR_BODY, url, signal));
    } catch {
      // The status alone says enough; an unreadable error body adds nothing.
      res.body.destroy();
    }
    const status = `${res.statusCode}${res.statusText ? ' ' + res.statusText : ''}`;
    const message = `reading ${url}: ${status}`;
    if (res.statusCode === 404) return new NotFoundError(detail || message);
    if (res.statusCode === 410) return new GoneError(detail || message);
    const error = new UpstreamError(detail ? `${message}\n\tserver response: ${detail}` : message, res.statusCode);
    return res.statusCode >= 500 ? new RetryableError(error) : error;
  }

  private async readLimited(body: Readable, limit: number, url: string, signal: AbortSignal | undefined): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) throw new InvalidContentError(`reading ${url}: body exceeds the limit of ${limit} bytes`);
        chunks.push(chunk);
      }
    } catch (err) {
      body.destroy();
      throw this.translate(err, url, signal);
    }
    return Buffer.concat(chunks, size);
  }

  private limitStream(res: Dispatcher.ResponseData, url: string, kind: UpstreamKind, started: number, signal: AbortSignal | undefined): Readable {
    const limit = this.limits[kind];
    const iterator = (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    let size = 0;
    let settled = false;
    const settle = (outcome: string): void => {
      if (settled) return;
      settled = true;
      this.observe(kind, outcome, started);
    };
    const out: Readable = new Readable({
      read: () => {
        iterator.next().then(({ value, done }) => {
          if (done) {
            settle('ok');
            out.push(null);
            return;
          }
          size += value.length;
          if (size > limit) throw new InvalidContentError(`reading ${url}: body exceeds the limit of ${limit} bytes`);
          out.push(value);
        }).catch((err: unknown) => {
          let typed = this.translate(err, url, signal);
          if (typed instanceof RetryableError) typed = typed.error;
          settle(outcomeOf(typed));
          out.destroy(typed instanceof Error ? typed : new UpstreamError(String(typed)));
        });
      },
      destroy: (err, callback) => {
        res.body.destroy();
        // A reader that stops early (its client went away) says nothing about the upstream: not observed.
        if (err) settle(outcomeOf(err));
        settled = true;
        callback(err);
      },
    });
    return out;
  }

  /** Our typed error for whatever undici or a body read threw; network failures come back retryable. */
  private translate(err: unknown, url: string, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) return abortReason(signal);
    if (err instanceof GodepotError || err instanceof RetryableError) return err;
    const code = (err as { code?: unknown }).code;
    if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return new TimeoutError(`reading ${url}: no answer within ${this.timeoutMs} ms`, { cause: err });
    }
    const reason = err instanceof Error ? err.message : String(err);
    return new RetryableError(new UpstreamError(`reading ${url}: ${reason}`, undefined, { cause: err }));
  }
}
