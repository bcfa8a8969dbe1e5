import '../../test/support/test-hosts.js';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { startForwardProxy, type ForwardProxy } from '../../test/support/forward-proxy.js';
import { discard } from '../../test/support/streams.js';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';
import { NotFoundError, TimeoutError, UpstreamError } from '../errors.js';
import { createMetrics, type Metrics } from '../telemetry/metrics.js';
import { UpstreamDownError } from './breaker.js';
import { Transport, type TransportOptions } from './transport.js';
import { UpstreamClient, type UpstreamClientOptions } from './upstream-client.js';

const INFO = 'example.com/m/@v/v1.0.0.info';
const ZIP = 'example.com/m/@v/v1.0.0.zip';
const INFO_BODY = '{"Version":"v1.0.0","Time":"2023-01-02T03:04:05Z"}';

let root: string;
let up: Upstream;
const opened: Array<{ close(): Promise<void> }> = [];

/** Resolves once `check` holds, polling for at most `ms` (a liveness bound, never a measurement). */
async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  for (const started = Date.now(); !check(); await sleep(20)) {
    if (Date.now() - started > ms) assert.fail(`not within ${ms} ms`);
  }
}

function client(options: Partial<UpstreamClientOptions> = {}): UpstreamClient {
  const c = new UpstreamClient({ url: up.url, timeoutMs: 500, retries: 2, retryDelayMs: 5, ...options });
  opened.push(c);
  return c;
}

function transport(options: TransportOptions = {}): Transport {
  const t = new Transport({ timeoutMs: 500, ...options });
  opened.push(t);
  return t;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'godepot-http-'));
  await mkdir(join(root, 'example.com', 'm', '@v'), { recursive: true });
  await writeFile(join(root, INFO), INFO_BODY);
  await writeFile(join(root, ZIP), Buffer.alloc(100_000, 7));
  up = await startUpstream({ root });
});

after(async () => {
  await up.stop();
  await rm(root, { recursive: true, force: true });
});

beforeEach(() => {
  up.clearFaults();
  up.clearLog();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

describe('UpstreamClient time limits', () => {
  it('cuts a trickling .info one window after its headers, with TimeoutError, and lets go of the connection', async () => {
    up.fault(`/${INFO}`, { bytesPerSecond: 4 });
    const c = client();
    const started = Date.now();
    await assert.rejects(c.getBytes(INFO, 'info'), (err: Error) => err instanceof TimeoutError && /v1\.0\.0\.info: body below 65536 B\/s for 0\.5 s \(\d+ bytes in that time\)$/.test(err.message));
    assert.ok(Date.now() - started < 5000, 'cut long before the 12 s the body would take');
    await eventually(() => up.log[0]!.closed);
    assert.equal(up.log[0]!.finished, false, 'the connection was cut, not left to trickle');
    // A slow body is only slow: the host is not taken to be down.
    up.clearFaults();
    assert.equal((await c.getBytes(INFO, 'info')).toString(), INFO_BODY);
  });

  it('cuts a trickling zip stream the same way', async () => {
    up.fault(`/${ZIP}`, { bytesPerSecond: 2000 });
    const c = client();
    await assert.rejects(async () => pipeline(await c.getStream(ZIP, 'zip'), discard()), (err: Error) => err instanceof TimeoutError && /body below/.test(err.message));
    await eventually(() => up.log[0]!.closed);
    assert.equal(up.log[0]!.finished, false);
  });

  it('never cuts a large body above the minimum rate, though it lasts many windows', async () => {
    // 3 MiB at 1 MiB/s with a 0.5 s window: six windows, each far above 64 KiB/s.
    up.fault(`/${ZIP}`, { bodyBytes: 3 << 20, bytesPerSecond: 1 << 20 });
    let size = 0;
    const started = Date.now();
    await pipeline(await client().getStream(ZIP, 'zip'), async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) size += chunk.length;
    });
    assert.equal(size, 3 << 20);
    assert.ok(Date.now() - started > 1000, 'the body really took several windows');
  });

  it('with no minimum rate, still cuts a body that stops', async () => {
    up.fault(`/${ZIP}`, { stallAfterBytes: 1000 });
    await assert.rejects(async () => pipeline(await client({ minRate: 0 }).getStream(ZIP, 'zip'), discard()), (err: Error) => err instanceof TimeoutError && /body stopped for 0\.5 s/.test(err.message));
  });

  it('counts the wait for headers from the call, time queued for a connection included', async () => {
    // 33 calls, 32 connections: the last one gets a connection only when a first answer is done (after
    // 1 s), and its own answer would come 1 s later, past its 1.5 s.
    up.fault(`/${INFO}`, { delayMs: 1000 });
    const c = client({ timeoutMs: 1500 });
    const results = await Promise.allSettled(Array.from({ length: 33 }, () => c.getBytes(INFO, 'info')));
    const failures = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error);
    assert.equal(failures.length, 1, failures.map((f) => f.message).join('\n'));
    assert.ok(failures[0] instanceof TimeoutError);
    assert.match(failures[0].message, /no response headers within 1\.5 s$/);
    // The others were answered meanwhile: the host is busy, not down, and stays open to calls.
    up.clearFaults();
    assert.equal((await c.getBytes(INFO, 'info')).toString(), INFO_BODY);
  });

  it('a call that waited in line behind 32 bodies still flowing does not take the host for down', async () => {
    // 32 zips at 200 KiB/s (above the minimum rate) hold every connection for 2 s; the 33rd call has
    // no connection within its 1 s, though the host sends bytes all along.
    up.fault(`/${ZIP}`, { bodyBytes: 400 << 10, bytesPerSecond: 200 << 10 });
    const c = client({ timeoutMs: 1000 });
    const zips = Array.from({ length: 32 }, async () => pipeline(await c.getStream(ZIP, 'zip'), discard()));
    await assert.rejects(c.getBytes(INFO, 'info'), (err: Error) => err instanceof TimeoutError && /no response headers/.test(err.message));
    await Promise.all(zips);
    assert.equal((await c.getBytes(INFO, 'info')).toString(), INFO_BODY);
  });
});

