// GOPROXY list semantics, as cmd/go's modfetch proxyList and TryProxies have them: the list is walked
// per call; after an element separated by `,` the next is tried only when this one said the module is
// not there (404/410), after `|` on any error; `direct` and `off` end the list. Which modules are sent
// to the chain at all (private ones are not) is the routing's decision (routing.ts).
import type { Logger } from 'pino';
import { ConfigError, GoneError, NotFoundError, OriginUnavailableError } from '../errors.js';
import type { Transport } from '../http/transport.js';
import type { Metrics } from '../telemetry/metrics.js';
import { downloadPart, failedDownload, type Download, type DownloadRequest, type Origin } from './origin.js';
import { ProxyOrigin } from './proxy.js';

/** One element of a GOPROXY list. */
export interface GoproxyEntry {
  kind: 'proxy' | 'direct' | 'off';
  /** The proxy URL (with `https://` added to a bare host, as go adds it), or `direct` / `off`. */
  url: string;
  /** True when a `|` followed the element: fall through to the next on any error, not only 404/410. */
  fallBackOnError: boolean;
}

/**
 * Parses a GOPROXY value exactly as go does: elements separated by `,` or `|`, surrounding spaces and
 * empty elements ignored, nothing after `off` or `direct` considered, `https://` added to an element
 * that looks like a host (`proxy.example.com`), http/https/file URLs only. Throws ConfigError naming
 * the value when an element is not a valid proxy URL or the list has no elements.
 */
export function parseGoproxyList(spec: string): GoproxyEntry[] {
  const entries: GoproxyEntry[] = [];
  let rest = spec;
  while (rest !== '') {
    let element: string;
    let fallBackOnError = false;
    const i = rest.search(/[,|]/);
    if (i >= 0) {
      element = rest.slice(0, i);
      fallBackOnError = rest[i] === '|';
      rest = rest.slice(i + 1);
    } else {
      element = rest;
      rest = '';
    }
    element = element.trim();
    if (element === '') continue;
    if (element === 'off' || element === 'direct') {
      entries.push({ kind: element, url: element, fallBackOnError });
      break;
    }
    // Single words are reserved for built-in behaviours; anything else that is not a URL or an absolute
    // path is a host, reached over https.
    if (/[.:/]/.test(element) && !element.includes(':/') && !element.startsWith('/')) element = `https://${element}`;
    checkProxyUrl(spec, element);
    entries.push({ kind: 'proxy', url: element, fallBackOnError });
  }
  if (entries.length === 0) throw new ConfigError(`upstream: GOPROXY list ${JSON.stringify(spec)} contains no entries`);
  return entries;
}

// newProxyRepo's checks, with its texts.
function checkProxyUrl(spec: string, element: string): void {
  const fail = (why: string): never => {
    throw new ConfigError(`upstream: invalid GOPROXY ${JSON.stringify(spec)}: ${why}`);
  };
  let url: URL;
  try {
    url = new URL(element);
  } catch {
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(element);
    return fail(scheme === null ? `invalid proxy URL missing scheme: ${element}` : `invalid proxy URL: ${element}`);
  }
  if (url.protocol === 'file:') {
    if (url.host !== '' || url.search !== '' || url.hash !== '' || url.username !== '') {
      fail(`invalid file:// proxy URL with non-path elements: ${element}`);
    }
  } else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail(`invalid proxy URL scheme (must be https, http, file): ${element}`);
  }
}

/** Options of createChain: the upstream list and what each proxy origin needs. */
export interface ChainOptions {
  /** A GOPROXY value (`https://proxy.golang.org,direct`). */
  upstream: string;
  timeoutMs?: number;
  minRate?: number;
  retries?: number;
  transport?: Transport;
  logger?: Logger;
  metrics?: Metrics;
  /** What `direct` means: the module's own repository (DirectOrigin). */
  direct: Origin;
}

/** An Origin that walks a GOPROXY list; close() releases the proxies' connections. */
export interface Chain extends Origin {
  readonly entries: readonly GoproxyEntry[];
  close(): Promise<void>;
}

/** The `off` element: every lookup fails, saying so; `alone` when it is the whole list. */
class OffOrigin implements Origin {
  readonly name = 'off';

  constructor(private readonly alone: boolean) {}

  async list(_modulePath: string, signal?: AbortSignal): Promise<string[]> {
    throw off(signal, this.alone);
  }

  async query(_modulePath: string, _query: string, signal?: AbortSignal): Promise<Buffer> {
    throw off(signal, this.alone);
  }

