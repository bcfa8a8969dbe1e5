// The checksum-database proxy of the GOPROXY protocol (`/sumdb/<name>/...`, design 25530): godepot
// passes requests for any database name on to whoever can answer them, the way the go command finds its
// own route: the first upstream proxy that says `supported`, unless GOSUMDB gives the database a URL.
// Full tiles never change and are kept in storage, so they are served even when the route is down; so
// are the lookups, tiles and signed head godepot's own client verified (client.ts keeps them in the same
// place), which is what lets go verify stored modules while the database cannot be reached.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { abortable } from '../abortable.js';
import type { Artifact } from '../protocol/artifact.js';
import { GoneError, InvalidContentError, InvalidRequestError, NotFoundError, UpstreamError } from '../errors.js';
import { unescapePath, unescapeVersion } from '../module/path.js';
import { UpstreamClient } from '../http/upstream-client.js';
import type { Transport } from '../http/transport.js';
import type { Storage } from '../storage/storage.js';
import type { Metrics } from '../telemetry/metrics.js';
import { ThrottledWarnings } from '../telemetry/throttled-warnings.js';
import { PROXIED_SUMDB_NAME, type Gosumdb } from './gosumdb.js';

const MAX_NAME = 253;
// tlog tile paths as go writes them: tile/H/L/NNN or tile/H/data/NNN, x-prefixed folders for large
// indexes, and .p/W for a partial tile of width W.
const TILE = /^tile\/([0-9]{1,2})\/(data|[0-9]{1,2})\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([0-9]{1,10}))?$/;
const HASH_SIZE = 32;

/** Options of SumdbPassthrough. */
export interface SumdbPassthroughOptions {
  /** Upstream GOPROXY URLs in chain order (the `proxy` elements of the list). */
  upstreams: readonly string[];
  /** The database godepot trusts (`--sumdb`); when it has a URL, requests for its name go there. */
  sumdb: Gosumdb | null;
  /** Where full tiles are kept, under `sumdb/<name>/tile/...`. */
  storage: Storage;
  /** Whether a module may be looked up (Routing.sumdbAllowed); the lookups of others answer not found. Default: all may. */
  lookedUp?: (modulePath: string) => boolean;
  logger?: Logger;
  metrics?: Metrics;
  timeoutMs?: number;
  /** The minimum rate of a body; see UpstreamClient. */
  minRate?: number;
  retries?: number;
  /** The connections, outbound proxies and breakers shared with the module chain. */
  transport?: Transport;
  /** How long a found route is trusted before it is probed again. Default 10 minutes. */
  routeTtlMs?: number;
  /** How long "no proxy supports this database", or "its route just failed", is remembered. Default 1 minute. */
  missTtlMs?: number;
}

/** Where a database's requests go: a client and the path prefix below its base URL. */
interface Route {
  client: UpstreamClient;
  prefix: string;
}

interface RouteEntry {
  route: Route | null;
  expires: number;
}

type Parsed =
  | { kind: 'supported' | 'latest' }
  | { kind: 'lookup'; modulePath: string }
  | { kind: 'tile'; full: boolean; height: number; data: boolean };

/** Validates `name` and `path` of `/sumdb/<name>/<path>`; throws InvalidRequestError. */
function parse(name: string, path: string): Parsed {
  if (name.length > MAX_NAME || !PROXIED_SUMDB_NAME.test(name)) throw new InvalidRequestError(`invalid checksum database name ${JSON.stringify(name)}`);
  if (path === 'supported' || path === 'latest') return { kind: path };
  if (path.startsWith('lookup/')) {
    const target = path.slice('lookup/'.length);
    const at = target.indexOf('@');
    if (at <= 0) throw new InvalidRequestError(`invalid checksum database lookup ${JSON.stringify(target)}`);
    try {
      const modulePath = unescapePath(target.slice(0, at));
      unescapeVersion(target.slice(at + 1));
      return { kind: 'lookup', modulePath };
    } catch (err) {
      throw new InvalidRequestError(`invalid checksum database lookup ${JSON.stringify(target)}: ${(err as Error).message}`, { cause: err });
    }
  }
  const tile = TILE.exec(path);
  if (tile !== null) {
    const height = Number(tile[1]);
    const width = tile[4] === undefined ? null : Number(tile[4]);
    if (height >= 1 && height <= 30 && (width === null || (width >= 1 && width < 2 ** height))) {
      return { kind: 'tile', full: width === null, height, data: tile[2] === 'data' };
    }
  }
  throw new InvalidRequestError(`invalid checksum database path ${JSON.stringify(path)}`);
}

