// One upstream GOPROXY (or checksum database) over HTTP: what cmd/go's proxyRepo and web.Get do, plus
// what a server needs that a one-shot command does not: shared keep-alive connections, a deadline on
// the answer and a minimum rate for the body, bounded retries, size limits enforced while the bytes
// flow, a breaker that stops asking a host found down, the outbound proxy the environment names, and a
// refusal to follow redirects off the upstream's host.
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { GodepotError, GoneError, InvalidContentError, NotFoundError, TimeoutError, UpstreamError } from '../errors.js';
import { MAX_GO_MOD, MAX_ZIP_FILE } from '../module/zipcheck.js';
import type { Metrics } from '../telemetry/metrics.js';
import { UpstreamDownError, type Breaker } from './breaker.js';
import { errorDetail } from './error-detail.js';
import { MinRateWatch } from './min-rate.js';
import { redactUrl } from './redact.js';
import { Transport, type Route } from './transport.js';

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

/** The rate a body must keep unless told otherwise (`--upstream-min-rate`): 64 KiB/s. */
export const DEFAULT_MIN_RATE = 64 << 10;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Go's net/http client gives up after 10 redirects.
const MAX_REDIRECTS = 10;
// Error bodies are read this far for their detail and then dropped.
const MAX_ERROR_BODY = 16 << 10;

