// Access control at the server's edge, in process: who may read what, that a refusal comes before any
// lookup (the hot answers, storage, the upstream), the limits, and the audit record of refusals.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openTestAccess, type TestAccess, type TestAccessOptions } from '../../test/support/access.js';
import { addModule } from '../../test/support/modgraph.js';
import { NoDirect } from '../../test/support/no-direct.js';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';
import { SumdbPassthrough } from '../checksum/passthrough.js';
import { CachingDepot } from '../depot/caching-depot.js';
import { createChain } from '../origin/chain.js';
import { DiskStorage } from '../storage/disk.js';
import { createLogger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';
import { createServer } from './app.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const corp = (modulePath: string): boolean => modulePath === 'corp.example.com' || modulePath.startsWith('corp.example.com/');

interface World {
  url: string;
  upstream: Upstream;
  access: TestAccess;
  /** Every line the server logged. */
  logText(): string;
}

/** A server over an upstream holding a public module and a private one (corp.example.com/lib). */
async function startWorld(options: TestAccessOptions = {}): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'godepot-access-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const tree = join(dir, 'tree');
  await mkdir(tree);
  await addModule(tree, join(dir, 'work'), 'example.com/public', 'v1.0.0', { 'go.mod': 'module example.com/public\n', 'p.go': 'package public\n' });
  await addModule(tree, join(dir, 'work'), 'corp.example.com/lib', 'v1.0.0', { 'go.mod': 'module corp.example.com/lib\n', 'l.go': 'package lib\n' });
  // Two checksum databases behind the upstream: a public one, and one standing for godepot's own.
  const sumdbTree = join(dir, 'sumdb');
  for (const name of ['sum.example.org', 'hosted.example']) {
    await mkdir(join(sumdbTree, name), { recursive: true });
    await writeFile(join(sumdbTree, name, 'latest'), `${name}\n1\nabc=\n`);
  }
  const upstream = await startUpstream({ root: tree, sumdb: sumdbTree });
  cleanups.push(() => upstream.stop());
  const lines: string[] = [];
  const { logger } = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  const metrics = createMetrics();
  const storage = new DiskStorage({ root: join(dir, 'store') });
  const origin = createChain({ upstream: upstream.url, direct: new NoDirect(), retries: 0, logger, metrics });
  cleanups.push(() => origin.close());
  const depot = new CachingDepot({ storage, origin, logger, metrics, listTtlMs: 60_000, tempDir: join(dir, 'spool') });
  const sumdb = new SumdbPassthrough({ upstreams: [upstream.url], sumdb: null, storage, logger, metrics });
  cleanups.push(() => sumdb.close());
  const access = await openTestAccess(join(dir, 'state'), { isPrivate: corp, logger, ...options });
  cleanups.push(() => access.close());
  const server = createServer({ depot, sumdb, metrics, logger, gate: access.gate, audit: access.audit });
  const { url } = await server.listen('127.0.0.1', 0);
  cleanups.push(() => server.close());
  return { url, upstream, access, logText: () => lines.join('') };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

function get(w: World, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const { hostname, port } = new URL(w.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

const privatePaths = (module: string): string[] => [
  `/${module}/@v/list`,
  `/${module}/@latest`,
  `/${module}/@v/v1.0.0.info`,
  `/${module}/@v/v1.0.0.mod`,
  `/${module}/@v/v1.0.0.zip`,
  `/sumdb/sum.golang.org/lookup/${module}@v1.0.0`,
];

/** What a client can see of an answer, with the module path taken out of its body. */
function seen(reply: Reply, module: string): unknown {
  const names = Object.keys(reply.headers).filter((name) => name !== 'x-request-id' && name !== 'date').sort();
  const body = reply.text.replaceAll(module, '<module>');
  return { status: reply.status, names, body, length: Number(reply.headers['content-length']) - Buffer.byteLength(reply.text) + Buffer.byteLength(body) };
}

test('a client that may not read a private module gets the same answer whether it exists or not, and nothing is looked up', async () => {
  const w = await startWorld();
  const other = await w.access.token('other', ['read:other.example.com/*']);
  for (const headers of [{}, bearer(other)]) {
    const missing = privatePaths('corp.example.com/gone');
    for (const [i, existing] of privatePaths('corp.example.com/lib').entries()) {
      const a = await get(w, existing, headers);
      const b = await get(w, missing[i]!, headers);
      assert.equal(a.status, 'authorization' in headers ? 403 : 401, `${existing}: ${a.text}`);
      assert.deepEqual(seen(a, 'corp.example.com/lib'), seen(b, 'corp.example.com/gone'), existing);
    }
  }
  assert.deepEqual(w.upstream.requests.filter((path) => path.includes('corp.example.com')), [], 'the upstream was never asked');
  assert.equal((await get(w, '/example.com/public/@v/v1.0.0.info')).status, 200, 'anonymous clients read public modules');
});

test('the answers remembered in memory are behind the check: a reader fills them, an anonymous client still gets 401', async () => {
  const w = await startWorld();
  const reader = await w.access.token('reader', ['read:corp.example.com/*']);
  for (let i = 0; i < 2; i++) {
    const read = await get(w, '/corp.example.com/lib/@v/v1.0.0.info', bearer(reader));
    assert.equal(read.status, 200);
    assert.equal(read.headers['cache-control'], 'private, max-age=31536000, immutable', 'no shared cache keeps what a token read');
  }
  assert.equal((await get(w, '/example.com/public/@v/v1.0.0.info')).headers['cache-control'], 'public, max-age=31536000, immutable');
  const anonymous = await get(w, '/corp.example.com/lib/@v/v1.0.0.info');
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers['www-authenticate'], 'Basic realm="godepot"');
  assert.equal(anonymous.text, 'unauthorized: a token is needed to read corp.example.com/lib (Authorization: Bearer <token>, or Basic with the token as password)\n');
  const basic = { authorization: `Basic ${Buffer.from(`anyone:${reader}`).toString('base64')}` };
  assert.equal((await get(w, '/corp.example.com/lib/@v/v1.0.0.mod', basic)).status, 200, 'Basic with the token as password, any user name');
  assert.equal((await get(w, '/corp.example.com/gone/@v/v1.0.0.info', bearer(reader))).status, 404, 'a reader learns what exists');

  await w.access.revoke('reader');
  const revoked = await get(w, '/corp.example.com/lib/@v/v1.0.0.info', bearer(reader));
  assert.equal(revoked.status, 401);
  assert.equal(revoked.text, 'unauthorized: the token is not valid (unknown or revoked)\n');
  assert.ok(!w.logText().includes(reader), 'the token is in no log line');
  assert.match(w.logText(), /"principal":"reader"/, 'the token is named in the request log');
});

test('godepot\'s own checksum database names private modules: its head and tiles need a token, a public database\'s do not', async () => {
  const w = await startWorld({ hostedSumdb: 'hosted.example' });
  assert.equal((await get(w, '/sumdb/sum.example.org/latest')).status, 200);
  const anonymous = await get(w, '/sumdb/hosted.example/latest');
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.text, 'unauthorized: a token is needed to read on this server (Authorization: Bearer <token>, or Basic with the token as password)\n');
  const scoped = await w.access.token('scoped', ['read:corp.example.com/*']);
  const read = await get(w, '/sumdb/hosted.example/latest', bearer(scoped));
  assert.equal(read.status, 200, read.text);
  assert.equal(read.text, 'hosted.example\n1\nabc=\n');
});

test('--anonymous none: every module needs a token, the health checks none; --metrics-token guards /metrics', async () => {
  const w = await startWorld({ anonymous: 'none', metricsToken: 'scrape-token-of-the-test' });
  assert.equal((await get(w, '/example.com/public/@v/v1.0.0.info')).status, 401);
  const reader = await w.access.token('reader', ['read']);
  assert.equal((await get(w, '/example.com/public/@v/v1.0.0.info', bearer(reader))).status, 200);
  for (const path of ['/healthz', '/readyz']) assert.equal((await get(w, path)).status, 200, path);
  assert.equal((await get(w, '/metrics')).status, 401);
  assert.equal((await get(w, '/metrics', bearer(reader))).status, 403, 'a reader is no admin');
  assert.equal((await get(w, '/metrics', bearer('scrape-token-of-the-test'))).status, 200);
  assert.equal((await get(w, '/metrics', bearer(await w.access.token('ops', ['admin'])))).status, 200);
  assert.equal((await get(w, '/metrics', bearer(await w.access.token('scoped', ['admin:*'])))).status, 403, 'admin of every module is not admin of the server');
});

test('rates: a client past its burst gets 429 with Retry-After, per token and per address, and is let in again', async () => {
  const w = await startWorld({ anonymousRate: { ratePerSecond: 2, burst: 3 }, tokenRate: { ratePerSecond: 2, burst: 5 } });
  const statuses = async (n: number, headers: Record<string, string> = {}): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await get(w, '/example.com/public/@v/v1.0.0.info', headers)).status);
    return out;
  };
  assert.deepEqual(await statuses(4), [200, 200, 200, 429]);
  const limited = await get(w, '/example.com/public/@v/v1.0.0.info');
  assert.equal(limited.headers['retry-after'], '1');
  const reader = await w.access.token('reader', ['read']);
  assert.deepEqual(await statuses(6, bearer(reader)), [200, 200, 200, 200, 200, 429], 'a token has a bucket of its own');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.equal((await get(w, '/example.com/public/@v/v1.0.0.info')).status, 200, 'refilled');
});