function artifact(body: Buffer, parsed: Parsed, cache: Artifact['cache']): Artifact {
  const immutable = parsed.kind === 'tile' && parsed.full;
  return {
    contentType: parsed.kind === 'tile' ? 'application/octet-stream' : 'text/plain; charset=utf-8',
    size: body.length,
    immutable,
    etag: immutable ? `"sha256-${createHash('sha256').update(body).digest('hex')}"` : null,
    cache,
    body,
  };
}

/**
 * Answers `/sumdb/<name>/<path>` (`supported`, `latest`, `lookup/<module>@<version>`, `tile/...`) for
 * any database name. Route: the database's own URL when `sumdb` names it with one (as go bypasses
 * proxies then), else the first upstream whose `/sumdb/<name>/supported` answers 200, probed once and
 * remembered (a known route survives failed re-probes); for the database `sumdb` names without a URL,
 * https://<name> when no proxy supports it, as go then goes there itself. Full tiles are served from
 * storage when stored, else fetched, checked (a hash tile is 2^H hashes) and stored; partial tiles,
 * lookups and `latest` go to the route. When there is no route, or it fails (anything but a not-found
 * answer or a bad request), what storage holds under `sumdb/<name>/` is served instead (cache `stale`):
 * `latest`, the lookup, a partial hash tile cut from a wider stored one, and `supported` once a head is
 * stored. Throws InvalidRequestError for a bad name or path, NotFoundError when no route exists and
 * nothing is stored (so `supported` answers 404 and go goes to the database itself) or for the lookup
 * of a module not looked up (`lookedUp`: private ones), UpstreamError when probing failed without any proxy saying no, and the route's
 * errors (NotFoundError, GoneError, UpstreamError, TimeoutError, InvalidContentError) otherwise.
 */
export class SumdbPassthrough {
  private readonly options: SumdbPassthroughOptions;
  private readonly proxies: UpstreamClient[];
  private readonly own: UpstreamClient | null;
  /** The trusted database at its own https:// address, for when no proxy supports it. */
  private readonly direct: UpstreamClient | null;
  private readonly routes = new Map<string, RouteEntry>();
  private readonly probes = new Map<string, Promise<Route | null>>();
  /** Until when a database whose route just failed is answered from storage first. */
  private readonly unreachable = new Map<string, number>();
  /** One line per database a minute while it is answered from storage, not one per request. */
  private readonly staleWarnings: ThrottledWarnings | undefined;

  constructor(options: SumdbPassthroughOptions) {
    this.options = options;
    const clientOptions = { timeoutMs: options.timeoutMs, minRate: options.minRate, retries: options.retries, transport: options.transport, logger: options.logger, metrics: options.metrics };
    this.proxies = options.upstreams.map((url) => new UpstreamClient({ ...clientOptions, url }));
    this.own = options.sumdb?.url ? new UpstreamClient({ ...clientOptions, url: options.sumdb.url }) : null;
    this.direct = options.sumdb && !options.sumdb.url ? new UpstreamClient({ ...clientOptions, url: `https://${options.sumdb.name}` }) : null;
    this.staleWarnings = options.logger === undefined ? undefined : new ThrottledWarnings(options.logger);
  }

