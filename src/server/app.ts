// godepot's HTTP edge: node:http (node:https with --tls-cert) with a hand-written router, because a
// cached .info must cost little more than a syscall. Per request: parse the URL (protocol/request), ask
// the gate (gate.ts) who may, then the depot or the checksum database passthrough, send (send.ts), map
// any error once (errors.ts), log one line and count.
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Audit } from '../audit/audit.js';
import type { Role } from '../auth/access.js';
import type { TokenAdministration } from '../auth/token-admin.js';
import type { Artifact } from '../protocol/artifact.js';
import type { Depot } from '../depot/depot.js';
import { PrefetchingDepot } from '../depot/prefetching-depot.js';
import { InvalidRequestError, StorageFullError } from '../errors.js';
import { parseRequest, type ProxyRequest, type Route } from '../protocol/request.js';
import type { StorageSpace } from '../storage/space.js';
import type { StorageQuota } from '../store/storage-quota.js';
import { rawLineWriter, type Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { errorAnswer, type ErrorAnswer } from './errors.js';
import type { Admitted, Gate } from './gate.js';
import { HotAnswers } from './hot-answers.js';
import { moduleArtifact } from './routes/module.js';
import { bundleImportRoute, type BundleImport } from './routes/bundle-import.js';
import { healthz, home, metricsText, readyz, type OperationsAnswer } from './routes/operations.js';
import { publishRoute, type ModulePublishing } from './routes/publish.js';
import { tokensRoute } from './routes/tokens.js';
import { catalogRoute, type CatalogReader } from './routes/catalog.js';
import { storageRoute } from './routes/storage.js';
import type { StoreAdministration } from '../store/store-admin.js';
import { gcRoute, type GcRunner } from './routes/gc.js';
import { sendArtifact, type Sent } from './send.js';
import type { CertificatePair } from './tls.js';

/** What the server needs from the checksum database passthrough (src/checksum/passthrough.ts). */
export interface SumdbProxy {
  /** The answer for `/sumdb/<name>/<path>`; throws NotFoundError when no route to that database exists. */
  get(name: string, path: string, signal?: AbortSignal): Promise<Artifact>;
}

/** Bounds on what one client may cost; every field has a default. */
export interface ServerLimits {
  /** Largest request head (request line and headers), in bytes; larger ones get 431. */
  maxHeaderSize: number;
  /** Time allowed to receive the request head. */
  headersTimeoutMs: number;
  /** How long an idle keep-alive connection is kept. */
  keepAliveTimeoutMs: number;
  /** A connection on which nothing moves for this long is cut (a client that stopped reading a zip). */
  idleTimeoutMs: number;
}

const defaultLimits: ServerLimits = {
  maxHeaderSize: 16 * 1024,
  headersTimeoutMs: 10_000,
  // Longer than the go command's idle connection reuse needs between the requests of one build.
  keepAliveTimeoutMs: 30_000,
  idleTimeoutMs: 120_000,
};

export interface ServerOptions {
  depot: Depot;
  /** Who may do what: asked for every request but the health checks, before anything is looked up. */
  gate: Gate;
  /** Where publishes and bundle imports are recorded before they are acknowledged. */
  audit: Audit;
  sumdb: SumdbProxy;
  metrics: Metrics;
  logger: Logger;
  /** Throws when storage cannot be used; `/readyz` answers 503 then. Default: storage is always usable. */
  storageProbe?: () => Promise<void>;
  /**
   * The space of the storage that fills: told when a request found it full (StorageFullError) and when a
   * zip was stored, so that `/readyz` reports it degraded meanwhile.
   */
  storageSpace?: StorageSpace;
  /** The quota of `--max-storage`: `/readyz` reports the storage degraded above its warning. */
  storageQuota?: StorageQuota;
  limits?: Partial<ServerLimits>;
  /** Bundle uploads (POST /admin/bundles, by admins); refused as an unknown endpoint when absent. */
  bundleImport?: BundleImport;
  /** Module publishes (PUT /admin/modules/..., by publishers); refused as an unknown endpoint when absent. */
  publishing?: ModulePublishing;
  /** Retention runs admins ask for (POST /admin/gc, by admins of the server as a whole); answered 404 when absent. */
  storageGc?: GcRunner;
  /** Token management (/admin/tokens, by admins of the server as a whole); answered 404 when absent. */
  tokenAdministration?: TokenAdministration;
  /** Storage administration (/admin/storage/…, by admins of the modules concerned); answered 404 when absent. */
  storeAdministration?: StoreAdministration;
  /** The catalog `/index` answers from; answered 404 when absent. */
  catalog?: CatalogReader;
  /** The body of `/metrics`; by default this process's metrics (a cluster worker's answers for every worker). */
  metricsExposition?: () => Promise<string>;
  /**
   * Zips fetched ahead, at most at a time, once their `.info` had to be fetched, since go asks for them
   * next (PrefetchingDepot); 0 fetches none ahead. Default 4.
   */
  prefetchZips?: number;
  /** Serve HTTPS with this certificate (setCertificate replaces it); plain HTTP when absent. */
  tls?: CertificatePair;
  /** godepot's version, shown at `GET /`. Default `unknown`. */
  version?: string;
  /**
   * The settings a go client needs, one `NAME=value` line each, given the URL it reaches this server at
   * (`GET /` shows them). Default: `GOPROXY=<url>` alone.
   */
  clientSettings?: (url: string) => string[];
  /** Told of every `.info`, `.mod` or zip served (from memory or not), for the last-download times retention reads. */
  downloads?: { downloaded(modulePath: string, version: string): void };
}

/** A godepot HTTP server, created stopped. */
export interface GodepotServer {
  /** Starts listening; resolves with the base URL (`https://` with TLS; the real port when `port` is 0). */
  listen(host: string, port: number): Promise<{ url: string }>;
  /**
   * Graceful stop: no new connections, `/readyz` answers 503, idle connections are closed, requests in
   * flight (a slow zip download included) finish, and so does what the depot began on its own (zips
   * fetched ahead, files stored behind their answers); resolves once every connection is gone and the
   * depot has closed.
   */
  close(): Promise<void>;
  /** Cuts every connection at once, and close() stops waiting for the depot: the forced end of a shutdown that took too long. */
  closeNow(): void;
  /**
   * Stops answering what is remembered of `modulePath@version`, which was removed from storage by another
   * process (a worker's `storage rm`); one removed through this server is forgotten by itself.
   */
  forget(modulePath: string, version: string): void;
  /**
   * Serves `pair` to the TLS connections made from now on (those open keep theirs); throws when Node
   * refuses it, or on a server created without `tls`.
   */
  setCertificate(pair: CertificatePair): void;
}

/** Metrics label of a request: its route (`info`, `metrics`, `home`, `publish`, …), or `other` for a path no route takes. */
function metricsRoute(route: Route | undefined): string {
  return route ?? 'other';
}

const statusClasses = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

// A status godepot logs for a request whose client left before any answer was sent (nginx's 499).
const clientClosed = 499;

/** The request log line: one per request, fixed shape so that building and serializing it stays cheap. */
class RequestLog {
  route: Route | undefined = undefined;
  module: string | undefined = undefined;
  version: string | undefined = undefined;
  sumdb: string | undefined = undefined;
  /** The token's name; never the token. */
  principal: string | undefined = undefined;
  cache: Artifact['cache'] | undefined = undefined;
  upstreamStatus: number | undefined = undefined;
  status = 0;
  bytes = 0;
  aborted: boolean | undefined = undefined;
  ms = 0;
  error: string | undefined = undefined;
  err: unknown = undefined;
  constructor(
    readonly reqId: string,
    readonly method: string | undefined,
    /** Kept only for requests that did not parse; the others are told by route, module and version. */
    public url: string | undefined,
  ) {}

  /** The defined fields but `err`, serialized as pino would (`,"key":value`…), for rawLineWriter. */
  serialize(): string {
    // reqId is ours or matched requestIdPattern, route and cache are names of ours: nothing to escape.
    let s = `,"reqId":"${this.reqId}"`;
    if (this.method !== undefined) s += `,"method":${JSON.stringify(this.method)}`;
    if (this.url !== undefined) s += `,"url":${JSON.stringify(this.url)}`;
    if (this.route !== undefined) s += `,"route":"${this.route}"`;
    if (this.module !== undefined) s += `,"module":${JSON.stringify(this.module)}`;
    if (this.version !== undefined) s += `,"version":${JSON.stringify(this.version)}`;
    if (this.sumdb !== undefined) s += `,"sumdb":${JSON.stringify(this.sumdb)}`;
    if (this.principal !== undefined) s += `,"principal":${JSON.stringify(this.principal)}`;
    if (this.cache !== undefined) s += `,"cache":"${this.cache}"`;
    if (this.upstreamStatus !== undefined) s += `,"upstreamStatus":${this.upstreamStatus}`;
    s += `,"status":${this.status},"bytes":${this.bytes}`;
    if (this.aborted !== undefined) s += `,"aborted":${this.aborted}`;
    s += `,"ms":${this.ms}`;
    if (this.error !== undefined) s += `,"error":${JSON.stringify(this.error)}`;
    return s;
  }
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;
// A host name or address with an optional port: anything else in a Host header is not echoed back.
const hostHeaderPattern = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/;
const textPlain = 'text/plain; charset=utf-8';

/** Creates the server; nothing listens until listen(). */
export function createServer(options: ServerOptions): GodepotServer {
  const { sumdb, metrics, logger, gate } = options;
  const prefetchZips = options.prefetchZips ?? 4;
  const depot = prefetchZips > 0 ? new PrefetchingDepot(options.depot, { limit: prefetchZips, logger }) : options.depot;
  let forceStop = (): void => undefined;
  const forced = new Promise<void>((resolve) => (forceStop = resolve));
  const limits = { ...defaultLimits, ...options.limits };
  const storageProbe = options.storageProbe ?? (() => Promise.resolve());
  const version = options.version ?? 'unknown';
  const clientSettings = options.clientSettings ?? ((url: string) => [`GOPROXY=${url}`]);
  let baseUrl = '';
  /** The URL the client reached this server at, as its Host header says; the listening one when that header is missing or odd. */
  function requestBaseUrl(req: IncomingMessage): string {
    const host = req.headers.host;
    if (host === undefined || !hostHeaderPattern.test(host)) return baseUrl;
    return `${options.tls === undefined ? 'http' : 'https'}://${host}`;
  }
  const writeLine = rawLineWriter(logger);
  // Request ids: a per-process prefix and a counter, unique across restarts without costing randomness per request.
  const idPrefix = randomBytes(4).toString('hex') + '-';
  let requestCount = 0;
  let listening = false;
  let closing = false;
  // Holds how many uploads this server is receiving: its memory is bounded per process.
  const importBundle = bundleImportRoute(options.bundleImport, options.audit);
  const publish = publishRoute(options.publishing, options.audit);
  const manageTokens = tokensRoute(options.tokenAdministration);
  const manageStorage = storageRoute(options.storeAdministration, options.audit);
  const readCatalog = catalogRoute(options.catalog);
  const runGc = gcRoute(options.storageGc);

  // prom-client hashes label sets on every inc(); the few (route, status) pairs are looked up once.
  const requestCounters = new Map<string, Map<number, { inc(value?: number): void }>>();
  const bytesCounters = new Map<string, { inc(value?: number): void }>();
  function count(route: string, status: number, bytes: number): void {
    let byStatus = requestCounters.get(route);
    if (byStatus === undefined) {
      byStatus = new Map();
      requestCounters.set(route, byStatus);
    }
    let requests = byStatus.get(status);
    if (requests === undefined) {
      requests = metrics.requests.labels(route, String(status));
      byStatus.set(status, requests);
    }
    requests.inc();
    if (bytes > 0) {
      let served = bytesCounters.get(route);
      if (served === undefined) {
        served = metrics.bytesServed.labels(route);
        bytesCounters.set(route, served);
      }
      served.inc(bytes);
    }
  }

  // Hot answers are depot hits the depot never saw: they are counted as its own hits would be.
  const hotAnswers = new HotAnswers();
  function forget(modulePath: string, version: string): void {
    depot.forget(modulePath, version);
    hotAnswers.forgetAll();
  }
  const cacheHits = new Map<string, { inc(value?: number): void }>();
  function cacheHit(route: string): void {
    let hits = cacheHits.get(route);
    if (hits === undefined) {
      hits = metrics.cache.labels(route, 'hit');
      cacheHits.set(route, hits);
    }
    hits.inc();
  }

  // As for the counters: one histogram child per (route, status class), made at its first use.
  const durations = new Map<string, Array<{ observe(value: number): void } | undefined>>();
  function observe(route: string, status: number, seconds: number): void {
    let byClass = durations.get(route);
    if (byClass === undefined) {
      byClass = [];
      durations.set(route, byClass);
    }
    const index = Math.min(Math.max(Math.floor(status / 100), 1), 5) - 1;
    let child = byClass[index];
    if (child === undefined) {
      child = metrics.requestSeconds.labels(route, statusClasses[index]!);
      byClass[index] = child;
    }
    child.observe(seconds);
  }

  function finish(entry: RequestLog, started: number, status: number, bytes: number, aborted: boolean): void {
    entry.status = status;
    entry.bytes = bytes;
    if (aborted) entry.aborted = true;
    const elapsedMs = performance.now() - started;
    entry.ms = Math.round(elapsedMs * 1000) / 1000;
    const route = metricsRoute(entry.route);
    count(route, status, bytes);
    observe(route, status, elapsedMs / 1000);
    const level = status >= 500 ? 'warn' : 'info';
    if (entry.err !== undefined) logger.error(entry, 'request');
    else if (writeLine !== undefined) writeLine(level, entry.serialize(), 'request');
    else logger[level](entry, 'request');
  }

  function sendError(res: ServerResponse, head: boolean, entry: RequestLog, err: unknown): { status: number; bytes: number; aborted: boolean } {
    const answer: ErrorAnswer = errorAnswer(err);
    entry.upstreamStatus = answer.upstreamStatus;
    if (answer.internal) entry.err = err;
    else entry.error = (err as Error).message;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return { status: res.headersSent ? res.statusCode : clientClosed, bytes: 0, aborted: true };
    }
    const body = answer.internal ? `internal server error (request id ${entry.reqId})\n` : answer.body;
    const length = Buffer.byteLength(body);
    res.writeHead(answer.status, [
      'content-type', textPlain,
      'content-length', String(length),
      'cache-control', 'no-store',
      'x-request-id', entry.reqId,
      ...answer.headers,
    ]);
    res.end(head ? undefined : body);
    return { status: answer.status, bytes: head ? 0 : length, aborted: false };
  }

  function sendPlain(res: ServerResponse, head: boolean, requestId: string, answer: OperationsAnswer): Sent {
    const length = Buffer.byteLength(answer.body);
    res.writeHead(answer.status, [
      'content-type', answer.contentType,
      'content-length', String(length),
      'cache-control', 'no-store',
      'x-request-id', requestId,
    ]);
    res.end(head ? undefined : answer.body);
    return { status: answer.status, bytes: head ? 0 : length, aborted: false };
  }

  // The signal handed to the depot says "this client no longer waits" (the depot then stops waiting for
  // it, while a fetch shared with other requests goes on). A client gives up by closing its connection,
  // and the requests of one connection come one after another, so one signal per connection does, at no
  // cost per request.
  const connectionSignals = new WeakMap<Socket, AbortSignal>();
  function connectionSignal(socket: Socket): AbortSignal {
    let signal = connectionSignals.get(socket);
    if (signal === undefined) {
      const controller = new AbortController();
      socket.once('close', () => controller.abort());
      signal = controller.signal;
      connectionSignals.set(socket, signal);
    }
    return signal;
  }

  // Connections whose request waits for the depot or the passthrough: a cold zip may take minutes to
  // fetch and check before its first byte, and that silence is not the client's.
  const waiting = new Set<Socket>();

  /** Sends what `answer` resolves to, or its failure, and logs the request. */
  function respond(res: ServerResponse, head: boolean, entry: RequestLog, started: number, answer: Promise<OperationsAnswer>): void {
    answer.then(
      (a) => {
        const sent = sendPlain(res, head, entry.reqId, a);
        finish(entry, started, sent.status, sent.bytes, false);
      },
      (err: unknown) => fail(res, head, entry, started, err),
    );
  }

  function fail(res: ServerResponse, head: boolean, entry: RequestLog, started: number, err: unknown): void {
    if (err instanceof StorageFullError) void options.storageSpace?.filled();
    const sent = sendError(res, head, entry, err);
    finish(entry, started, sent.status, sent.bytes, sent.aborted);
  }

  /**
   * Answers an upload (a bundle, a published module) with what `receive` makes of it. One refused before
   * its body is read (401, 403, 503) is answered at once, and the connection is not reused. Closing it
   * with input unread would reset it, and a client still sending would lose the answer: the sending side
   * is closed instead, and what is left of the body read and dropped for a few seconds at most, as for
   * the requests the parser refuses (below).
   */
  function receiveUpload(req: IncomingMessage, res: ServerResponse, entry: RequestLog, started: number, receive: (signal: AbortSignal) => Promise<OperationsAnswer>): void {
    const socket = req.socket;
    res.once('finish', () => {
      if (req.complete) return;
      socket.end();
      setTimeout(() => socket.destroy(), 5000).unref();
    });
    receive(connectionSignal(socket)).then(
      (a) => {
        const sent = sendPlain(res, false, entry.reqId, a);
        finish(entry, started, sent.status, sent.bytes, false);
      },
      (err: unknown) => fail(res, false, entry, started, err),
    );
  }

  /** Sends an artifact the depot or the passthrough answered, and logs the request once it is sent. */
  function deliver(req: IncomingMessage, res: ServerResponse, head: boolean, entry: RequestLog, started: number, admitted: Admitted, artifact: Artifact): void {
    let sent: Sent | Promise<Sent>;
    try {
      sent = sendArtifact(req, res, artifact, head, ['x-request-id', entry.reqId], admitted.principal.anonymous);
    } catch (err) {
      fail(res, head, entry, started, err);
      return;
    }
    if (sent instanceof Promise) {
      sent.then(
        (s) => finish(entry, started, s.status, s.bytes, s.aborted),
        (err: unknown) => fail(res, head, entry, started, err),
      );
    } else {
      finish(entry, started, sent.status, sent.bytes, sent.aborted);
    }
  }

  function serveArtifact(
    req: IncomingMessage,
    res: ServerResponse,
    request: Readonly<ProxyRequest>,
    entry: RequestLog,
    started: number,
    admitted: Admitted,
    fetch: (signal: AbortSignal) => Promise<Artifact>,
  ): void {
    let release: () => void;
    try {
      release = gate.coldFetch(admitted);
    } catch (err) {
      fail(res, request.head, entry, started, err);
      return;
    }
    const socket = req.socket;
    waiting.add(socket);
    fetch(connectionSignal(socket)).then(
      (artifact) => {
        release();
        waiting.delete(socket);
        entry.cache = artifact.cache;
        // A zip is stored before it is answered: a missed one shows there is room.
        if (artifact.cache === 'miss' && request.route === 'zip') options.storageSpace?.emptied();
        if (res.destroyed) finish(entry, started, clientClosed, 0, true);
        else deliver(req, res, request.head, entry, started, admitted, artifact);
      },
      (err: unknown) => {
        release();
        waiting.delete(socket);
        if (res.destroyed) finish(entry, started, clientClosed, 0, true);
        else fail(res, request.head, entry, started, err);
      },
    );
  }

  // Connections on which a request was refused for its body: the answer closes them, but Node parses
  // requests the client pipelined behind it all the same, and would hand them here to be fetched and
  // answered to a connection that is closing. They are logged and dropped instead, unserved.
  const refusedConnections = new WeakSet<Socket>();

  /** Admits the request as `role` on `modulePath` (the gate throws a refusal), naming its token in the log line. */
  function admitted(req: IncomingMessage, entry: RequestLog, role: Role, modulePath: string | undefined, tokenRequired = false): Admitted {
    const admitted = gate.admit(req, role, modulePath, req.url ?? '', tokenRequired);
    if (!admitted.principal.anonymous) entry.principal = admitted.principal.name;
    return admitted;
  }

  /** Admits the request as `role` on `modulePath`, or answers the refusal and returns undefined. */
  function admit(req: IncomingMessage, res: ServerResponse, head: boolean, entry: RequestLog, started: number, role: Role, modulePath: string | undefined, tokenRequired = false): Admitted | undefined {
    try {
      return admitted(req, entry, role, modulePath, tokenRequired);
    } catch (err) {
      fail(res, head, entry, started, err);
      return undefined;
    }
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && requestIdPattern.test(given) ? given : idPrefix + (++requestCount).toString(36);
    const entry = new RequestLog(requestId, req.method, req.url);
    if (refusedConnections.has(req.socket)) {
      entry.error = 'pipelined behind a refused request: not served';
      finish(entry, started, clientClosed, 0, true);
      return;
    }
    if (closing) res.shouldKeepAlive = false;

    let request: Readonly<ProxyRequest>;
    try {
      request = parseRequest(req.method, req.url);
      // GOPROXY requests have no body; one would have to be read and thrown away, so it is refused.
      if (request.route !== 'import' && request.route !== 'publish' && request.route !== 'gc' && !(request.route === 'tokens' && request.action === 'create') && hasBody(req)) {
        throw new InvalidRequestError('request body not allowed');
      }
    } catch (err) {
      // Whatever body came with a refused request is not read: the connection is not reused.
      if (hasBody(req)) {
        res.shouldKeepAlive = false;
        refusedConnections.add(req.socket);
      }
      fail(res, req.method === 'HEAD', entry, started, err);
      return;
    }
    entry.route = request.route;
    entry.url = undefined;

    switch (request.route) {
      case 'list':
      case 'latest':
      case 'info':
      case 'mod':
      case 'zip': {
        entry.module = request.modulePath;
        if ('version' in request) entry.version = request.version;
        // Before the hot answers: what a client may not read, it may not read from memory either.
        const admitted = admit(req, res, request.head, entry, started, 'read', request.modulePath);
        if (admitted === undefined) return;
        const served = (): void => {
          if ('version' in request) options.downloads?.downloaded(request.modulePath, request.version);
        };
        const hot = hotAnswers.get(request);
        if (hot !== undefined) {
          cacheHit(request.route);
          entry.cache = 'hit';
          served();
          deliver(req, res, request.head, entry, started, admitted, hot);
          return;
        }
        serveArtifact(req, res, request, entry, started, admitted, (signal) =>
          moduleArtifact(depot, request, signal).then((artifact) => {
            hotAnswers.remember(request, artifact);
            served();
            return artifact;
          }),
        );
        return;
      }
      case 'sumdb': {
        entry.sumdb = request.name + '/' + request.path;
        const admitted = admit(req, res, request.head, entry, started, 'read', request.modulePath, gate.sumdbNeedsToken(request.name, request.modulePath));
        if (admitted === undefined) return;
        serveArtifact(req, res, request, entry, started, admitted, (signal) => sumdb.get(request.name, request.path, signal));
        return;
      }
      // A refused upload goes through receiveUpload too, which answers before the body is read.
      case 'import':
        receiveUpload(req, res, entry, started, async (signal) => importBundle(req, admitted(req, entry, 'admin', undefined), signal));
        return;
      case 'publish':
        entry.module = request.modulePath;
        entry.version = request.version;
        receiveUpload(req, res, entry, started, async (signal) => publish(req, request, admitted(req, entry, 'publish', request.modulePath), signal));
        return;
      case 'tokens': {
        // A creation has a body: refused, it is answered before the body is read, as an upload is.
        if (request.action === 'create') {
          receiveUpload(req, res, entry, started, async () => manageTokens(req, request, admitted(req, entry, 'admin', undefined)));
          return;
        }
        const admin = admit(req, res, request.head, entry, started, 'admin', undefined);
        if (admin === undefined) return;
        manageTokens(req, request, admin).then(
          (a) => {
            const sent = sendPlain(res, request.head, requestId, a);
            finish(entry, started, sent.status, sent.bytes, false);
          },
          (err: unknown) => fail(res, request.head, entry, started, err),
        );
        return;
      }
      case 'index': {
        let listing;
        try {
          listing = gate.admitListing(req, 'read', req.url ?? '');
        } catch (err) {
          fail(res, request.head, entry, started, err);
          return;
        }
        if (!listing.admitted.principal.anonymous) entry.principal = listing.admitted.principal.name;
        respond(res, request.head, entry, started, readCatalog(request.since, request.limit, listing.sees));
        return;
      }
      case 'storage': {
        if (request.action === 'remove') {
          entry.module = request.modulePath;
          entry.version = request.version;
          const admin = admit(req, res, false, entry, started, 'admin', request.modulePath);
          if (admin === undefined) return;
          const removed = manageStorage(request, admin, () => true).then((a) => {
            forget(request.modulePath, request.version);
            return a;
          });
          respond(res, false, entry, started, removed);
          return;
        }
        let listing;
        try {
          listing = gate.admitListing(req, 'admin', req.url ?? '');
        } catch (err) {
          fail(res, request.head, entry, started, err);
          return;
        }
        entry.principal = listing.admitted.principal.name;
        respond(res, request.head, entry, started, manageStorage(request, listing.admitted, listing.sees));
        return;
      }
      // A body comes with it: refused, it is answered before the body is read, as an upload is.
      case 'gc':
        receiveUpload(req, res, entry, started, async () => runGc(req, admitted(req, entry, 'admin', undefined)));
        return;
      case 'home': {
        const sent = sendPlain(res, request.head, requestId, home(version, clientSettings(requestBaseUrl(req))));
        finish(entry, started, sent.status, sent.bytes, false);
        return;
      }
      case 'healthz': {
        const sent = sendPlain(res, request.head, requestId, healthz());
        finish(entry, started, sent.status, sent.bytes, false);
        return;
      }
      case 'readyz':
      case 'metrics': {
        if (request.route === 'metrics') {
          try {
            gate.admitMetrics(req);
          } catch (err) {
            fail(res, request.head, entry, started, err);
            return;
          }
        }
        const answer = request.route === 'readyz' ? readyz({ listening, closing, probe: storageProbe, space: options.storageSpace, quota: options.storageQuota }) : metricsText(metrics, options.metricsExposition);
        answer.then(
          (a) => {
            const sent = sendPlain(res, request.head, requestId, a);
            finish(entry, started, sent.status, sent.bytes, false);
          },
          (err: unknown) => fail(res, request.head, entry, started, err),
        );
        return;
      }
    }
  }

  const httpOptions = {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeoutMs,
    // No limit on the whole request: only uploads have bodies (GOPROXY requests with one are refused),
    // and a bundle of gigabytes takes minutes to arrive. The head is timed; a stalled upload is idle.
    requestTimeout: 0,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the two timeouts above only this often (30 s by default).
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    noDelay: true,
  };
  const tls = options.tls;
  const server =
    tls === undefined
      ? createHttpServer(httpOptions, onRequest)
      : createHttpsServer(
          {
            ...httpOptions,
            cert: tls.cert,
            key: tls.key,
            // The head's timeout starts once the handshake is over; a client gets as long for the handshake
            // (Node's default is 120 s, a long time to hold a connection that never says anything).
            handshakeTimeout: limits.headersTimeoutMs,
          },
          onRequest,
        );
  server.timeout = limits.idleTimeoutMs;
  // With a listener, Node leaves timed-out sockets to it. The timer is re-armed by the next write, so a
  // request that waited long for its origin is timed again once its answer flows.
  server.on('timeout', (socket: Socket) => {
    if (!waiting.has(socket)) socket.destroy();
  });

  // Requests Node's parser refuses (a head over maxHeaderSize, a head that came too slowly, bytes that
  // are not HTTP) never reach onRequest. Node's own answer is written and the socket destroyed at once;
  // with request bytes still unread, the kernel then resets the connection and the client loses the
  // answer. Here the answer is sent, the sending side closed, and the rest of the input read and
  // dropped until the client closes (or for a few seconds at most).
  const answeredClientErrors = new WeakSet<Socket>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // The parser reports the same error again for every later chunk of input.
    if (answeredClientErrors.has(socket)) return;
    answeredClientErrors.add(socket);
    const status = clientErrorStatus(err.code);
    const entry = new RequestLog(idPrefix + (++requestCount).toString(36), undefined, undefined);
    entry.error = err.code ?? err.message;
    const responding = status !== undefined && socket.writable && !closing;
    finish(entry, performance.now(), responding ? status : clientClosed, 0, !responding);
    if (!responding) {
      socket.destroy();
      return;
    }
    const body = `${STATUS_CODES[status]?.toLowerCase() ?? 'bad request'}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: ${textPlain}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${entry.reqId}\r\n\r\n${body}`,
    );
    socket.resume();
    setTimeout(() => socket.destroy(), 5000).unref();
  });

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          // Once listening, a failure to accept a connection (EMFILE) is logged; it must not end the process.
          server.on('error', (err) => logger.error({ err }, 'server error'));
          listening = true;
          const address = server.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          baseUrl = `${tls === undefined ? 'http' : 'https'}://${shownHost}:${address.port}`;
          resolve({ url: baseUrl });
        });
      });
    },

    close() {
      closing = true;
      if (!server.listening) return Promise.resolve();
      return new Promise<void>((resolve) => {
        // Connections that finish their last response after close() started become idle later; they
        // are closed as they do, instead of waiting out the keep-alive timeout.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        server.close(() => {
          clearInterval(sweep);
          listening = false;
          // Once no request waits for them: the zips being fetched ahead and the files being stored
          // behind their answers finish, as downloads in flight do.
          void Promise.race([depot.close(), forced]).then(() => resolve());
        });
        server.closeIdleConnections();
      });
    },

    forget,

    closeNow() {
      closing = true;
      forceStop();
      server.closeAllConnections();
    },

    setCertificate(pair) {
      if (!('setSecureContext' in server)) throw new Error('setCertificate: this server was created without tls');
      server.setSecureContext({ cert: pair.cert, key: pair.key });
    },
  };
}

/** The answer to a request Node's parser refused, or undefined when the connection itself failed. */
function clientErrorStatus(code: string | undefined): number | undefined {
  // A failed TLS handshake (an untrusted certificate, plain HTTP on the TLS port) comes here too: no
  // answer written now could reach the client.
  if (code !== undefined && (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))) return undefined;
  switch (code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    default:
      return 400;
  }
}

/** A request announcing a body (any length but zero, or chunked). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
