import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import { resolve, sep } from 'node:path';

/**
 * What the test upstream does instead of (or before) serving a file. Fields combine in this order:
 * `delayMs`, then `hang`, `status`, `redirect`, `bodyBytes`, else the real file, cut by
 * `resetAfterBytes` / `stallAfterBytes`, or sent at `bytesPerSecond`.
 */
export interface Fault {
  /** Wait this long before answering at all. */
  delayMs?: number;
  /** Never answer; the socket stays open until stop(). */
  hang?: boolean;
  /** Answer this status with `body` (default: a short text naming the status and path). */
  status?: number;
  body?: string | Buffer;
  /** Answer `redirectStatus` (default 302) with this Location (absolute, or a path on this server). */
  redirect?: string;
  redirectStatus?: number;
  /** Send this many zero bytes as a 200 body instead of the file; Infinity sends forever. */
  bodyBytes?: number;
  /** With `bodyBytes`: declare it in Content-Length (default: chunked, no length). */
  declareLength?: boolean;
  /** Send the headers and this many bytes of the body (the file, or `bodyBytes`), then reset the connection. */
  resetAfterBytes?: number;
  /** Send the headers and this many bytes of the body, then send nothing more (the socket stays open). */
  stallAfterBytes?: number;
  /** Send the body (the file, or `bodyBytes` of them) at this rate, in slices every 50 ms or more. */
  bytesPerSecond?: number;
  /** Apply to this many requests only, then serve normally again. */
  times?: number;
}

/** One request the upstream received. */
export interface RequestRecord {
  method: string;
  /** The percent-decoded URL path without the query, e.g. `/example.com/!foo/@v/list`. */
  path: string;
  headers: IncomingMessage['headers'];
  /** True once the answer is over: sent whole, or cut off by either side. */
  closed: boolean;
  /** True once the answer was sent whole. */
  finished: boolean;
}

/** A static GOPROXY on 127.0.0.1 for tests, with a request log and fault injection. */
export interface Upstream {
  /** `http://127.0.0.1:<port>` (https with `tls`), no trailing slash; the same after stop() and start(). */
  readonly url: string;
  readonly port: number;
  /** Every request path received, in order (faulted ones included). */
  readonly requests: string[];
  /** Every request with its method and headers, in order. */
  readonly log: RequestRecord[];
  /** TCP connections accepted so far (to observe keep-alive reuse). */
  readonly connections: number;
  /** How many requests asked for exactly `path`. */
  countOf(path: string): number;
  /** Injects `fault` for requests to `path`, or for every request with `'*'` (a per-path fault wins). */
  fault(path: string | '*', fault: Fault): void;
  /** Removes every fault. */
  clearFaults(): void;
  /** Forgets the request log and connection count. */
  clearLog(): void;
  /** Stops listening and cuts every open connection (hanging ones included). */
  stop(): Promise<void>;
  /** Listens again on the same port after stop(). */
  start(): Promise<void>;
}

export interface UpstreamOptions {
  /** A folder in module-cache download layout (what `GOPROXY=file://<root>` reads). */
  root: string;
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /**
   * A folder holding one sub-folder per checksum database name: `/sumdb/<name>/supported` answers 200
   * when `<sumdb>/<name>` exists, and `/sumdb/<name>/<rest>` serves `<sumdb>/<name>/<rest>`. Without it,
   * every `/sumdb/...` request answers 404 (the proxy does not support any database).
   */
  sumdb?: string;
  /** Serve https with this key and certificate (PEM) instead of http. */
  tls?: { key: string; cert: string };
}

function contentType(path: string): string {
  if (path.endsWith('.info') || path.endsWith('/@latest')) return 'application/json';
  if (path.endsWith('.zip')) return 'application/zip';
  if (path.endsWith('.mod') || path.endsWith('/@v/list')) return 'text/plain; charset=UTF-8';
  return 'application/octet-stream';
}

/** The file under `base` that `rel` names, or null when it would leave `base`. */
function inside(base: string, rel: string): string | null {
  const root = resolve(base);
  const file = resolve(root, '.' + sep + rel);
  return file.startsWith(root + sep) ? file : null;
}