  async get(name: string, path: string, signal?: AbortSignal): Promise<Artifact> {
    const parsed = parse(name, path);
    signal?.throwIfAborted();
    if (parsed.kind === 'lookup' && this.options.lookedUp?.(parsed.modulePath) === false) {
      throw new NotFoundError(`${parsed.modulePath} is private here: its checksums are never looked up`);
    }
    const key = `sumdb/${name}/${path}`;
    if (parsed.kind === 'tile' && parsed.full) {
      const stored = await this.fromStorage(key, signal);
      if (stored !== null) return artifact(stored, parsed, 'hit');
    }
    // A database that just failed (an air gap that drops packets: each try costs the whole timeout) is
    // not asked again for a while when storage can answer.
    const down = this.unreachable.get(name);
    if (down !== undefined && down > Date.now()) {
      const stored = await this.storedInstead(name, path, parsed, new UpstreamError(`checksum database ${name} unreachable`), signal).catch(() => null);
      if (stored !== null) return stored;
    }
    let found: { route: Route | null; remembered: boolean };
    try {
      found = await this.route(name, signal);
    } catch (err) {
      return this.storedInstead(name, path, parsed, err, signal);
    }
    const { route, remembered } = found;
    if (route === null) {
      return this.storedInstead(name, path, parsed, new NotFoundError(`no route to checksum database ${name}: no upstream proxy supports it`), signal);
    }
    if (parsed.kind === 'supported') return artifact(Buffer.alloc(0), parsed, remembered ? 'hit' : 'miss');
    let body: Buffer;
    try {
      body = await route.client.getBytes(route.prefix + path, 'sumdb', signal);
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof GoneError) throw err;
      if (!signal?.aborted) this.unreachable.set(name, Date.now() + (this.options.missTtlMs ?? 60_000));
      return this.storedInstead(name, path, parsed, err, signal);
    }
    this.unreachable.delete(name);
    if (parsed.kind === 'tile' && parsed.full) {
      const want = HASH_SIZE * 2 ** parsed.height;
      if (!parsed.data && body.length !== want) {
        throw new InvalidContentError(`${route.client.name}/${route.prefix}${path}: a full tile of height ${parsed.height} has ${want} bytes, not ${body.length}`);
      }
      await this.store(key, body, signal);
    }
    return artifact(body, parsed, 'miss');
  }

  /** Closes every connection pool. */
  async close(): Promise<void> {
    await Promise.all([...this.proxies, ...(this.own ? [this.own] : []), ...(this.direct ? [this.direct] : [])].map((c) => c.close()));
  }

  /**
   * What storage holds for `path` when the route cannot answer (`why`): rethrows `why` when storage
   * has nothing, or when the request itself was refused or abandoned.
   */
  private async storedInstead(name: string, path: string, parsed: Parsed, why: unknown, signal: AbortSignal | undefined): Promise<Artifact> {
    if (why instanceof InvalidRequestError || signal?.aborted) throw why;
    const base = `sumdb/${name}/`;
    let body: Buffer | null = null;
    if (parsed.kind === 'supported') {
      body = (await this.fromStorage(`${base}latest`, signal)) === null ? null : Buffer.alloc(0);
    } else if (parsed.kind === 'tile' && !parsed.full && !parsed.data) {
      body = await this.widerTile(base, path, signal);
    } else {
      body = await this.fromStorage(base + path, signal);
    }
    if (body === null) throw why;
    if (!(why instanceof NotFoundError)) {
      const reason = (why instanceof Error ? why.message : String(why)).split('\n', 1)[0];
      this.staleWarnings?.warn(name, { sumdb: name, path, reason }, 'checksum database unreachable: answering from storage');
    }
    return artifact(body, parsed, 'stale');
  }

  /**
   * Partial hash tile `path` (`tile/H/L/NNN.p/W`) cut from a stored tile of the same index at least as
   * wide: the first W hashes of a level never change as the tree grows.
   */
  private async widerTile(base: string, path: string, signal: AbortSignal | undefined): Promise<Buffer | null> {
    const dot = path.lastIndexOf('.p/');
    const tile = path.slice(0, dot);
    const width = Number(path.slice(dot + 3));
    let widths: number[];
    try {
      widths = (await this.options.storage.list(`${base}${tile}.p`))
        .map((key) => Number(key.slice(`${base}${tile}.p/`.length)))
        .filter((w) => Number.isInteger(w) && w >= width)
        .sort((a, b) => a - b);
    } catch (err) {
      if (signal?.aborted) throw err;
      this.options.metrics?.storageErrors.inc({ operation: 'list' });
      widths = [];
    }
    for (const key of [...widths.map((w) => `${base}${tile}.p/${w}`), base + tile]) {
      const stored = await this.fromStorage(key, signal);
      if (stored !== null && stored.length >= width * HASH_SIZE) return stored.subarray(0, width * HASH_SIZE);
    }
    return null;
  }

  private async fromStorage(key: string, signal: AbortSignal | undefined): Promise<Buffer | null> {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of await this.options.storage.get(key, { signal })) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      if (signal?.aborted) throw err;
      this.options.metrics?.storageErrors.inc({ operation: 'get' });
      this.options.logger?.warn({ key, err: (err as Error).message }, 'sumdb tile read failed; fetching it again');
      return null;
    }
  }

  private async store(key: string, body: Buffer, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.options.storage.put(key, body, { size: body.length, signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      // The tile is good and the client gets it; only the next request will fetch it again.
      this.options.metrics?.storageErrors.inc({ operation: 'put' });
      this.options.logger?.warn({ key, err: (err as Error).message }, 'sumdb tile not stored');
    }
  }

  private async route(name: string, signal: AbortSignal | undefined): Promise<{ route: Route | null; remembered: boolean }> {
    if (this.own !== null && this.options.sumdb?.name === name) return { route: { client: this.own, prefix: '' }, remembered: true };
    const known = this.routes.get(name);
    if (known !== undefined && known.expires > Date.now()) return { route: known.route, remembered: true };
    let probe = this.probes.get(name);
    if (probe === undefined) {
      // One probe per name at a time, not tied to any one request's signal: others wait for it.
      probe = this.probe(name).finally(() => this.probes.delete(name));
      this.probes.set(name, probe);
    }
    try {
      const route = await abortable(probe, signal);
      return { route, remembered: false };
    } catch (err) {
      if (signal?.aborted) throw err;
      // Keep answering through a route that worked before rather than fail while the proxy flaps.
      if (known?.route) {
        this.options.logger?.warn({ sumdb: name, err: (err as Error).message }, 'sumdb route probe failed; keeping the known route');
        return { route: known.route, remembered: true };
      }
      throw err;
    }
  }

  /** The first proxy that answers `supported`; null when every one says 404/410; throws when none said yes and one failed. */
  private async probe(name: string): Promise<Route | null> {
    const prefix = `sumdb/${name}/`;
    let failure: unknown;
    for (const client of this.proxies) {
      try {
        await client.getBytes(`${prefix}supported`, 'sumdb');
        const route = { client, prefix };
        this.routes.set(name, { route, expires: Date.now() + (this.options.routeTtlMs ?? 600_000) });
        this.options.logger?.info({ sumdb: name, via: client.name }, 'sumdb route found');
        return route;
      } catch (err) {
        if (!(err instanceof NotFoundError || err instanceof GoneError)) failure ??= err;
      }
    }
    if (failure !== undefined) {
      throw new UpstreamError(`checksum database ${name} unavailable: ${(failure as Error).message}`, failure instanceof UpstreamError ? failure.status : undefined, { cause: failure });
    }
    if (this.direct !== null && this.options.sumdb?.name === name) {
      const route = { client: this.direct, prefix: '' };
      this.routes.set(name, { route, expires: Date.now() + (this.options.routeTtlMs ?? 600_000) });
      this.options.logger?.info({ sumdb: name, via: this.direct.name }, 'sumdb route found: no proxy supports it, so the database itself');
      return route;
    }
    this.routes.set(name, { route: null, expires: Date.now() + (this.options.missTtlMs ?? 60_000) });
    return null;
  }
}