test('an address that keeps presenting bad tokens is barred for a while; each refusal is on the audit record, the tokens never', async () => {
  const w = await startWorld();
  const reader = await w.access.token('reader', ['read']);
  const wrong = `${reader.slice(0, -4)}AAAA`;
  const statuses: number[] = [];
  for (let i = 0; i < 33; i++) statuses.push((await get(w, '/example.com/public/@v/v1.0.0.info', bearer(wrong))).status);
  // A burst of 30 failures is forgiven; the one past it is still answered, and bars the address.
  assert.deepEqual(statuses.slice(0, 31), Array(31).fill(401));
  assert.deepEqual(statuses.slice(31), [429, 429]);
  assert.equal((await get(w, '/example.com/public/@v/v1.0.0.info', bearer(reader))).status, 429, 'even a good token, from that address, for a while');
  assert.equal((await get(w, '/example.com/public/@v/v1.0.0.info')).status, 200, 'requests without a token are not barred');

  // Refusals are recorded behind their answers: wait for the record to catch up.
  let audit: Array<Record<string, unknown>> = [];
  for (let tries = 0; tries < 50; tries++) {
    audit = (await readFile(w.access.auditFile, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    if (audit.filter((e) => e.action === 'request.denied').length >= 31) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const denied = audit.filter((e) => e.action === 'request.denied');
  assert.equal(denied.length, 31, 'the 401s; the 429s are not refusals of who the client is');
  assert.deepEqual(denied[0], { ...denied[0], actor: 'unknown', from: '127.0.0.1', target: '/example.com/public/@v/v1.0.0.info', outcome: 'credentials refused' });
  const text = JSON.stringify(audit);
  assert.ok(!text.includes(reader) && !text.includes(wrong), 'no token on the record');
});

test('cold fetches at once are capped per principal: past the cap, 429; another principal is not held up', async () => {
  const w = await startWorld({ maxColdFetches: 1 });
  // Long enough that the requests below come while the list is still being fetched, however busy the machine.
  w.upstream.fault('/example.com/public/@v/list', { delayMs: 1500 });
  const reader = await w.access.token('reader', ['read']);
  const slow = get(w, '/example.com/public/@v/list');
  for (let i = 0; i < 100 && w.upstream.countOf('/example.com/public/@v/list') === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  const second = await get(w, '/example.com/public/@v/v1.0.0.mod');
  assert.equal(second.status, 429);
  assert.equal(second.headers['retry-after'], '1');
  assert.equal((await get(w, '/example.com/public/@v/v1.0.0.mod', bearer(reader))).status, 200, 'another principal');
  assert.equal((await slow).status, 200);
  assert.equal((await get(w, '/example.com/public/@v/v1.0.0.info')).status, 200, 'the place was given back');
});