  download(_modulePath: string, _version: string, request: DownloadRequest, signal?: AbortSignal): Download {
    return failedDownload(request, () => off(signal, this.alone));
  }
}

// Named as the operator wrote it: godepot's setting, not the client's GOPROXY, which did reach godepot.
function off(signal: AbortSignal | undefined, alone: boolean): unknown {
  return signal?.aborted === true ? signal.reason : new OriginUnavailableError(alone ? 'module lookup disabled by --upstream off' : 'module lookup disabled by the off ending --upstream');
}

// TryProxies reports the most useful error: direct's, else a proxy's other than not-found, else not-found.
const NOT_EXIST_RANK = 0;
const PROXY_RANK = 1;
const DIRECT_RANK = 2;

/**
 * An Origin over a GOPROXY list (see parseGoproxyList). Per call, elements are tried in order with go's
 * fall-through rules; `off` fails with OriginUnavailableError("module lookup disabled by --upstream off"),
 * which counts as not-found for ranking, as in go; `direct` is `options.direct`. When every element fails, the error
 * thrown is go's choice: direct's error, else the first proxy error that is not a 404/410, else the
 * last not-found. Throws ConfigError for a bad list.
 */
export function createChain(options: ChainOptions): Chain {
  const entries = parseGoproxyList(options.upstream);
  const file = entries.find((entry) => entry.url.startsWith('file:'));
  if (file !== undefined) throw new ConfigError(`upstream: file:// proxies are not supported (${file.url}); serve the folder over http`);
  const { direct } = options;
  const proxies: ProxyOrigin[] = [];
  const origins = entries.map((entry): Origin => {
    if (entry.kind === 'direct') return direct;
    if (entry.kind === 'off') return new OffOrigin(entries.length === 1);
    const proxy = new ProxyOrigin({ url: entry.url, timeoutMs: options.timeoutMs, minRate: options.minRate, retries: options.retries, transport: options.transport, logger: options.logger, metrics: options.metrics });
    proxies.push(proxy);
    return proxy;
  });
  const logger = options.logger;

  async function walk<T>(modulePath: string, signal: AbortSignal | undefined, call: (origin: Origin, first: boolean) => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    let best: unknown;
    let bestRank = NOT_EXIST_RANK;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const origin = origins[i]!;
      try {
        return await call(origin, i === 0);
      } catch (err) {
        if (signal?.aborted) throw err;
        const notExist = entry.kind === 'off' || err instanceof NotFoundError || err instanceof GoneError;
        if (entry.kind === 'direct') {
          best = err;
          bestRank = DIRECT_RANK;
        } else if (bestRank <= PROXY_RANK && !notExist) {
          best = err;
          bestRank = PROXY_RANK;
        } else if (bestRank === NOT_EXIST_RANK) {
          best = err;
        }
        const next = entries[i + 1];
        if (!entry.fallBackOnError && !notExist) break;
        if (next !== undefined) {
          logger?.debug({ module: modulePath, origin: origin.name, next: next.url, err: err instanceof Error ? err.message : String(err) }, 'upstream fall-through');
        }
      }
    }
    throw best;
  }

  // The first element is asked for every file at once (a VCS origin gets them from one checkout); a
  // file it does not have walks on down the list alone, as go's TryProxies walks it per file.
  function download(modulePath: string, version: string, request: DownloadRequest, signal: AbortSignal | undefined): Download {
    let first: Download | undefined;
    const part = <T>(pick: (download: Download) => Promise<T> | undefined, alone: DownloadRequest): Promise<T> =>
      downloadPart(
        walk(modulePath, signal, (origin, isFirst) =>
          pick(isFirst ? (first ??= origin.download(modulePath, version, request, signal)) : origin.download(modulePath, version, alone, signal))!,
        ),
      );
    const out: Download = {};
    if (request.info === true) out.info = part((d) => d.info, { info: true });
    if (request.mod === true) out.mod = part((d) => d.mod, { mod: true });
    if (request.zipTo !== undefined) out.zip = part((d) => d.zip, { zipTo: request.zipTo });
    return out;
  }

  return {
    name: options.upstream,
    entries,
    list: (modulePath, signal) => walk(modulePath, signal, (o) => o.list(modulePath, signal)),
    query: (modulePath, query, signal) => walk(modulePath, signal, (o) => o.query(modulePath, query, signal)),
    download,
    async close() {
      await Promise.all(proxies.map((p) => p.close()));
    },
  };
}