describe('UpstreamClient breaker', () => {
  it('after a blackholed upstream timed out once, fails every call at once, the waiting ones too, naming it and since when', async () => {
    up.fault('*', { hang: true });
    const shared = transport();
    const c = client({ transport: shared });
    const first = c.getBytes(INFO, 'info');
    await sleep(200);
    // Waiting when the first call times out: without the breaker they would wait their own 5 s.
    const patient = client({ transport: shared, timeoutMs: 5000 });
    const waitingStarted = Date.now();
    const waiting = await Promise.allSettled([patient.getBytes('example.com/m/@v/list', 'list'), patient.getBytes('example.com/m/@latest', 'latest')]);
    assert.ok(Date.now() - waitingStarted < 4000, 'the waiting calls failed when the breaker opened');
    await assert.rejects(first, TimeoutError);
    for (const result of waiting) assert.ok((result as PromiseRejectedResult).reason instanceof UpstreamDownError);

    const asked = up.requests.length;
    const started = Date.now();
    await assert.rejects(c.getBytes(INFO, 'info'), (err: Error) => {
      assert.ok(err instanceof UpstreamDownError && err instanceof UpstreamError);
      assert.match(err.message, new RegExp(`^upstream http://127\\.0\\.0\\.1:${up.port} considered down since \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z \\(reading .*: no response headers within 0\\.5 s\\)`));
      return true;
    });
    assert.ok(Date.now() - started < 400, 'failed at once, inside the 0.5 s time limit');
    assert.equal(up.requests.length, asked, 'the upstream was not asked');
  });

  it('opens on refused connections after the retries and on 503s; never on 404, 410, 500 or 502', async () => {
    for (const status of [404, 410, 500, 502]) {
      up.fault(`/${INFO}`, { status });
      const c = client();
      await assert.rejects(c.getBytes(INFO, 'info'));
      await assert.rejects(c.getBytes(INFO, 'info'), (err: Error) => !(err instanceof UpstreamDownError));
    }
    up.fault(`/${INFO}`, { status: 503 });
    const c = client();
    await assert.rejects(c.getBytes(INFO, 'info'), (err: Error) => err instanceof UpstreamError && err.status === 503);
    // Two calls each: 404 and 410 are not retried, 500 and 502 are (three attempts), and the 503s once over.
    assert.equal(up.countOf(`/${INFO}`), 2 + 2 + 6 + 6 + 3);
    await assert.rejects(c.getBytes(INFO, 'info'), UpstreamDownError);

    const gone = await startUpstream({ root });
    const refused = client({ url: gone.url });
    await gone.stop();
    await assert.rejects(refused.getBytes(INFO, 'info'), (err: Error) => err instanceof UpstreamError && !(err instanceof UpstreamDownError) && /ECONNREFUSED/.test(err.message));
    await assert.rejects(refused.getBytes(INFO, 'info'), UpstreamDownError);
  });

  it('is shared by the clients of one host through their transport, and probes it until it answers', async () => {
    const logs: Array<{ msg: string; level: number }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string; level: number }) });
    const metrics: Metrics = createMetrics();
    const shared = transport({ firstProbeMs: 20, maxProbeMs: 100, logger, metrics });
    const modules = client({ transport: shared, logger, metrics });
    const other = client({ url: `${up.url}/prefix/`, transport: shared, logger, metrics });
    up.fault('*', { hang: true });
    await assert.rejects(modules.getBytes(INFO, 'info'), TimeoutError);
    await assert.rejects(other.getBytes('sumdb/x/supported', 'sumdb'), UpstreamDownError);
    const gauge = async (): Promise<number | undefined> => (await metrics.upstreamUp.get()).values.find((v) => v.labels.origin === up.url)?.value;
    assert.equal(await gauge(), 0);
    // The probes hang too, until the upstream answers again.
    await sleep(300);
    up.clearFaults();
    await eventually(() => logs.some((l) => l.msg === 'upstream recovered'));
    assert.equal((await modules.getBytes(INFO, 'info')).toString(), INFO_BODY);
    await assert.rejects(other.getBytes('sumdb/x/supported', 'sumdb'), NotFoundError);
    assert.equal(await gauge(), 1);
    assert.deepEqual(
      logs.filter((l) => /^upstream (considered down|recovered)$/.test(l.msg)).map((l) => [l.level, l.msg]),
      [
        [40, 'upstream considered down'],
        [30, 'upstream recovered'],
      ],
    );
    assert.ok(up.log.some((r) => r.path === '/'), 'the probe asked for /');
  });

  it('stops retrying when the host is found down during the backoff', async () => {
    up.fault(`/${INFO}`, { status: 503 });
    up.fault('/example.com/m/@v/list', { hang: true });
    const shared = transport();
    // Its first backoff is 2 to 4 s; the other call finds the host down after 0.5 s.
    const retrying = client({ transport: shared, retries: 5, retryDelayMs: 4000, timeoutMs: 30_000 });
    const hanging = client({ transport: shared });
    const started = Date.now();
    const [retried, hung] = await Promise.allSettled([retrying.getBytes(INFO, 'info'), hanging.getBytes('example.com/m/@v/list', 'list')]);
    assert.ok((hung as PromiseRejectedResult).reason instanceof TimeoutError, String((hung as PromiseRejectedResult).reason));
    // The failure it had, not the breaker's: it gave up in its backoff.
    assert.equal(((retried as PromiseRejectedResult).reason as UpstreamError).status, 503);
    assert.ok(Date.now() - started < 2000, 'the backoff was cut short');
    assert.equal(up.countOf(`/${INFO}`), 1);
  });
});

