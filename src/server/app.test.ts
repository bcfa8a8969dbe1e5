// The server over real HTTP on loopback, in front of the real depot, storage, chain and sumdb
// passthrough, with a static upstream GOPROXY: what a go command talking to godepot would see.
import assert from 'node:assert/strict';
import { readFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { addBigModule, addModule, type ProxyEntry } from '../../test/support/modgraph.js';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';
import { SumdbPassthrough } from '../checksum/passthrough.js';
import { CachingDepot } from '../depot/caching-depot.js';
import type { Artifact } from '../protocol/artifact.js';
import type { Depot } from '../depot/depot.js';
import { createChain } from '../origin/chain.js';
import { DiskStorage } from '../storage/disk.js';
import { createLogger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';
import { checkStorageFolder } from '../storage/folder-check.js';
import { createServer, type GodepotServer, type ServerLimits, type ServerOptions } from './app.js';
import type { CertificatePair } from './tls.js';
import { NoDirect } from '../../test/support/no-direct.js';
import { openTestAccess, type TestAccess } from '../../test/support/access.js';
import { makeTestCa } from '../../test/support/tls.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

type LogLine = Record<string, unknown>;

interface World {
  url: string;
  access: TestAccess;
  server: GodepotServer;
  upstream: Upstream;
  storeRoot: string;
  small: ProxyEntry;
  big: ProxyEntry;
  upper: ProxyEntry;
  logs: LogLine[];
  /** The request log line whose reqId is `id`, once it is written. */
  logOf(id: string | string[] | undefined): Promise<LogLine>;
}

interface Fixture {
  tree: string;
  work: string;
  small: ProxyEntry;
  big: ProxyEntry;
  upper: ProxyEntry;
}

// One upstream tree for every test: building the 4 MiB module is the slow part.
let fixture: Promise<Fixture> | undefined;
function makeFixture(): Promise<Fixture> {
  fixture ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'godepot-server-tree-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const tree = join(dir, 'tree');
    const work = join(dir, 'work');
    await mkdir(tree);
    const small = await addModule(tree, work, 'example.com/small', 'v1.0.0', { 'go.mod': 'module example.com/small\n\ngo 1.17\n', 's.go': 'package small\n' });
    await addModule(tree, work, 'example.com/small', 'v1.1.0', { 'go.mod': 'module example.com/small\n\ngo 1.17\n', 's.go': 'package small\n\nconst V = 2\n' });
    const upper = await addModule(tree, work, 'example.com/Upper/Case', 'v0.1.0', { 's.go': 'package c\n' });
    const big = await addBigModule(tree, work, 'example.com/big', 'v1.0.0', 4 << 20);
    return { tree, work, small, big, upper };
  })();
  return fixture;
}

async function startWorld(options: { limits?: Partial<ServerLimits>; depot?: Depot; timeoutMs?: number; sumdbTree?: string; tls?: CertificatePair; downloads?: ServerOptions['downloads'] } = {}): Promise<World> {
  const { tree, small, big, upper } = await makeFixture();
  const dir = await mkdtemp(join(tmpdir(), 'godepot-server-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const storeRoot = join(dir, 'store');
  const spool = join(dir, 'spool');
  const upstream = await startUpstream({ root: tree, ...(options.sumdbTree === undefined ? {} : { sumdb: options.sumdbTree }) });
  cleanups.push(() => upstream.stop());
  const logs: LogLine[] = [];
  const { logger } = createLogger({ level: 'info', destination: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) } });
  const metrics = createMetrics();
  const storage = new DiskStorage({ root: storeRoot });
  const timeoutMs = options.timeoutMs ?? 5000;
  const origin = createChain({ upstream: upstream.url, direct: new NoDirect(), timeoutMs, retries: 0, logger, metrics });
  cleanups.push(() => origin.close());
  const depot = options.depot ?? new CachingDepot({ storage, origin, logger, metrics, listTtlMs: 60_000, tempDir: spool });
  const sumdb = new SumdbPassthrough({ upstreams: [upstream.url], sumdb: null, storage, logger, metrics, timeoutMs });
  cleanups.push(() => sumdb.close());
  const access = await openTestAccess(dir);
  cleanups.push(() => access.close());
  const server = createServer({ depot, sumdb, metrics, logger, gate: access.gate, audit: access.audit, ...(options.limits === undefined ? {} : { limits: options.limits }), ...(options.tls === undefined ? {} : { tls: options.tls }), ...(options.downloads === undefined ? {} : { downloads: options.downloads }) });
  const { url } = await server.listen('127.0.0.1', 0);
  cleanups.push(() => server.close());
  return {
    url,
    server,
    access,
    upstream,
    storeRoot,
    small,
    big,
    upper,
    logs,
    async logOf(id) {
      for (let i = 0; i < 200; i++) {
        const line = logs.find((l) => l.reqId === id && l.msg === 'request');
        if (line !== undefined) return line;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`no request log line for ${String(id)}`);
    },
  };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request on a fresh connection, with the path sent exactly as given. */
function fetchRaw(base: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: string; agent?: Agent } = {}): Promise<Reply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Sends `raw` bytes on a new connection and returns everything the server answers until it closes. */
function rawExchange(base: string, raw: string | Buffer, options: { keepOpenMs?: number } = {}): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(raw));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    if (options.keepOpenMs !== undefined) setTimeout(() => socket.destroy(), options.keepOpenMs);
  });
}

