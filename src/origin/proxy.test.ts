import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';
import { GoneError, InvalidContentError, NotFoundError, TimeoutError, UpstreamError } from '../errors.js';
import { createMetrics } from '../telemetry/metrics.js';
import { CONTRACT_MODULES, originContract, writeGoproxyTree } from './origin.contract.js';
import { ProxyOrigin, pathEscape, type ProxyOriginOptions } from './proxy.js';

originContract('ProxyOrigin', async (modules, scratch) => {
  const root = join(scratch, 'tree');
  await writeGoproxyTree(root, modules);
  const upstream = await startUpstream({ root });
  const origin = new ProxyOrigin({ url: upstream.url, timeoutMs: 5000, retries: 0 });
  return {
    origin,
    async close() {
      await origin.close();
      await upstream.stop();
    },
  };
});

const M = 'example.com/contract/plain';
const INFO = `/${M}/@v/v1.0.0.info`;
const ZIP = `/${M}/@v/v1.0.0.zip`;

describe('ProxyOrigin against a faulty upstream', () => {
  let root: string;
  let up: Upstream;
  let other: Upstream;
  const origins: ProxyOrigin[] = [];

  let files = 0;
  const scratchFile = (): string => join(root, `zip-${files++}`);
  // A zip download, to a file of its own; resolves with its size.
  const zip = (o: ProxyOrigin, modulePath: string, version: string, signal?: AbortSignal, file = scratchFile()): Promise<number> =>
    o.download(modulePath, version, { zipTo: file }, signal).zip!;

  function origin(options: Partial<ProxyOriginOptions> = {}): ProxyOrigin {
    const o = new ProxyOrigin({ url: up.url, timeoutMs: 2000, retries: 2, retryDelayMs: 5, ...options });
    origins.push(o);
    return o;
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'godepot-proxy-'));
    await writeGoproxyTree(join(root, 'tree'), CONTRACT_MODULES);
    up = await startUpstream({ root: join(root, 'tree') });
    other = await startUpstream({ root: join(root, 'tree') });
  });

  after(async () => {
    await Promise.all(origins.map((o) => o.close()));
    await up.stop();
    await other.stop();
    await rm(root, { recursive: true, force: true });
  });

  beforeEach(() => {
    up.clearFaults();
    up.clearLog();
    other.clearFaults();
    other.clearLog();
  });

  it('escapes paths and versions as go does and reuses connections', async () => {
    const o = origin();
    await o.list(M);
    await o.query(M, 'v1.0.0');
    await o.download(M, 'v1.0.0', { mod: true }).mod;
    await assert.rejects(o.query('github.com/Foo/Bar', 'v2.0.0+incompatible'), NotFoundError);
    assert.deepEqual(up.requests, [
      `/${M}/@v/list`,
      INFO,
      `/${M}/@v/v1.0.0.mod`,
      '/github.com/!foo/!bar/@v/v2.0.0+incompatible.info',
    ]);
    for (let i = 0; i < 10; i++) await o.download(M, 'v1.0.0', { mod: true }).mod;
    // undici may open a second connection while the first finishes its bookkeeping, but no more.
    assert.ok(up.connections <= 2, `${up.connections} connections for 14 requests`);
    assert.equal(pathEscape('github.com/!foo/x@v/v1.0.0+incompatible.info'), 'github.com/%21foo/x@v/v1.0.0+incompatible.info');
  });

  it('maps 404 and 410 to NotFoundError and GoneError naming the URL, with the upstream text less its own "not found: ", without retrying', async () => {
    const o = origin();
    up.fault(INFO, { status: 404, body: 'not found: example.com/contract/plain@v1.0.0: invalid version\n' });
    await assert.rejects(o.query(M, 'v1.0.0'), (err: Error) => err instanceof NotFoundError && err.message === `${up.url}${INFO} answered 404: example.com/contract/plain@v1.0.0: invalid version`);
    up.fault(INFO, { status: 410, body: 'gone for good\n' });
    await assert.rejects(o.query(M, 'v1.0.0'), (err: Error) => err instanceof GoneError && err.message === `${up.url}${INFO} answered 410: gone for good`);
    up.fault(INFO, { status: 404, body: '' });
    await assert.rejects(o.query(M, 'v1.0.0'), (err: Error) => err instanceof NotFoundError && err.message === `${up.url}${INFO} answered 404`);
    assert.equal(up.countOf(INFO), 3);
  });

  it('retries 5xx and network resets with backoff, then succeeds', async () => {
    const o = origin();
    up.fault(INFO, { status: 503, times: 2 });
    assert.equal(JSON.parse((await o.query(M, 'v1.0.0')).toString()).Version, 'v1.0.0');
    assert.equal(up.countOf(INFO), 3);
    up.fault(INFO, { resetAfterBytes: 5, times: 1 });
    assert.equal(JSON.parse((await o.query(M, 'v1.0.0')).toString()).Version, 'v1.0.0');
    assert.equal(up.countOf(INFO), 5);
  });

  it('gives up after the retries with UpstreamError(status)', async () => {
    up.fault(INFO, { status: 502, body: 'bad gateway upstream\n' });
    await assert.rejects(origin({ retries: 3 }).query(M, 'v1.0.0'), (err: Error) => {
      assert.ok(err instanceof UpstreamError);
      assert.equal(err.status, 502);
      assert.match(err.message, /502.*\n\tserver response: bad gateway upstream/s);
      return true;
    });
    assert.equal(up.countOf(INFO), 4);
  });

  it('never retries a 4xx', async () => {
    up.fault(INFO, { status: 403 });
    await assert.rejects(origin().query(M, 'v1.0.0'), (err: Error) => err instanceof UpstreamError && err.status === 403);
    assert.equal(up.countOf(INFO), 1);
  });

  it('fails with UpstreamError when the upstream is down', async () => {
    const down = await startUpstream({ root });
    const o = new ProxyOrigin({ url: down.url, retries: 1, retryDelayMs: 1 });
    origins.push(o);
    await down.stop();
    await assert.rejects(o.list(M), (err: Error) => err instanceof UpstreamError && err.status === undefined && /ECONNREFUSED|connect/i.test(err.message));
  });

  it('times out on a hanging upstream without retrying', async () => {
    up.fault(INFO, { hang: true });
    const started = Date.now();
    await assert.rejects(origin({ timeoutMs: 200 }).query(M, 'v1.0.0'), TimeoutError);
    assert.ok(Date.now() - started < 1500);
    assert.equal(up.countOf(INFO), 1);
  });

  it('times out when a body stalls, for small files and streamed zips', async () => {
    const o = origin({ timeoutMs: 200 });
    up.fault(INFO, { stallAfterBytes: 3 });
    await assert.rejects(o.query(M, 'v1.0.0'), TimeoutError);
    up.fault(ZIP, { stallAfterBytes: 10 });
    await assert.rejects(zip(o, M, 'v1.0.0'), TimeoutError);
  });

  it('fails a zip stream cut by a connection reset with UpstreamError', async () => {
    up.fault(ZIP, { resetAfterBytes: 100 });
    await assert.rejects(zip(origin(), M, 'v1.0.0'), UpstreamError);
  });

  it('refuses bodies over the limit, and a declared Content-Length over it before reading', async () => {
    const o = origin({ limits: { info: 1000, zip: 100_000 } });
    up.fault(INFO, { bodyBytes: 5000 });
    await assert.rejects(o.query(M, 'v1.0.0'), InvalidContentError);
    up.fault(INFO, { bodyBytes: 1 << 30, declareLength: true });
    await assert.rejects(o.query(M, 'v1.0.0'), (err: Error) => err instanceof InvalidContentError && /1073741824/.test(err.message));
    up.fault(ZIP, { bodyBytes: Infinity });
    await assert.rejects(zip(o, M, 'v1.0.0'), InvalidContentError);
    up.fault(ZIP, { bodyBytes: 200_000, declareLength: true });
    await assert.rejects(zip(o, M, 'v1.0.0'), InvalidContentError);
    assert.equal(up.countOf(INFO), 2);
  });

  it('refuses a zip larger than go accepts by default (500 MiB) from its Content-Length', async () => {
    up.fault(ZIP, { bodyBytes: 500 * 1024 * 1024 + 1, declareLength: true });
    await assert.rejects(zip(origin(), M, 'v1.0.0'), InvalidContentError);
  });

  it('follows a redirect on the same host', async () => {
    up.fault(INFO, { redirect: `/elsewhere${INFO}` });
    up.fault(`/elsewhere${INFO}`, { redirect: `${up.url}/${M}/@v/v1.1.0.info`, redirectStatus: 307 });
    const info = JSON.parse((await origin().query(M, 'v1.0.0')).toString()) as { Version: string };
    assert.equal(info.Version, 'v1.1.0');
    assert.deepEqual(up.requests, [INFO, `/elsewhere${INFO}`, `/${M}/@v/v1.1.0.info`]);
  });

  it('refuses a redirect to another host and fetches nothing from it', async () => {
    up.fault(ZIP, { redirect: `${other.url}${ZIP}` });
    await assert.rejects(zip(origin(), M, 'v1.0.0'), (err: Error) => err instanceof UpstreamError && /another host/.test(err.message));
    assert.equal(up.countOf(ZIP), 1);
    assert.equal(other.requests.length, 0);
  });

  it('cancels requests on abort and frees their sockets', async () => {
    const o = origin({ timeoutMs: 10_000 });
    up.fault(INFO, { hang: true });
    const controllers = Array.from({ length: 40 }, () => new AbortController());
    const calls = controllers.map((c) => o.query(M, 'v1.0.0', c.signal));
    await new Promise((r) => setTimeout(r, 100));
    for (const c of controllers) c.abort();
    for (const result of await Promise.allSettled(calls)) {
      assert.equal(result.status, 'rejected');
      assert.equal((result as PromiseRejectedResult).reason.name, 'AbortError');
    }
    up.clearFaults();
    // 40 hung requests exceed the pool's 32 connections: this only answers if aborting freed them.
    const started = Date.now();
    assert.equal(JSON.parse((await o.query(M, 'v1.0.0')).toString()).Version, 'v1.0.0');
    assert.ok(Date.now() - started < 2000);
  });

  it('cancels a zip being streamed on abort', async () => {
    const controller = new AbortController();
    up.fault(ZIP, { stallAfterBytes: 10 });
    const file = scratchFile();
    const written = zip(origin({ timeoutMs: 10_000 }), M, 'v1.0.0', controller.signal, file);
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(written, (err: Error) => err.name === 'AbortError');
    await assert.rejects(stat(file), { code: 'ENOENT' });
  });

  it('sends basic auth from the URL and never shows the password', async () => {
    const url = new URL(up.url);
    url.username = 'user';
    url.password = 's3cret';
    const o = origin({ url: url.href });
    assert.equal(o.name, `http://user:xxxxx@127.0.0.1:${up.port}`);
    await o.list(M);
    assert.equal(up.log[0]?.headers.authorization, `Basic ${Buffer.from('user:s3cret').toString('base64')}`);
    up.fault(INFO, { status: 500 });
    await assert.rejects(o.query(M, 'v1.0.0'), (err: Error) => !err.message.includes('s3cret'));
  });

  it('lists the first field of each line, as go reads a @v/list', async () => {
    await mkdir(join(root, 'tree', 'fields', M, '@v'), { recursive: true });
    await writeFile(join(root, 'tree', 'fields', M, '@v', 'list'), 'v1.10.0\nv1.2.0 2019-01-01T00:00:00Z\n  v1.3.0-rc.1  \n\ngarbage line here\n');
    assert.deepEqual(await origin({ url: `${up.url}/fields/` }).list(M), ['v1.10.0', 'v1.2.0', 'v1.3.0-rc.1', 'garbage']);
  });

  it('keeps a path prefix of the base URL', async () => {
    await mkdir(join(root, 'tree', 'prefix', M, '@v'), { recursive: true });
    await writeFile(join(root, 'tree', 'prefix', M, '@v', 'list'), 'v9.0.0\n');
    assert.deepEqual(await origin({ url: `${up.url}/prefix/` }).list(M), ['v9.0.0']);
  });

  it('observes upstream latency by origin, kind and outcome', async () => {
    const metrics = createMetrics();
    const o = origin({ metrics });
    await o.query(M, 'v1.0.0');
    await zip(o, M, 'v1.0.0');
    await assert.rejects(o.download(M, 'v9.0.0', { mod: true }).mod!, NotFoundError);
    const counts = (await metrics.upstreamSeconds.get()).values
      .filter((v) => v.metricName === 'godepot_upstream_request_seconds_count')
      .map((v) => `${v.labels.kind}:${v.labels.outcome}:${v.value}`)
      .sort();
    assert.deepEqual(counts, ['info:ok:1', 'mod:not_found:1', 'zip:ok:1']);
  });
});
