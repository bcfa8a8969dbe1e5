import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { addModule, type ProxyEntry } from '../../test/support/modgraph.js';
import { startUpstream, type Upstream } from '../../test/support/upstream.js';
import { ProxyOrigin } from '../origin/proxy.js';
import { DiskStorage } from '../storage/disk.js';
import { createMetrics, type Metrics } from '../telemetry/metrics.js';
import { CachingDepot } from './caching-depot.js';
import type { Artifact } from '../protocol/artifact.js';
import { PrefetchingDepot } from './prefetching-depot.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface World {
  upstream: Upstream;
  storage: DiskStorage;
  metrics: Metrics;
  depot: PrefetchingDepot;
  logs: Array<Record<string, unknown>>;
  add(modulePath: string): Promise<ProxyEntry>;
}

async function makeWorld(limit: number): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'godepot-prefetch-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const tree = join(dir, 'tree');
  await mkdir(tree);
  const upstream = await startUpstream({ root: tree });
  cleanups.push(() => upstream.stop());
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const metrics = createMetrics();
  const origin = new ProxyOrigin({ url: upstream.url, timeoutMs: 2000, retries: 0, logger, metrics });
  cleanups.push(() => origin.close());
  const storage = new DiskStorage({ root: join(dir, 'store') });
  const depot = new PrefetchingDepot(new CachingDepot({ storage, origin, logger, metrics, listTtlMs: 60_000 }), { limit, logger });
  cleanups.push(() => depot.close());
  const add = (modulePath: string): Promise<ProxyEntry> =>
    addModule(tree, join(dir, 'work'), modulePath, 'v1.0.0', { 'go.mod': `module ${modulePath}\n\ngo 1.17\n`, 'p.go': 'package p\n' });
  return { upstream, storage, metrics, depot, logs, add };
}

async function bytesOf(artifact: Artifact): Promise<Buffer> {
  if (artifact.body !== undefined) return artifact.body;
  const chunks: Buffer[] = [];
  for await (const chunk of await artifact.open!()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Resolves once `key` is in storage (a fetch in the background committed it). */
async function storedSoon(w: World, key: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await w.storage.stat(key)) !== null) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`${key} was never stored`);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function flightWaits(metrics: Metrics): Promise<number> {
  const { values } = await metrics.flightWaits.get();
  return values.find((v) => v.labels.kind === 'zip')?.value ?? 0;
}

test('after a .info miss the zip is fetched ahead: its request then is a hit, or joins the fetch under way', async () => {
  const w = await makeWorld(4);
  const ahead = await w.add('example.com/ahead');
  assert.equal((await w.depot.info(ahead.modulePath, 'v1.0.0')).cache, 'miss');
  await storedSoon(w, 'example.com/ahead/@v/v1.0.0.ziphash');
  assert.equal((await w.depot.mod(ahead.modulePath, 'v1.0.0')).cache, 'hit');
  const zip = await w.depot.zip(ahead.modulePath, 'v1.0.0');
  assert.equal(zip.cache, 'hit');
  assert.equal(zip.etag, `"${ahead.zipH1}"`);
  assert.deepEqual(await bytesOf(zip), await readFile(ahead.zipFile));
  for (const url of [ahead.urls.info, ahead.urls.mod, ahead.urls.zip]) assert.equal(w.upstream.countOf(url), 1, url);

  const slow = await w.add('example.com/slowzip');
  w.upstream.fault(slow.urls.zip, { delayMs: 300, times: 1 });
  await w.depot.info(slow.modulePath, 'v1.0.0');
  await sleep(50);
  const joined = await w.depot.zip(slow.modulePath, 'v1.0.0');
  assert.deepEqual(await bytesOf(joined), await readFile(slow.zipFile));
  assert.equal(w.upstream.countOf(slow.urls.zip), 1);
  assert.equal(await flightWaits(w.metrics), 1);

  // A .mod too late for the .info's commit: the zip is fetched once it is stored, and it is asked for once.
  const lateMod = await w.add('example.com/latemod');
  w.upstream.fault(lateMod.urls.mod, { delayMs: 200, times: 1 });
  await w.depot.info(lateMod.modulePath, 'v1.0.0');
  await storedSoon(w, 'example.com/latemod/@v/v1.0.0.ziphash');
  assert.equal((await w.depot.mod(lateMod.modulePath, 'v1.0.0')).cache, 'hit');
  assert.equal(w.upstream.countOf(lateMod.urls.mod), 1);
  assert.equal(w.upstream.countOf(lateMod.urls.zip), 1);
});