/** Options shared by every HTTP upstream client. */
export interface UpstreamClientOptions {
  /** Base URL (`https://proxy.golang.org`, `http://host:8080/prefix/`); userinfo becomes basic auth. */
  url: string;
  /**
   * Limit on the wait for the response headers, counted from the call (time queued for a connection,
   * retries and redirects included), and the window over which a body must keep `minRate`. Default 30 s.
   */
  timeoutMs?: number;
  /**
   * Bytes per second a body must average over every `timeoutMs` stretch, or it is cut; a body read whole
   * within `timeoutMs` of its headers is never cut. 0 cuts only a body that stops for that long. Default 64 KiB/s.
   */
  minRate?: number;
  /** Extra attempts after a network error or a 5xx answer (never after a 4xx or a timeout). Default 2. */
  retries?: number;
  /** First backoff delay; each retry doubles it, with jitter. Default 100 ms. */
  retryDelayMs?: number;
  /** Body size limits by kind, replacing DEFAULT_LIMITS entries (tests use small ones). */
  limits?: Partial<Record<UpstreamKind, number>>;
  /** The connections, outbound proxies and breakers this client shares with others; its own (no proxy) when absent. */
  transport?: Transport;
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

/** `ms` as messages give it: `5 s`, `0.2 s`. */
function seconds(ms: number): string {
  return `${Math.round(ms) / 1000} s`;
}

/** An upstream failure worth another attempt: a network error or a 5xx answer. */
class RetryableError extends Error {
  constructor(
    readonly error: UpstreamError,
    /** True when it says the host is down (no answer at all, or 503), so that giving up opens its breaker. */
    readonly hostDown: boolean,
  ) {
    super(error.message);
  }
}

/** The `msg` of the line logged for each retried request, which commands show as a count instead (see consoleLogger). */
export const upstreamRetryMessage = 'upstream retry';

/**
 * One call's cancellation as the one signal undici is given: the caller's signal, and while the call
 * waits for response headers, its deadline and the breaker of its host.
 */
class Exchange {
  private readonly controller = new AbortController();
  private readonly forward = (): void => this.controller.abort(abortReason(this.caller!));
  private deadline: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly caller: AbortSignal | undefined,
    private readonly breaker: Breaker,
  ) {
    if (caller?.aborted) this.forward();
    else caller?.addEventListener('abort', this.forward, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Starts waiting for headers, unless already waiting: `late()` is the failure after `timeoutMs`. */
  wait(timeoutMs: number, late: () => TimeoutError): void {
    if (this.deadline !== undefined) return;
    this.deadline = setTimeout(() => this.controller.abort(late()), timeoutMs);
    this.deadline.unref();
    this.unwatch = this.breaker.watch((down) => this.controller.abort(down));
  }

  /** The headers arrived: neither the deadline nor the breaker applies to the body. */
  answered(): void {
    clearTimeout(this.deadline);
    this.deadline = undefined;
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** The call is over. */
  release(): void {
    this.answered();
    this.caller?.removeEventListener('abort', this.forward);
  }

  /** What `err` really is when the call was aborted: the caller's reason, or ours (TimeoutError, UpstreamDownError). */
  failure(err: unknown): unknown {
    if (this.caller?.aborted) return abortReason(this.caller);
    return this.controller.signal.aborted ? this.controller.signal.reason : err;
  }
}

/**
 * An HTTP client for one upstream base URL; nothing, not even a redirect, is ever fetched from another
 * origin (scheme, host and port). Answers 200 only; 404 → NotFoundError and 410 → GoneError naming
 * the URL and carrying the upstream's text; a redirect to another origin → UpstreamError (not retried: it says nothing about
 * the module and we will not follow it); other statuses → UpstreamError(status); no response headers
 * within the timeout, or a body below the minimum rate → TimeoutError; too large → InvalidContentError;
 * the host considered down (see Breaker) → UpstreamDownError at once. A call that ends without any
 * answer from the host (after its retries), or with a 503, opens the host's breaker; 404s, 410s and
 * other 5xx are about one path, and do not.
 */
export class UpstreamClient {
  /** The base URL as logs and error messages show it (password redacted). */
  readonly name: string;
  private readonly base: URL;
  private readonly transport: Transport;
  private readonly ownTransport: boolean;
  private readonly route: Route;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;
  private readonly minRate: number;
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
    this.minRate = options.minRate ?? DEFAULT_MIN_RATE;
    this.retries = options.retries ?? 2;
    this.retryDelayMs = options.retryDelayMs ?? 100;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.ownTransport = options.transport === undefined;
    this.transport = options.transport ?? new Transport({ timeoutMs: this.timeoutMs, logger: this.logger, metrics: this.metrics });
    this.route = this.transport.route(base);
  }

  /** GETs `relPath` (already escaped, no leading slash) below the base URL into memory. */
  async getBytes(relPath: string, kind: UpstreamKind, signal?: AbortSignal): Promise<Buffer> {
    return this.call(relPath, kind, signal, false, async (res, url, started, exchange) => {
      const body = await this.readLimited(res.body, this.limits[kind], url, exchange, true);
      this.observe(kind, 'ok', started);
      return body;
    });
  }

  /**
   * GETs `relPath` as a stream: retries happen only until the response headers arrive. The stream fails
   * with InvalidContentError past the size limit, TimeoutError when the body falls below the minimum
   * rate, UpstreamError when the connection breaks; destroying it cancels the request.
   */
  async getStream(relPath: string, kind: UpstreamKind, signal?: AbortSignal): Promise<Readable> {
    return this.call(relPath, kind, signal, true, async (res, url, started, exchange) => this.limitStream(res, url, kind, started, exchange));
  }

  /** Closes the connections, unless they belong to a transport given by the caller, which closes it. */
  async close(): Promise<void> {
    if (this.ownTransport) await this.transport.close();
  }

  private observe(kind: UpstreamKind, outcome: string, started: number): void {
    this.metrics?.upstreamSeconds.observe({ origin: this.name, kind, outcome }, (performance.now() - started) / 1000);
  }

  /**
   * The attempts of one call, until a 200 whose body `onOk` reads (or, `streaming`, hands on, releasing
   * the exchange once the stream is done). Retries wait with backoff, within the deadline on headers,
   * and stop at once when the host is found down meanwhile.
   */
  private async call<T>(
    relPath: string,
    kind: UpstreamKind,
    signal: AbortSignal | undefined,
    streaming: boolean,
    onOk: (res: Dispatcher.ResponseData, url: string, started: number, exchange: Exchange) => Promise<T>,
  ): Promise<T> {
    const path = this.base.pathname.replace(/\/$/, '') + '/' + relPath;
    const first = this.base.origin + path;
    const late = (): TimeoutError => new TimeoutError(`reading ${first}: no response headers within ${seconds(this.timeoutMs)}`);
    const { breaker } = this.route;
    const exchange = new Exchange(signal, breaker);
    const calledAt = performance.now();
    try {
      for (let attempt = 0; ; attempt++) {
        const started = performance.now();
        let failure: unknown;
        let answered = false;
        try {
          exchange.wait(this.timeoutMs, late);
          breaker.check();
          const { res, url } = await this.request(path, kind, exchange);
          exchange.answered();
          answered = true;
          try {
            const result = await onOk(res, url, started, exchange);
            if (!streaming) exchange.release();
            return result;
          } catch (err) {
            res.body.destroy();
            throw this.translate(err, url, exchange, false);
          }
        } catch (err) {
          failure = exchange.failure(err);
        }
        if (signal?.aborted) throw failure;
        if (!(failure instanceof RetryableError)) {
          // A call the breaker stopped says nothing of the upstream's latency.
          if (!(failure instanceof UpstreamDownError)) this.observe(kind, outcomeOf(failure), started);
          // No headers in time: the host is taken to be down (a slow body is only slow), unless it was
          // heard from meanwhile and this call only waited for a connection.
          if (failure instanceof TimeoutError && !answered) breaker.failed(failure, calledAt);
          throw failure;
        }
        this.observe(kind, 'error', started);
        const giveUp = (): never => {
          if (failure.hostDown) breaker.failed(failure.error);
          throw failure.error;
        };
        if (attempt >= this.retries) giveUp();
        // Jitter on an exponential base: spreads the retries of many clients of a sick upstream.
        const delay = this.retryDelayMs * 2 ** attempt * (0.5 + Math.random() / 2);
        this.logger?.warn({ origin: this.name, path: relPath, attempt: attempt + 1, delayMs: Math.round(delay), err: failure.message }, upstreamRetryMessage);
        try {
          await sleep(delay, undefined, { signal: exchange.signal });
        } catch {
          // The caller went away, or the deadline passed or the host was found down while waiting: the
          // last failure is the news.
          if (signal?.aborted) throw abortReason(signal);
          giveUp();
        }
      }
    } catch (err) {
      exchange.release();
      throw err;
    }
  }

  /** One attempt: the request, same-origin redirects, and the status check. Resolves on a 200 whose body is unread. */
  private async request(path: string, kind: UpstreamKind, exchange: Exchange): Promise<{ res: Dispatcher.ResponseData; url: string }> {
    let target = new URL(this.base.origin + path);
    for (let hops = 0; ; hops++) {
      const url = redactUrl(target);
      let res: Dispatcher.ResponseData;
      try {
        res = await this.route.dispatcher.request({
          origin: this.base.origin,
          method: 'GET',
          path: target.pathname + target.search,
          headers: { 'user-agent': 'godepot', ...(this.authorization ? { authorization: this.authorization } : {}) },
          signal: exchange.signal,
        });
      } catch (err) {
        throw this.translate(err, url, exchange, true);
      }
      // Whatever the path, an answer says the host is there.
      if (res.statusCode < 500) this.route.breaker.answered();
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
      if (res.statusCode !== 200) throw await this.statusError(res, url, exchange);
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > this.limits[kind]) {
        res.body.destroy();
        throw new InvalidContentError(`reading ${url}: body of ${declared} bytes exceeds the ${kind} limit of ${this.limits[kind]} bytes`);
      }
      return { res, url };
    }
  }

  private async statusError(res: Dispatcher.ResponseData, url: string, exchange: Exchange): Promise<Error> {
    let detail = '';
    try {
      const contentType = res.headers['content-type'];
      detail = errorDetail(typeof contentType === 'string' ? contentType : undefined, await this.readLimited(res.body, MAX_ERROR_BODY, url, exchange, false));
    } catch {
      // The status alone says enough; an unreadable error body adds nothing.
      res.body.destroy();
    }
    if (res.statusCode === 404 || res.statusCode === 410) {
      // Names the origin that said so. The answer's own "not found: " or "gone: " is dropped: whoever shows
      // the error says that once (the server's body starts with it), and a chain of proxies, godepots
      // among them, would otherwise repeat it at every hop.
      const why = detail.replace(/^(?:not found|gone):\s*/i, '');
      const text = `${url} answered ${res.statusCode}${why === '' ? '' : `: ${why}`}`;
      return res.statusCode === 404 ? new NotFoundError(text) : new GoneError(text);
    }
    const status = `${res.statusCode}${res.statusText ? ' ' + res.statusText : ''}`;
    const message = `reading ${url}: ${status}`;
    const error = new UpstreamError(detail ? `${message}\n\tserver response: ${detail}` : message, res.statusCode);
    // 503 is the status of a server that cannot serve anything now; other 5xx can be about this one
    // path (a proxy answers 502 when it cannot fetch one module, godepot itself does).
    return res.statusCode >= 500 ? new RetryableError(error, res.statusCode === 503) : error;
  }

  /** Cuts `body` with a TimeoutError when it falls below the minimum rate; stop() the watch when done. */
  private watchRate(body: Readable, url: string): MinRateWatch {
    return new MinRateWatch(this.timeoutMs, this.minRate, (read) => {
      const why = this.minRate > 0 ? `body below ${this.minRate} B/s for ${seconds(this.timeoutMs)} (${read} bytes in that time)` : `body stopped for ${seconds(this.timeoutMs)}`;
      body.destroy(new TimeoutError(`reading ${url}: ${why}`));
    });
  }

  /** Reads `body` whole, up to `limit` bytes, at the minimum rate when `rated` (error bodies are within the deadline on headers). */
  private async readLimited(body: Readable, limit: number, url: string, exchange: Exchange, rated: boolean): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    const watch = rated ? this.watchRate(body, url) : null;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (watch !== null) {
          // A 200's body, not an error's, says the host is serving.
          watch.read(chunk.length);
          this.route.breaker.alive();
        }
        if (size > limit) throw new InvalidContentError(`reading ${url}: body exceeds the limit of ${limit} bytes`);
        chunks.push(chunk);
      }
    } catch (err) {
      body.destroy();
      throw this.translate(err, url, exchange, false);
    } finally {
      watch?.stop();
    }
    return Buffer.concat(chunks, size);
  }

  private limitStream(res: Dispatcher.ResponseData, url: string, kind: UpstreamKind, started: number, exchange: Exchange): Readable {
    const limit = this.limits[kind];
    const iterator = (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const watch = this.watchRate(res.body, url);
    let size = 0;
    let settled = false;
    const settle = (outcome: string | null): void => {
      watch.stop();
      exchange.release();
      if (settled) return;
      settled = true;
      if (outcome !== null) this.observe(kind, outcome, started);
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
          watch.read(value.length);
          this.route.breaker.alive();
          if (size > limit) throw new InvalidContentError(`reading ${url}: body exceeds the limit of ${limit} bytes`);
          out.push(value);
        }).catch((err: unknown) => {
          let typed = this.translate(err, url, exchange, false);
          if (typed instanceof RetryableError) typed = typed.error;
          settle(outcomeOf(typed));
          out.destroy(typed instanceof Error ? typed : new UpstreamError(String(typed)));
        });
      },
      destroy: (err, callback) => {
        res.body.destroy();
        // A reader that stops early (its client went away) says nothing about the upstream: not observed.
        settle(err ? outcomeOf(err) : null);
        callback(err);
      },
    });
    return out;
  }

  /**
   * Our typed error for whatever undici or a body read threw; network failures come back retryable,
   * saying the host is down when they came `beforeAnswer`.
   */
  private translate(err: unknown, url: string, exchange: Exchange, beforeAnswer: boolean): unknown {
    if (exchange.signal.aborted) return exchange.failure(err);
    if (err instanceof GodepotError || err instanceof RetryableError) return err;
    const code = (err as { code?: unknown }).code;
    if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
      return new TimeoutError(`reading ${url}: no response headers within ${seconds(this.timeoutMs)}`, { cause: err });
    }
    if (code === 'UND_ERR_BODY_TIMEOUT') {
      return new TimeoutError(`reading ${url}: body stopped`, { cause: err });
    }
    const reason = err instanceof Error ? err.message : String(err);
    const via = this.route.proxy === null ? '' : ` via proxy ${this.route.proxy}`;
    return new RetryableError(new UpstreamError(`reading ${url}${via}: ${reason}`, undefined, { cause: err }), beforeAnswer);
  }
}
