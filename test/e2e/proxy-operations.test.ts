// What operators and HTTP caches see: /healthz, /readyz and /metrics counting requests, hits and misses,
// immutable files served with a strong ETag, 304 on If-None-Match and byte ranges, and --prefetch.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { filesUnder, startGodepot, type GodepotServer } from '../support/godepot-server.js';
import { sample, storedFigures } from '../support/metrics.js';
import { buildModuleGraph, type ModuleGraph, type ProxyEntry } from '../support/modgraph.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

let work: string;
let graph: ModuleGraph;
let upstream: Upstream;
let godepot: GodepotServer;
let zip: ProxyEntry;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'godepot-e2e-ops-'));
  graph = await buildModuleGraph(work);
  upstream = await startUpstream({ root: graph.tree });
  godepot = await startGodepot({ upstream: upstream.url });
  zip = graph.entry('example.com/major/v2', 'v2.1.0');
});

after(async () => {
  await godepot?.dispose();
  await upstream?.stop();
  await rm(work, { recursive: true, force: true });
});

test('/healthz and /readyz answer 200', async () => {
  assert.equal((await fetch(godepot.url + '/healthz')).status, 200);
  assert.equal((await fetch(godepot.url + '/readyz')).status, 200);
});

test('/metrics counts requests by route and status, cache misses and hits', async () => {
  const before = await (await fetch(godepot.url + '/metrics')).text();
  for (let i = 0; i < 3; i++) assert.equal((await fetch(godepot.url + zip.urls.mod)).status, 200);
  assert.equal((await fetch(godepot.url + '/example.com/nowhere/@v/v1.0.0.mod')).status, 404);
  const res = await fetch(godepot.url + '/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const after = await res.text();
  const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
  assert.equal(delta('godepot_requests_total', { route: 'mod', status: '200' }), 3);
  assert.equal(delta('godepot_requests_total', { route: 'mod', status: '404' }), 1);
  assert.equal(delta('godepot_cache_total', { route: 'mod', result: 'miss' }), 1, 'the first .mod was a miss');
  assert.equal(delta('godepot_cache_total', { route: 'mod', result: 'hit' }), 2, 'the others were hits');
  assert.ok(sample(after, 'godepot_upstream_request_seconds_count', {}) > 0, 'upstream latency is observed');
  assert.ok(sample(after, 'godepot_served_bytes_total', { route: 'mod' }) >= 3 * zip.goMod.length);
});

test('/metrics: process and Node.js metrics, build info, durations by route and status class, /metrics counted as `metrics`', async () => {
  assert.equal((await fetch(godepot.url + zip.urls.info)).status, 200);
  await (await fetch(godepot.url + '/metrics')).text();
  const text = await (await fetch(godepot.url + '/metrics')).text();
  assert.ok(sample(text, 'process_cpu_seconds_total', {}) > 0);
  assert.ok(sample(text, 'nodejs_heap_size_total_bytes', {}) > 0);
  const { version } = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(sample(text, 'godepot_build_info', { version, node: process.version }), 1);
  assert.ok(sample(text, 'godepot_request_duration_seconds_count', { route: 'info', status_class: '2xx' }) >= 1);
  assert.ok(sample(text, 'godepot_request_duration_seconds_bucket', { route: 'info', status_class: '2xx', le: '+Inf' }) >= 1);
  assert.ok(sample(text, 'godepot_requests_total', { route: 'metrics', status: '200' }) >= 1);
  assert.equal(sample(text, 'godepot_requests_total', { route: 'other', status: '200' }), 0, 'no scrape counted as other');
});

test('/metrics: the stored modules, versions and bytes, kept as versions are stored and counted again at start', async () => {
  let own = await startGodepot({ upstream: upstream.url });
  try {
    const versions = [graph.entry('example.com/modonly', 'v1.0.0'), graph.entry('example.com/modonly', 'v0.9.0'), graph.entry('example.com/Upper/Mixed', 'v1.0.0')];
    // A zip fetched stores its .info and .mod with it before it is answered.
    for (const entry of versions) assert.equal((await fetch(own.url + entry.urls.zip)).status, 200);
    const stored = await storedFigures(own.storage);
    assert.equal(stored.versions, 3);
    assert.equal(stored.modules, 2);
    const figures = async () => {
      const text = await (await fetch(own.url + '/metrics')).text();
      return { modules: sample(text, 'godepot_stored_modules', {}), versions: sample(text, 'godepot_stored_versions', {}), bytes: sample(text, 'godepot_stored_bytes', {}) };
    };
    assert.deepEqual(await figures(), stored);

    // Counted by a walk of the storage, in the background once the server listens: the figures reach what is stored.
    own = await own.restart();
    let seen = await figures();
    for (let i = 0; i < 200 && seen.bytes !== stored.bytes; i++) {
      await new Promise((r) => setTimeout(r, 10));
      seen = await figures();
    }
    assert.deepEqual(seen, stored);
  } finally {
    await own.dispose();
  }
});

test('a cached zip: strong ETag and long Cache-Control, 304 on If-None-Match, 206 for a Range, HEAD with the length', async () => {
  const bytes = await readFile(zip.zipFile);
  const first = await fetch(godepot.url + zip.urls.zip);
  assert.equal(first.status, 200);
  assert.deepEqual(Buffer.from(await first.arrayBuffer()), bytes);
  const cached = await fetch(godepot.url + zip.urls.zip);
  assert.deepEqual(Buffer.from(await cached.arrayBuffer()), bytes);
  const etag = cached.headers.get('etag');
  assert.ok(etag && /^"[^"]+"$/.test(etag), `strong ETag: ${etag}`);
  assert.equal(first.headers.get('etag'), etag, 'the same ETag on the miss and the hit');
  assert.match(cached.headers.get('cache-control') ?? '', /max-age=\d{6,}/);
  assert.equal(cached.headers.get('content-type'), 'application/zip');

  const notModified = await fetch(godepot.url + zip.urls.zip, { headers: { 'if-none-match': etag } });
  assert.equal(notModified.status, 304);
  assert.equal((await notModified.arrayBuffer()).byteLength, 0);
  const otherTag = await fetch(godepot.url + zip.urls.zip, { headers: { 'if-none-match': '"something-else"' } });
  assert.equal(otherTag.status, 200);
  await otherTag.arrayBuffer();

  const range = await fetch(godepot.url + zip.urls.zip, { headers: { range: 'bytes=10-99' } });
  assert.equal(range.status, 206);
  assert.equal(range.headers.get('content-range'), `bytes 10-99/${bytes.length}`);
  assert.deepEqual(Buffer.from(await range.arrayBuffer()), bytes.subarray(10, 100));
  const suffix = await fetch(godepot.url + zip.urls.zip, { headers: { range: 'bytes=-22' } });
  assert.equal(suffix.status, 206);
  assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), bytes.subarray(bytes.length - 22), 'the end record, as zip readers ask for it');
  const unsatisfiable = await fetch(godepot.url + zip.urls.zip, { headers: { range: `bytes=${bytes.length + 10}-` } });
  assert.equal(unsatisfiable.status, 416);
  await unsatisfiable.arrayBuffer();

  const head = await fetch(godepot.url + zip.urls.zip, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(bytes.length));
  assert.equal(head.headers.get('etag'), etag);
});