test('a cold .info is fetched once, then served from godepot with the same bytes, validators and a request id', async () => {
  const w = await startWorld();
  const want = await readFile(w.small.infoFile);
  const cold = await fetchRaw(w.url, w.small.urls.info);
  assert.equal(cold.status, 200);
  assert.deepEqual(cold.body, want);
  const warm = await fetchRaw(w.url, w.small.urls.info);
  assert.deepEqual(warm.body, want);
  assert.equal(w.upstream.countOf(w.small.urls.info), 1);
  assert.equal(warm.headers['content-type'], 'application/json');
  assert.equal(warm.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.match(String(warm.headers.etag), /^"[^"]+"$/);
  assert.equal(warm.headers.etag, cold.headers.etag);
  assert.equal(warm.headers['content-length'], String(want.length));

  assert.match(String(cold.headers['x-request-id']), /^[0-9a-f]{8}-[0-9a-z]+$/);
  assert.notEqual(cold.headers['x-request-id'], warm.headers['x-request-id']);
  const coldLog = await w.logOf(cold.headers['x-request-id']);
  const warmLog = await w.logOf(warm.headers['x-request-id']);
  assert.equal(coldLog.cache, 'miss');
  assert.equal(warmLog.cache, 'hit');
  for (const [key, value] of Object.entries({ method: 'GET', route: 'info', module: 'example.com/small', version: 'v1.0.0', status: 200, bytes: want.length, level: 30 })) {
    assert.equal(warmLog[key], value, key);
  }
  assert.equal(typeof warmLog.ms, 'number');

  // Answered from the server's hot answers now, still counted as a depot hit.
  const hot = await fetchRaw(w.url, w.small.urls.info);
  assert.deepEqual(hot.body, want);
  assert.equal(hot.headers.etag, cold.headers.etag);
  assert.equal((await w.logOf(hot.headers['x-request-id'])).cache, 'hit');
  const metrics = (await fetchRaw(w.url, '/metrics')).body.toString();
  assert.match(metrics, /^godepot_cache_total\{route="info",result="miss"\} 1$/m);
  assert.match(metrics, /^godepot_cache_total\{route="info",result="hit"\} 2$/m);
  assert.equal(w.upstream.countOf(w.small.urls.info), 1);
});

test('every .info, .mod and zip served, from memory or not, is told as a download of its version; lists, queries and failures are not', async () => {
  const told: string[] = [];
  const w = await startWorld({ downloads: { downloaded: (modulePath, version) => void told.push(`${modulePath}@${version}`) } });
  assert.equal((await fetchRaw(w.url, w.small.urls.info)).status, 200);
  assert.equal((await fetchRaw(w.url, w.small.urls.info)).status, 200, 'the second answer comes from the hot answers');
  assert.equal((await fetchRaw(w.url, w.small.urls.mod)).status, 200);
  assert.equal((await fetchRaw(w.url, w.small.urls.zip)).status, 200);
  assert.equal((await fetchRaw(w.url, '/example.com/small/@v/list')).status, 200);
  assert.equal((await fetchRaw(w.url, '/example.com/small/@v/v9.9.9.info')).status, 404);
  assert.equal((await fetchRaw(w.url, '/example.com/small/@v/v1.99.0.zip')).status, 404);
  assert.deepEqual(told, Array(4).fill('example.com/small@v1.0.0'));
});

test('content types and caching headers are those of proxy.golang.org; mutable answers are never cached', async () => {
  const w = await startWorld();
  const mod = await fetchRaw(w.url, w.small.urls.mod);
  assert.equal(mod.headers['content-type']?.toLowerCase(), 'text/plain; charset=utf-8');
  assert.equal(mod.body.toString(), w.small.goMod);
  const zip = await fetchRaw(w.url, w.small.urls.zip);
  assert.equal(zip.headers['content-type'], 'application/zip');
  assert.deepEqual(zip.body, await readFile(w.small.zipFile));
  assert.equal(zip.headers['accept-ranges'], 'bytes');

  const list = await fetchRaw(w.url, w.small.urls.list);
  assert.equal(list.status, 200);
  assert.equal(list.headers['content-type']?.toLowerCase(), 'text/plain; charset=utf-8');
  assert.equal(list.body.toString(), 'v1.0.0\nv1.1.0\n');
  assert.equal(list.headers['cache-control'], 'no-cache');
  assert.equal(list.headers.etag, undefined);

  const latest = await fetchRaw(w.url, '/example.com/small/@latest');
  assert.equal(latest.headers['content-type'], 'application/json');
  assert.equal(latest.headers['cache-control'], 'no-cache');
  assert.match(JSON.parse(latest.body.toString()).Version, /^v1\.[01]\.0$/);

  // an upper-case module path travels !-escaped, and %21-escaped as go sends it
  const upper = await fetchRaw(w.url, w.upper.urls.info.replace(/!/g, '%21'));
  assert.equal(upper.status, 200);
  assert.deepEqual(upper.body, await readFile(w.upper.infoFile));
});

test('If-None-Match answers 304; Range answers 206, 416 or the whole body; HEAD answers headers only', async () => {
  const w = await startWorld();
  const zipBytes = await readFile(w.big.zipFile);
  const size = zipBytes.length;
  const full = await fetchRaw(w.url, w.big.urls.zip);
  assert.equal(full.status, 200);
  assert.equal(full.body.length, size);
  const etag = String(full.headers.etag);

  for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const r = await fetchRaw(w.url, w.big.urls.zip, { headers: { 'if-none-match': inm } });
    assert.equal(r.status, 304, inm);
    assert.equal(r.body.length, 0);
    assert.equal(r.headers.etag, etag);
  }
  assert.equal((await fetchRaw(w.url, w.big.urls.zip, { headers: { 'if-none-match': '"other"' } })).status, 200);

  const ranged = await fetchRaw(w.url, w.big.urls.zip, { headers: { range: 'bytes=100-1099' } });
  assert.equal(ranged.status, 206);
  assert.equal(ranged.headers['content-range'], `bytes 100-1099/${size}`);
  assert.equal(ranged.headers['content-length'], '1000');
  assert.deepEqual(ranged.body, zipBytes.subarray(100, 1100));

  const suffix = await fetchRaw(w.url, w.big.urls.zip, { headers: { range: 'bytes=-10' } });
  assert.equal(suffix.status, 206);
  assert.deepEqual(suffix.body, zipBytes.subarray(size - 10));
  const open = await fetchRaw(w.url, w.big.urls.zip, { headers: { range: `bytes=${size - 5}-` } });
  assert.deepEqual(open.body, zipBytes.subarray(size - 5));
  const clamped = await fetchRaw(w.url, w.big.urls.zip, { headers: { range: `bytes=${size - 3}-${size + 100}` } });
  assert.equal(clamped.headers['content-range'], `bytes ${size - 3}-${size - 1}/${size}`);

  const unsatisfiable = await fetchRaw(w.url, w.big.urls.zip, { headers: { range: `bytes=${size}-` } });
  assert.equal(unsatisfiable.status, 416);
  assert.equal(unsatisfiable.headers['content-range'], `bytes */${size}`);

  // several ranges, another unit, or an If-Range for other content: the whole body
  const wholeBody: Array<Record<string, string>> = [{ range: 'bytes=0-1,5-6' }, { range: 'items=0-1' }, { range: 'bytes=0-1', 'if-range': '"stale"' }];
  for (const headers of wholeBody) {
    const r = await fetchRaw(w.url, w.big.urls.zip, { headers });
    assert.equal(r.status, 200, JSON.stringify(headers));
    assert.equal(r.body.length, size);
  }
  const ifRange = await fetchRaw(w.url, w.big.urls.zip, { headers: { range: 'bytes=0-1', 'if-range': etag } });
  assert.equal(ifRange.status, 206);

  const head = await fetchRaw(w.url, w.big.urls.zip, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(size));
  assert.equal(head.headers.etag, etag);
  assert.equal(head.body.length, 0);
  const headInfo = await fetchRaw(w.url, w.small.urls.info, { method: 'HEAD' });
  assert.equal(headInfo.headers['content-length'], String((await readFile(w.small.infoFile)).length));
  assert.equal(headInfo.body.length, 0);
  const headLog = await w.logOf(head.headers['x-request-id']);
  assert.equal(headLog.method, 'HEAD');
  assert.equal(headLog.bytes, 0);
});