describe('UpstreamClient through an outbound proxy', () => {
  let proxy: ForwardProxy;

  before(async () => {
    proxy = await startForwardProxy({ credentials: 'user:s3cret' });
  });

  after(async () => {
    await proxy.stop();
  });

  it('asks for http targets in absolute form through HTTP_PROXY, with Proxy-Authorization', async () => {
    proxy.log.length = 0;
    const via = transport({ proxy: { http: `http://user:s3cret@127.0.0.1:${proxy.port}/`, https: null, noProxy: '' } });
    const target = `http://upstream.godepot.test:${up.port}`;
    const c = client({ url: target, transport: via });
    assert.equal((await c.getBytes(INFO, 'info')).toString(), INFO_BODY);
    await assert.rejects(c.getBytes('example.com/m/@v/v9.0.0.info', 'info'), NotFoundError);
    assert.deepEqual(
      proxy.log.map((r) => [r.method, r.target, r.proxyAuthorization]),
      [
        ['GET', `${target}/${INFO}`, `Basic ${Buffer.from('user:s3cret').toString('base64')}`],
        ['GET', `${target}/example.com/m/@v/v9.0.0.info`, `Basic ${Buffer.from('user:s3cret').toString('base64')}`],
      ],
    );
    assert.equal(up.countOf(`/${INFO}`), 1);
  });

  it('fails with an UpstreamError naming the proxy, never its password, when the proxy is dead or refuses', async () => {
    const dead = await startForwardProxy();
    await dead.stop();
    const c = client({ url: `http://upstream.godepot.test:${up.port}`, transport: transport({ proxy: { http: `http://user:s3cret@127.0.0.1:${dead.port}`, https: null, noProxy: '' } }) });
    await assert.rejects(c.getBytes(INFO, 'info'), (err: Error) => {
      assert.ok(err instanceof UpstreamError);
      assert.match(err.message, new RegExp(`via proxy http://user:xxxxx@127\\.0\\.0\\.1:${dead.port}: .*ECONNREFUSED`));
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    });
    const wrong = client({ url: `http://upstream.godepot.test:${up.port}`, transport: transport({ proxy: { http: `http://user:wrong@127.0.0.1:${proxy.port}`, https: null, noProxy: '' } }) });
    await assert.rejects(wrong.getBytes(INFO, 'info'), (err: Error) => err instanceof UpstreamError && /407/.test(err.message) && !err.message.includes('wrong'));
  });
});