test('a query, a stored .info and a missing module fetch no zip ahead', async () => {
  const w = await makeWorld(4);
  const entry = await w.add('example.com/query');
  await w.depot.info(entry.modulePath, 'master').catch(() => undefined);
  await w.depot.zip(entry.modulePath, 'v1.0.0');
  const before = w.upstream.countOf(entry.urls.zip);
  assert.equal((await w.depot.info(entry.modulePath, 'v1.0.0')).cache, 'hit');
  await assert.rejects(w.depot.info('example.com/nothere', 'v1.0.0'));
  await sleep(100);
  assert.equal(w.upstream.countOf(entry.urls.zip), before);
  assert.equal(w.upstream.countOf('/example.com/nothere/@v/v1.0.0.zip'), 0);
});

test('zips are fetched ahead a few at a time; a failed one is only logged, and its request fetches it again', async () => {
  const w = await makeWorld(2);
  const entries: ProxyEntry[] = [];
  for (let i = 0; i < 5; i++) {
    const entry = await w.add(`example.com/many${i}`);
    w.upstream.fault(entry.urls.zip, { delayMs: 200, times: 1 });
    entries.push(entry);
  }
  for (const e of entries) await w.depot.info(e.modulePath, 'v1.0.0');
  await sleep(100);
  assert.equal(w.upstream.requests.filter((r) => r.endsWith('.zip')).length, 2, 'two zips are fetched at a time');
  for (const [i] of entries.entries()) await storedSoon(w, `example.com/many${i}/@v/v1.0.0.ziphash`);
  for (const e of entries) assert.equal(w.upstream.countOf(e.urls.zip), 1);

  const broken = await w.add('example.com/broken');
  w.upstream.fault(broken.urls.zip, { status: 500, times: 1 });
  await w.depot.info(broken.modulePath, 'v1.0.0');
  for (let i = 0; i < 100 && !w.logs.some((l) => l.msg === 'fetching the zip ahead of its request failed'); i++) await sleep(10);
  assert.equal(w.logs.find((l) => l.msg === 'fetching the zip ahead of its request failed')?.module, broken.modulePath);
  const zip = await w.depot.zip(broken.modulePath, 'v1.0.0');
  assert.equal(zip.cache, 'miss');
  assert.deepEqual(await bytesOf(zip), await readFile(broken.zipFile));
  assert.equal(w.upstream.countOf(broken.urls.zip), 2);
});

test('a .mod that fails stops the fetch ahead: the upstream is not asked for that .mod again, nor for the zip', async () => {
  const w = await makeWorld(4);
  const entry = await w.add('example.com/badmod');
  // Slow to fail: the .mod fetched along with the .info is still under way when the fetch ahead, and
  // go's own .mod request after the .info, ask for it; both join it.
  w.upstream.fault(entry.urls.mod, { status: 500, delayMs: 300 });
  await w.depot.info(entry.modulePath, 'v1.0.0');
  await assert.rejects(w.depot.mod(entry.modulePath, 'v1.0.0'));
  for (let i = 0; i < 100 && !w.logs.some((l) => l.msg === 'fetching the zip ahead of its request failed'); i++) await sleep(10);
  assert.equal(w.logs.find((l) => l.msg === 'fetching the zip ahead of its request failed')?.module, entry.modulePath);
  await sleep(100);
  assert.equal(w.upstream.countOf(entry.urls.mod), 1, 'the .mod was asked for once, along with the .info');
  assert.equal(w.upstream.countOf(entry.urls.zip), 0);
});

test('close() drops the zips waiting for a turn, finishes those under way, and fetches nothing ahead after', async () => {
  const w = await makeWorld(1);
  const first = await w.add('example.com/first');
  const second = await w.add('example.com/second');
  w.upstream.fault(first.urls.zip, { delayMs: 200, times: 1 });
  await w.depot.info(first.modulePath, 'v1.0.0');
  await w.depot.info(second.modulePath, 'v1.0.0');
  await sleep(50);
  await w.depot.close();
  assert.notEqual(await w.storage.stat('example.com/first/@v/v1.0.0.ziphash'), null, 'the zip under way was finished');
  // The inner depot closed too: what it answered and stores behind the answers is stored.
  assert.notEqual(await w.storage.stat('example.com/second/@v/v1.0.0.info'), null, 'the .info answered was stored');
  assert.notEqual(await w.storage.stat('example.com/second/@v/v1.0.0.mod'), null, 'the .mod fetched along was stored');
  const third = await w.add('example.com/third');
  await w.depot.info(third.modulePath, 'v1.0.0');
  await sleep(100);
  assert.equal(w.upstream.countOf(second.urls.zip), 0);
  assert.equal(w.upstream.countOf(third.urls.zip), 0);
});