test('bad input gets a 4xx with a printable reason, never reaches the upstream, and the server keeps serving', async () => {
  const w = await startWorld();
  const cases: Array<[string, number, string]> = [
    ['/example.com/%2e%2e/%2e%2e/@v/list', 400, 'bad request: request path holds a "." or ".." segment\n'],
    ['/example.com/m%2f..%2f..%2fetc/@v/list', 400, 'bad request: request path holds an encoded separator or NUL (%2f)\n'],
    ['/example.com/m%5c..%5cx/@v/list', 400, ''],
    ['/example.com/m\\..\\x/@v/list', 400, ''],
    ['/example.com/m%00/@v/list', 400, ''],
    ['/example.com/%252e%252e/@v/list', 400, 'bad request: request path is percent-encoded twice\n'],
    ['/example.com/m%zz/@v/list', 400, ''],
    ['/github.com/Azure/x/@v/list', 400, 'bad request: invalid escaped module path "github.com/Azure/x"\n'],
    ['/example.com/' + 'x'.repeat(5000) + '/@v/list', 400, ''],
    ['/example.com/small/v2/@v/v1.0.0.zip', 404, 'not found: example.com/small/v2@v1.0.0: invalid version: should be v2, not v1\n'],
    ['/example.com/small/@v/v1.0.zip', 404, ''],
    ['/example.com/small/@v/v1.0.0.ziphash', 404, ''],
    ['/nothing/here', 404, 'not found: no such endpoint: /nothing/here\n'],
  ];
  for (const [path, status, body] of cases) {
    const r = await fetchRaw(w.url, path);
    assert.equal(r.status, status, path);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8', path);
    assert.equal(r.headers['cache-control'], 'no-store', path);
    if (body !== '') assert.equal(r.body.toString(), body, path);
    const line = await w.logOf(r.headers['x-request-id']);
    assert.equal(line.status, status);
    assert.equal(typeof line.error, 'string');
  }
  const post = await fetchRaw(w.url, w.small.urls.list, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  const withBody = await fetchRaw(w.url, w.small.urls.list, { body: 'surprise', headers: { 'content-length': '8' } });
  assert.equal(withBody.status, 400);
  assert.equal(withBody.headers.connection, 'close');

  // Node's own parser refuses what is not HTTP at all; the server goes on.
  assert.match(await rawExchange(w.url, 'GET /example.com/m\x00/@v/list HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 400 /);
  assert.match(await rawExchange(w.url, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431 /);
  // Far past the limit: the answer still arrives (no reset while the client is still sending).
  const huge = await rawExchange(w.url, `GET /${'example.com/'.repeat(20_000)}@v/list HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.match(huge, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  assert.match(huge, /\r\n\r\nrequest header fields too large\n$/);

  assert.deepEqual(w.upstream.requests, []);
  assert.deepEqual(await readdir(w.storeRoot).catch(() => []), []);
  assert.equal((await fetchRaw(w.url, w.small.urls.info)).status, 200);
});

test('what the upstream says becomes what go needs: 404 to fall through, 502 and 504 with the reason', async () => {
  const w = await startWorld({ timeoutMs: 300 });
  const missing = await fetchRaw(w.url, '/example.com/missing/@v/v1.0.0.info');
  assert.equal(missing.status, 404);
  assert.match(missing.body.toString(), /^not found: /);

  w.upstream.fault('/example.com/small/@v/v1.1.0.mod', { status: 500 });
  const broken = await fetchRaw(w.url, '/example.com/small/@v/v1.1.0.mod');
  assert.equal(broken.status, 502);
  assert.match(broken.body.toString(), /^bad gateway: /);
  const brokenLog = await w.logOf(broken.headers['x-request-id']);
  assert.equal(brokenLog.upstreamStatus, 500);
  assert.equal(brokenLog.level, 40);

  w.upstream.fault('/example.com/small/@v/v1.1.0.info', { hang: true });
  const slow = await fetchRaw(w.url, '/example.com/small/@v/v1.1.0.info');
  assert.equal(slow.status, 504);
  assert.match(slow.body.toString(), /^gateway timeout: /);
});

test('/healthz, /readyz and /metrics; readiness follows storage and shutdown', async () => {
  const w = await startWorld();
  assert.equal((await fetchRaw(w.url, '/healthz')).body.toString(), 'ok\n');
  assert.equal((await fetchRaw(w.url, '/readyz')).status, 200);
  await fetchRaw(w.url, w.small.urls.info);
  await fetchRaw(w.url, '/nothing');
  const metrics = await fetchRaw(w.url, '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(String(metrics.headers['content-type']), /^text\/plain/);
  const text = metrics.body.toString();
  assert.match(text, /^godepot_requests_total\{route="info",status="200"\} 1$/m);
  assert.match(text, /^godepot_requests_total\{route="other",status="404"\} 1$/m);
  const info = await readFile(w.small.infoFile);
  assert.match(text, new RegExp(`^godepot_served_bytes_total\\{route="info"\\} ${info.length}$`, 'm'));

  let healthy = true;
  const probed = createServer({
    depot: new CachingDepot({
      storage: new DiskStorage({ root: w.storeRoot }),
      origin: createChain({ upstream: 'off', direct: new NoDirect() }),
      logger: createLogger({ level: 'silent' }).logger,
      metrics: createMetrics(),
      listTtlMs: 1000,
    }),
    sumdb: { get: () => Promise.reject(new Error('unused')) },
    gate: w.access.gate,
    audit: w.access.audit,
    metrics: createMetrics(),
    logger: createLogger({ level: 'silent' }).logger,
    storageProbe: async () => {
      if (!healthy) throw new Error('storage /srv/godepot is not writable (EACCES: permission denied)');
    },
  });
  cleanups.push(() => probed.close());
  const { url } = await probed.listen('127.0.0.1', 0);
  assert.equal((await fetchRaw(url, '/readyz')).status, 200);
  healthy = false;
  const down = await fetchRaw(url, '/readyz');
  assert.equal(down.status, 503);
  assert.equal(down.body.toString(), 'not ready: storage /srv/godepot is not writable (EACCES: permission denied)\n');
});

test('/readyz checks the storage folder: 503 naming it when it is missing or not a folder, 200 once it is back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'godepot-readyz-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'store');
  await mkdir(root);
  const access = await openTestAccess(dir);
  cleanups.push(() => access.close());
  const server = createServer({
    depot: new CachingDepot({
      storage: new DiskStorage({ root }),
      origin: createChain({ upstream: 'off', direct: new NoDirect() }),
      logger: createLogger({ level: 'silent' }).logger,
      metrics: createMetrics(),
      listTtlMs: 1000,
    }),
    sumdb: { get: () => Promise.reject(new Error('unused')) },
    gate: access.gate,
    audit: access.audit,
    metrics: createMetrics(),
    logger: createLogger({ level: 'silent' }).logger,
    storageProbe: () => checkStorageFolder(root),
  });
  cleanups.push(() => server.close());
  const { url } = await server.listen('127.0.0.1', 0);
  assert.equal((await fetchRaw(url, '/readyz')).body.toString(), 'ready\n');

  await rm(root, { recursive: true });
  const missing = await fetchRaw(url, '/readyz');
  assert.equal(missing.status, 503);
  assert.equal(missing.body.toString(), `not ready: storage ${root} is missing\n`);

  await writeFile(root, 'not a folder');
  const file = await fetchRaw(url, '/readyz');
  assert.equal(file.status, 503);
  assert.equal(file.body.toString(), `not ready: storage ${root} is not a folder\n`);

  await rm(root);
  await mkdir(root);
  assert.equal((await fetchRaw(url, '/readyz')).status, 200);
  assert.deepEqual(await readdir(join(root, '.tmp')), [], 'the probe file is removed');
});

test('/metrics: Node\'s process metrics under their standard names, build info, request durations by route and status class, every known endpoint under its own route', async () => {
  const w = await startWorld();
  await fetchRaw(w.url, w.small.urls.info);
  await fetchRaw(w.url, w.small.urls.info);
  await fetchRaw(w.url, '/nothing');
  await fetchRaw(w.url, '/healthz');
  await fetchRaw(w.url, '/readyz');
  await fetchRaw(w.url, '/');
  await fetchRaw(w.url, '/metrics');
  const text = (await fetchRaw(w.url, '/metrics')).body.toString();
  assert.match(text, /^process_cpu_seconds_total \d/m);
  assert.match(text, /^process_resident_memory_bytes \d/m);
  assert.match(text, /^nodejs_heap_size_total_bytes \d/m);
  assert.match(text, /^nodejs_eventloop_lag_seconds \d/m);
  assert.doesNotMatch(text, /^godepot_(process|nodejs)_/m, 'no prefixed copies of the standard names');
  assert.match(text, new RegExp(`^godepot_build_info\\{version="unknown",node="${process.version}"\\} 1$`, 'm'));

  const bucketCount = (route: string, statusClass: string): number => Number(new RegExp(`^godepot_request_duration_seconds_count\\{route="${route}",status_class="${statusClass}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
  assert.equal(bucketCount('info', '2xx'), 2);
  assert.match(text, /^godepot_request_duration_seconds_bucket\{le="\+Inf",route="info",status_class="2xx"\} 2$/m);
  assert.equal(bucketCount('other', '4xx'), 1);
  for (const route of ['healthz', 'readyz', 'home']) {
    assert.equal(bucketCount(route, '2xx'), 1, route);
    assert.match(text, new RegExp(`^godepot_requests_total\\{route="${route}",status="200"\\} 1$`, 'm'));
  }
  // The scrape that is answering is counted once it is sent: the one before it is.
  assert.match(text, /^godepot_requests_total\{route="metrics",status="200"\} 1$/m);
  assert.match(text, /^godepot_requests_total\{route="other",status="404"\} 1$/m);
});

test('GET / says what the server is and how go uses it, at the address the client used; HEAD too', async () => {
  const w = await startWorld();
  const page = await fetchRaw(w.url, '/');
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-type']), /^text\/plain/);
  const body = page.body.toString();
  assert.match(body, /^godepot unknown: a Go module proxy\./);
  assert.match(body, new RegExp(`^  GOPROXY=${w.url}$`, 'm'));
  const named = await fetchRaw(w.url, '/', { headers: { host: 'godepot.example.com:8080' } });
  assert.match(named.body.toString(), /^  GOPROXY=http:\/\/godepot\.example\.com:8080$/m);
  const odd = await fetchRaw(w.url, '/', { headers: { host: 'evil.example.com/<script>' } });
  assert.match(odd.body.toString(), new RegExp(`^  GOPROXY=${w.url}$`, 'm'), 'a Host header that is no host name is not echoed');
  const head = await fetchRaw(w.url, '/', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(page.body.length));
  assert.equal(head.body.length, 0);
});

test('graceful close: a zip download in flight finishes whole, new connections are refused, idle ones closed', async () => {
  const w = await startWorld();
  const zipBytes = await readFile(w.big.zipFile);
  // Cold, behind a slow upstream, and read slowly: in flight for a while whatever the socket buffers hold.
  w.upstream.fault(w.big.urls.zip, { delayMs: 300, times: 1 });
  const { hostname, port } = new URL(w.url);
  const slow = new Promise<{ status: number; received: Buffer }>((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path: w.big.urls.zip, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.pause();
      const tick = setInterval(() => {
        let chunk: Buffer | null;
        while ((chunk = res.read(64 << 10) as Buffer | null) !== null) chunks.push(chunk);
      }, 5);
      res.on('end', () => {
        clearInterval(tick);
        resolve({ status: res.statusCode!, received: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  await new Promise((r) => setTimeout(r, 50));

  // A kept-alive connection that is idle: close() must not wait for it.
  const keepAlive = new Agent({ keepAlive: true });
  const idle = await fetchRaw(w.url, '/healthz', { agent: keepAlive });
  assert.equal(idle.headers.connection, 'keep-alive');

  let closed = false;
  const closing = w.server.close().then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(closed, false, 'close() waits for the download in flight');
  await assert.rejects(fetchRaw(w.url, '/healthz'), /ECONNREFUSED/);

  const { status, received } = await slow;
  assert.equal(status, 200);
  assert.ok(received.equals(zipBytes));
  await closing;
  assert.equal(closed, true);
  keepAlive.destroy();
});

test('a .info miss fetches its zip ahead; close() lets that fetch finish, closeNow() stops waiting for it', async () => {
  const w = await startWorld();
  w.upstream.fault(w.small.urls.zip, { delayMs: 300, times: 1 });
  assert.equal((await fetchRaw(w.url, w.small.urls.info)).status, 200);
  await w.server.close();
  assert.equal(await readFile(join(w.storeRoot, 'example.com', 'small', '@v', 'v1.0.0.ziphash'), 'utf8'), w.small.zipH1);
  assert.equal(w.upstream.countOf(w.small.urls.zip), 1);

  const stuck = await startWorld();
  stuck.upstream.fault(stuck.small.urls.zip, { hang: true });
  assert.equal((await fetchRaw(stuck.url, stuck.small.urls.info)).status, 200);
  let closed = false;
  const closing = stuck.server.close().then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(closed, false, 'close() waits for the zip fetched ahead');
  stuck.server.closeNow();
  await closing;
});

test('a client that goes away mid-zip stops only its own send; the server and other clients go on', async () => {
  const w = await startWorld();
  await fetchRaw(w.url, w.big.urls.zip);
  const { hostname, port } = new URL(w.url);
  const id = await new Promise<string>((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path: w.big.urls.zip, agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve(String(res.headers['x-request-id']));
      });
    });
    req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
    req.end();
  });
  const line = await w.logOf(id);
  assert.equal(line.status, 200);
  assert.equal(line.aborted, true);
  assert.ok((line.bytes as number) < (await readFile(w.big.zipFile)).length);
  const again = await fetchRaw(w.url, w.big.urls.zip);
  assert.equal(again.status, 200);
  assert.equal(again.body.length, (await readFile(w.big.zipFile)).length);
});

test('stored zips sent side by side, on fresh and kept-alive connections, each arrive byte for byte', async () => {
  const w = await startWorld();
  const files = { big: await readFile(w.big.zipFile), small: await readFile(w.small.zipFile), upper: await readFile(w.upper.zipFile) };
  const urls = { big: w.big.urls.zip, small: w.small.urls.zip, upper: w.upper.urls.zip };
  for (const path of Object.values(urls)) assert.equal((await fetchRaw(w.url, path)).status, 200);
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 2 });
  const names = ['big', 'small', 'big', 'upper', 'big', 'small', 'big', 'upper'] as const;
  const replies = await Promise.all(names.map((name, i) => fetchRaw(w.url, urls[name], i % 2 === 0 ? {} : { agent: keepAlive })));
  for (const [i, reply] of replies.entries()) {
    assert.equal(reply.status, 200);
    assert.ok(reply.body.equals(files[names[i]!]), `${names[i]} #${i}`);
  }
  const tail = await fetchRaw(w.url, urls.big, { headers: { range: 'bytes=1000000-' } });
  assert.equal(tail.status, 206);
  assert.ok(tail.body.equals(files.big.subarray(1_000_000)));
  keepAlive.destroy();
});

test('a stored zip shorter than the answer announces is a 500 before any byte, never a short zip', async () => {
  const w = await startWorld();
  assert.equal((await fetchRaw(w.url, w.small.urls.zip)).status, 200);
  // Storage damaged behind godepot's back, after the zip's size was remembered.
  await writeFile(join(w.storeRoot, 'example.com', 'small', '@v', 'v1.0.0.zip'), 'PK');
  const r = await fetchRaw(w.url, w.small.urls.zip);
  assert.equal(r.status, 500);
  assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
  assert.match(String(((await w.logOf(r.headers['x-request-id'])).err as { message?: string }).message), /holds 2 of the \d+ bytes announced/);
});

test('an idle connection is cut, but not one whose request waits for its origin', async () => {
  const w = await startWorld({ limits: { idleTimeoutMs: 200, keepAliveTimeoutMs: 10_000 } });
  w.upstream.fault(w.small.urls.mod, { delayMs: 700, times: 1 });
  const slow = await fetchRaw(w.url, w.small.urls.mod);
  assert.equal(slow.status, 200);
  assert.equal(slow.body.toString(), w.small.goMod);
  const started = Date.now();
  const silent = await rawExchange(w.url, '', { keepOpenMs: 5000 });
  assert.equal(silent, '');
  assert.ok(Date.now() - started < 3000);
});

test('slow request heads are cut off', async () => {
  const w = await startWorld({ limits: { headersTimeoutMs: 200 } });
  const started = Date.now();
  const answer = await rawExchange(w.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', { keepOpenMs: 5000 });
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.ok(Date.now() - started < 4000);
});

test('checksum database requests go to the passthrough; an unsupported database answers 404 so go goes direct', async () => {
  const sumdbTree = await mkdtemp(join(tmpdir(), 'godepot-server-sumdb-'));
  cleanups.push(() => rm(sumdbTree, { recursive: true, force: true }));
  await mkdir(join(sumdbTree, 'sum.example.org'), { recursive: true });
  await writeFile(join(sumdbTree, 'sum.example.org', 'latest'), 'sum.example.org\n1\nabc=\n');
  const w = await startWorld({ sumdbTree });
  const supported = await fetchRaw(w.url, '/sumdb/sum.example.org/supported');
  assert.equal(supported.status, 200);
  const latest = await fetchRaw(w.url, '/sumdb/sum.example.org/latest');
  assert.equal(latest.body.toString(), 'sum.example.org\n1\nabc=\n');
  assert.equal(latest.headers['cache-control'], 'no-cache');
  const line = await w.logOf(latest.headers['x-request-id']);
  assert.equal(line.route, 'sumdb');
  assert.equal(line.sumdb, 'sum.example.org/latest');
  assert.equal((await fetchRaw(w.url, '/sumdb/sum.other.org/supported')).status, 404);
  const before = w.upstream.requests.length;
  assert.equal((await fetchRaw(w.url, '/sumdb/sum.example.org/tile/99/0/000')).status, 400);
  assert.equal(w.upstream.requests.length, before);
});

// A depot that fails in ways the real one only does when something is broken: a bug, and a stored zip
// that cannot be read once the answer has been chosen.
function brokenDepot(zips: Record<string, Artifact>): Depot {
  const bug = (): Promise<Artifact> => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'x')"));
  return { list: bug, latest: bug, info: bug, mod: bug, zip: (_modulePath, version) => Promise.resolve(zips[version]!), forget: () => undefined, close: () => Promise.resolve() };
}

/** A stored zip whose reading fails with EIO after `goodBytes` bytes. */
function failingZip(goodBytes: number): Artifact {
  return {
    contentType: 'application/zip',
    size: 100_000,
    immutable: true,
    etag: '"x"',
    cache: 'hit',
    open: async () => {
      let sent = false;
      return new Readable({
        read() {
          if (!sent && goodBytes > 0) {
            sent = true;
            this.push(Buffer.alloc(goodBytes));
            return;
          }
          this.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
        },
      });
    },
  };
}

test('a bug is a logged 500 with its stack and the request id, never a 404; a stream failing before its first byte is a proper error, after it a cut connection', async () => {
  const w = await startWorld({ depot: brokenDepot({ 'v1.0.0': failingZip(0), 'v1.1.0': failingZip(1000) }) });
  const r = await fetchRaw(w.url, w.small.urls.info);
  assert.equal(r.status, 500);
  const id = String(r.headers['x-request-id']);
  assert.equal(r.body.toString(), `internal server error (request id ${id})\n`);
  const line = await w.logOf(id);
  assert.equal(line.level, 50);
  assert.match(String((line.err as { stack?: string }).stack), /TypeError: Cannot read properties of undefined/);

  const z = await fetchRaw(w.url, w.small.urls.zip);
  assert.equal(z.status, 500);
  assert.equal(z.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(z.headers.etag, undefined);
  assert.match(String(((await w.logOf(z.headers['x-request-id'])).err as { message?: string }).message), /EIO/);

  // Past the first byte the status line is gone: the client must see a broken transfer, not a short zip.
  await assert.rejects(fetchRaw(w.url, '/example.com/small/@v/v1.1.0.zip'), /aborted|ECONNRESET|socket hang up/);
  assert.equal((await fetchRaw(w.url, '/healthz')).status, 200);
});

test('with tls: an https URL, keep-alive as over http, a new certificate for new connections only, and no answer to plain http', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'godepot-server-tls-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const ca = await makeTestCa(dir);
  const first = await ca.issue('first', ['127.0.0.1']);
  const second = await ca.issue('second', ['127.0.0.1']);
  const w = await startWorld({ tls: { cert: Buffer.from(first.cert), key: Buffer.from(first.key) } });
  assert.match(w.url, /^https:\/\/127\.0\.0\.1:[0-9]+$/);
  const caPem = await readFile(ca.caFile);

  /** GETs `path` over `agent` and tells the serial of the certificate and the local port of the connection it came on. */
  const get = (path: string, agent: HttpsAgent): Promise<{ status: number; body: Buffer; serial: string; localPort: number }> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(w.url + path, { agent }, (res) => {
        const socket = res.socket as import('node:tls').TLSSocket;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), serial: socket.getPeerCertificate().serialNumber, localPort: socket.localPort! }));
      });
      req.on('error', reject);
      req.end();
    });

  const keepAlive = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: caPem });
  cleanups.push(async () => keepAlive.destroy());
  const one = await get(w.small.urls.info, keepAlive);
  const two = await get(w.small.urls.mod, keepAlive);
  assert.deepEqual([one.status, two.status], [200, 200]);
  assert.equal(one.body.toString(), await readFile(w.small.infoFile, 'utf8'));
  assert.equal(two.localPort, one.localPort, 'the second request came on the same connection');
  assert.equal(one.serial, first.serialNumber);

  w.server.setCertificate({ cert: Buffer.from(second.cert), key: Buffer.from(second.key) });
  const fresh = await get(w.small.urls.info, new HttpsAgent({ ca: caPem }));
  assert.equal(fresh.serial, second.serialNumber, 'a new connection gets the new certificate');
  const kept = await get(w.small.urls.info, keepAlive);
  assert.deepEqual([kept.localPort, kept.serial], [one.localPort, first.serialNumber], 'the open connection goes on with its own');

  // A client that does not trust the CA.
  await assert.rejects(get('/healthz', new HttpsAgent()), (err: NodeJS.ErrnoException) => err.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  // Plain http on the TLS port: the handshake fails and the connection is closed without an answer.
  assert.equal(await rawExchange(w.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'), '');
  const refused = w.logs.find((l) => l.msg === 'request' && l.error === 'ERR_SSL_HTTP_REQUEST');
  assert.equal(refused?.status, 499, 'logged as a client gone without an answer');
  assert.throws(() => w.server.setCertificate({ cert: Buffer.from(first.cert), key: Buffer.from(second.key) }), /key values mismatch/);
  const after = await get(w.small.urls.info, new HttpsAgent({ ca: caPem }));
  assert.equal(after.serial, second.serialNumber, 'a refused pair leaves the one in use');
});

test('without tls, setCertificate is refused', async () => {
  const w = await startWorld();
  assert.throws(() => w.server.setCertificate({ cert: Buffer.from(''), key: Buffer.from('') }), /created without tls/);
});