async function isFile(file: string): Promise<number | null> {
  try {
    const s = await stat(file);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

/** Starts a static GOPROXY server for `root` on 127.0.0.1. */
export async function startUpstream(options: UpstreamOptions): Promise<Upstream> {
  const requests: string[] = [];
  const log: RequestRecord[] = [];
  const faults = new Map<string, Fault>();
  const sockets = new Set<Socket>();
  let connections = 0;
  let port = options.port ?? 0;
  let server: Server | null = null;

  function faultFor(path: string): Fault | undefined {
    const key = faults.has(path) ? path : faults.has('*') ? '*' : undefined;
    if (key === undefined) return undefined;
    const fault = faults.get(key)!;
    if (fault.times !== undefined) {
      if (fault.times <= 0) return undefined;
      fault.times--;
    }
    return fault;
  }

  /** Writes a body of zeros (`total` bytes, possibly Infinity), honouring backpressure and cut-offs. */
  function sendZeros(res: ServerResponse, total: number, fault: Fault): void {
    const chunk = Buffer.alloc(64 << 10);
    let sent = 0;
    const limit = Math.min(total, fault.resetAfterBytes ?? Infinity, fault.stallAfterBytes ?? Infinity);
    const pump = (): void => {
      while (sent < limit && !res.destroyed) {
        const n = Math.min(chunk.length, limit - sent);
        sent += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      if (res.destroyed) return;
      if (fault.resetAfterBytes !== undefined && sent >= fault.resetAfterBytes) res.socket?.resetAndDestroy();
      else if (fault.stallAfterBytes !== undefined && sent >= fault.stallAfterBytes) return;
      else res.end();
    };
    pump();
  }

  /** Writes `body` at `rate` bytes per second: a slice every 50 ms, or one byte at a time for slow rates. */
  function sendPaced(res: ServerResponse, body: Buffer, rate: number): void {
    const slice = Math.max(1, Math.floor(rate / 20));
    const everyMs = Math.max(50, (1000 * slice) / rate);
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed) {
        clearInterval(timer);
        return;
      }
      const n = Math.min(slice, body.length - sent);
      res.write(body.subarray(sent, sent + n));
      sent += n;
      if (sent >= body.length) {
        clearInterval(timer);
        res.end();
      }
    }, everyMs);
    res.on('close', () => clearInterval(timer));
  }

  async function sendFile(res: ServerResponse, file: string, size: number, method: string, fault: Fault | undefined): Promise<void> {
    res.writeHead(200, { 'content-type': contentType(file), 'content-length': size });
    if (method === 'HEAD') {
      res.end();
      return;
    }
    if (fault?.bytesPerSecond !== undefined) {
      sendPaced(res, await readFile(file), fault.bytesPerSecond);
      return;
    }
    const cut = fault?.resetAfterBytes ?? fault?.stallAfterBytes;
    if (cut === undefined) {
      createReadStream(file).pipe(res);
      return;
    }
    const cutOff = (): void => {
      if (fault?.resetAfterBytes !== undefined) res.socket?.resetAndDestroy();
    };
    if (cut <= 0) {
      res.flushHeaders();
      setImmediate(cutOff);
      return;
    }
    const head = createReadStream(file, { start: 0, end: cut - 1 });
    head.pipe(res, { end: false });
    head.on('end', () => res.write('', cutOff));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://upstream').pathname);
    } catch {
      path = req.url ?? '/';
    }
    requests.push(path);
    const record: RequestRecord = { method, path, headers: req.headers, closed: false, finished: false };
    log.push(record);
    res.on('close', () => {
      record.closed = true;
      record.finished = res.writableFinished;
    });
    const fault = faultFor(path);
    if (fault?.delayMs !== undefined) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (res.destroyed) return;
    if (fault?.hang) return;
    if (fault?.status !== undefined) {
      const body = fault.body ?? `${fault.status} for ${path}\n`;
      res.writeHead(fault.status, { 'content-type': 'text/plain; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    if (fault?.redirect !== undefined) {
      res.writeHead(fault.redirectStatus ?? 302, { location: fault.redirect, 'content-length': 0 });
      res.end();
      return;
    }
    if (fault?.bodyBytes !== undefined) {
      const headers: Record<string, string | number> = { 'content-type': contentType(path) };
      if (fault.declareLength && Number.isFinite(fault.bodyBytes)) headers['content-length'] = fault.bodyBytes;
      res.writeHead(200, headers);
      if (method === 'HEAD') res.end();
      else if (fault.bytesPerSecond !== undefined) sendPaced(res, Buffer.alloc(fault.bodyBytes), fault.bytesPerSecond);
      else sendZeros(res, fault.bodyBytes, fault);
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { 'content-length': 0 });
      res.end();
      return;
    }
    if (options.sumdb !== undefined && /^\/sumdb\/[^/]+\/supported$/.test(path)) {
      const dir = inside(options.sumdb, path.split('/')[2]!);
      if (dir !== null && (await isDirectory(dir))) {
        res.writeHead(200, { 'content-length': 0 });
        res.end();
        return;
      }
    }
    const file = await resolveFile(path);
    if (file === null) {
      const body = `not found: ${path}\n`;
      res.writeHead(404, { 'content-type': 'text/plain; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    await sendFile(res, file.file, file.size, method, fault);
  }

  async function resolveFile(path: string): Promise<{ file: string; size: number } | null> {
    if (path.includes('\0') || path.includes('\\')) return null;
    const sumdb = /^\/sumdb\/([^/]+)\/(.+)$/.exec(path);
    if (path.startsWith('/sumdb/')) {
      if (options.sumdb === undefined || sumdb === null) return null;
      const base = inside(options.sumdb, sumdb[1]!);
      if (base === null || sumdb[2] === 'supported') return null;
      const file = inside(base, sumdb[2]!);
      const size = file === null ? null : await isFile(file);
      return file === null || size === null ? null : { file, size };
    }
    const file = inside(options.root, path.slice(1));
    const size = file === null ? null : await isFile(file);
    return file === null || size === null ? null : { file, size };
  }

  async function start(): Promise<void> {
    if (server !== null) return;
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        } else res.destroy();
      });
    };
    const s: Server = options.tls === undefined ? createServer({ keepAlive: true }, onRequest) : createTlsServer({ keepAlive: true, ...options.tls }, onRequest);
    // Counted as TCP connections, before any TLS handshake.
    s.on('connection', (socket: Socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolveListen, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolveListen();
      });
    });
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('upstream has no port');
    port = address.port;
    server = s;
  }

  async function stop(): Promise<void> {
    const s = server;
    if (s === null) return;
    server = null;
    const closed = new Promise<void>((r) => s.close(() => r()));
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await closed;
  }

  await start();
  return {
    get url() {
      return `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    requests,
    log,
    get connections() {
      return connections;
    },
    countOf: (path) => requests.filter((p) => p === path).length,
    fault: (path, fault) => void faults.set(path, { ...fault }),
    clearFaults: () => faults.clear(),
    clearLog() {
      requests.length = 0;
      log.length = 0;
      connections = 0;
    },
    stop,
    start,
  };
}