test('list is not cached as immutable', async () => {
  const list = await fetch(godepot.url + graph.entry('example.com/app/log', 'v1.0.0').urls.list);
  assert.equal(list.status, 200);
  const versions = (await list.text()).split('\n');
  assert.equal(versions.pop(), '', 'one version a line, each ending in a newline');
  assert.deepEqual(versions.sort(), ['v1.0.0', 'v1.1.0', 'v1.2.0', 'v1.3.0-beta.1']);
  assert.equal(list.headers.get('etag'), null);
  assert.doesNotMatch(list.headers.get('cache-control') ?? '', /immutable|max-age=\d{6,}/);
});

test('--prefetch: after a .info miss the zip is fetched ahead by default, and not at all with --prefetch 0', async () => {
  const ahead = graph.entry('example.com/deep/a', 'v1.0.0');
  const notAhead = graph.entry('example.com/deep/b', 'v1.0.0');
  const quiet = await startGodepot({ upstream: upstream.url, args: ['--prefetch', '0'] });
  try {
    assert.equal((await fetch(godepot.url + ahead.urls.info)).status, 200);
    assert.equal((await fetch(quiet.url + notAhead.urls.info)).status, 200);
    // Stopped gracefully: its stores are done, and a fetch ahead would have been too.
    await quiet.stop();
    for (let i = 0; i < 100 && upstream.countOf(ahead.urls.zip) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(upstream.countOf(ahead.urls.zip), 1, 'the default fetched the zip ahead');
    assert.equal(upstream.countOf(notAhead.urls.zip), 0, '--prefetch 0 fetched no zip');
    assert.ok((await filesUnder(quiet.storage)).includes(notAhead.urls.info.slice(1)), 'the .info answered was stored');
  } finally {
    await quiet.dispose();
  }
});
